// Writing the lane's one row from a webhook's config (what changes with it, including the ordering epoch), and its tombstone.
import type { LaneConfig } from "../lane-config";
import { defaultMaxInFlight, LINE_KEY } from "../ordering";
import type { LaneRow } from "./schema";

const UPSERT_LANE = `
  INSERT INTO lane (singleton, webhook_id, workspace_id, url, secret, previous_secret, previous_secret_expires_at,
                    enabled, disabled_reason, rate_limit_per_second, retry_delays, headers, config_version, kind,
                    signing_key, previous_signing_key, verified_at, data_location, delivery,
                    ordering, ordering_path, max_in_flight, ordering_epoch, concurrency, batch_max_events, batch_max_wait_ms)
  VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (singleton) DO UPDATE SET url = excluded.url, secret = excluded.secret, previous_secret = excluded.previous_secret,
    previous_secret_expires_at = excluded.previous_secret_expires_at, enabled = excluded.enabled,
    signing_key = excluded.signing_key, previous_signing_key = excluded.previous_signing_key,
    -- The lane may know of a verification D1 does not have yet; it holds for as long as the url stays.
    verified_at = CASE WHEN lane.url = excluded.url THEN COALESCE(lane.verified_at, excluded.verified_at) ELSE excluded.verified_at END,
    verified_sync_pending = CASE WHEN lane.url = excluded.url AND excluded.verified_at IS NULL THEN lane.verified_sync_pending ELSE 0 END,
    disabled_reason = excluded.disabled_reason, rate_limit_per_second = excluded.rate_limit_per_second,
    retry_delays = excluded.retry_delays, headers = excluded.headers, config_version = excluded.config_version, d1_sync_pending = 0,
    ordering = excluded.ordering, ordering_path = excluded.ordering_path, max_in_flight = excluded.max_in_flight,
    ordering_epoch = excluded.ordering_epoch, concurrency = excluded.concurrency,
    batch_max_events = excluded.batch_max_events, batch_max_wait_ms = excluded.batch_max_wait_ms`;

/** A deleted webhook's row: what refuses the events still arriving for it, and no secret, sealed or not. */
export const TOMBSTONE = `UPDATE lane SET deleted = 1, line_start = '', secret = '', previous_secret = NULL, signing_key = NULL,
  previous_signing_key = NULL, headers = '{}'`;

/**
 * Writes `config` over the row `current` (absent for a new lane); the caller runs it in a transaction. A newer
 * config already is the webhook's state in D1, so an unsynced disable of the lane's own is superseded.
 */
export function writeLaneRow(sql: SqlStorage, config: LaneConfig, current: LaneRow | undefined): void {
  const ordering = config.ordering ?? "endpoint";
  const orderingPath = ordering === "key" ? (config.orderingKey ?? null) : null;
  // A change of ordering or key path starts an epoch: events stored from now on wait for the earlier ones (keyed-line.ts).
  const changed = current !== undefined && (current.ordering !== ordering || current.ordering_path !== orderingPath);
  sql.exec(
    UPSERT_LANE,
    config.webhookId,
    config.workspaceId,
    config.url,
    config.secret,
    config.previousSecret,
    config.previousSecretExpiresAt,
    config.enabled ? 1 : 0,
    config.disabledReason,
    config.rateLimitPerSecond,
    config.retryDelaysSeconds && JSON.stringify(config.retryDelaysSeconds),
    config.headers,
    config.version,
    config.kind ?? "webhook",
    config.signingKey ?? null,
    config.previousSigningKey ?? null,
    config.verifiedAt ?? null,
    config.dataLocation,
    config.delivery ?? "push",
    ordering,
    orderingPath,
    config.maxInFlight ?? defaultMaxInFlight(ordering),
    (current?.ordering_epoch ?? 0) + (changed ? 1 : 0),
    // Only "key" and "none" adapt; a config from before concurrency existed is fixed.
    ordering === "endpoint" ? "fixed" : (config.concurrency ?? "fixed"),
    // A polling lane never sends, so never batches.
    config.delivery === "poll" ? null : (config.batch?.maxEvents ?? null),
    config.delivery === "poll" ? null : (config.batch?.maxWaitMs ?? null),
  );
  // Leaving "endpoint": what it held pending becomes one key, in line order, of the epoch it was stored in.
  if (current?.ordering === "endpoint" && ordering !== "endpoint") {
    sql.exec("UPDATE events SET ordering_key = ? WHERE status = 'pending' AND ordering_key IS NULL", LINE_KEY);
  }
}
