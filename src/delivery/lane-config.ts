// What a lane needs to know about what it delivers to (a webhook, or a workspace's alertUrl), read from its D1 row
// in one place and versioned by the row's updatedAt. Secrets and headers travel sealed, as D1 holds them: the lane
// stores them so and opens them only to sign and send (sending.ts).
import { alertLaneName, type DataLocation } from "../bindings";
import type { DeliveryMode, DisabledReason, WebhookRow, WorkspaceRow } from "../db/schema";
import type { Sealed } from "../lib/encryption";
import type { SigningKeys } from "../lib/rotation";
import type { LaneKind } from "./lane/schema";
import type { BatchSettings, OrderingSettings } from "./ordering";

/** SigningKeys as stored: every secret and private key sealed (src/lib/encryption.ts). */
export interface SealedKeys extends SigningKeys {
  secret: Sealed;
  previousSecret: Sealed | null;
  signingKey?: Sealed | null;
  previousSigningKey?: Sealed | null;
}

export interface LaneConfig extends SealedKeys, Partial<OrderingSettings> {
  webhookId: string;
  workspaceId: string;
  url: string;
  enabled: boolean;
  disabledReason: DisabledReason | null;
  /** Endpoint controls the lane applies: attempts started per second, its own retry schedule, headers sent. */
  rateLimitPerSecond: number | null;
  retryDelaysSeconds: number[] | null;
  /** The webhook's own headers: a JSON object, sealed. */
  headers: Sealed;
  /** When the endpoint at `url` (a webhook's, or the workspace's alertUrl) was verified (docs/signatures.md); null while it is not. */
  verifiedAt?: number | null;
  /** The webhook's updatedAt (unix ms): a lane ignores a config older than the one it holds. */
  version: number;
  /** What the lane delivers (schema.ts LaneKind); set when the lane is first written, default webhook. */
  kind?: LaneKind;
  /** The workspace's data location: the jurisdiction of the quota object the lane reports failures to. */
  dataLocation: DataLocation | null;
  /** push (default), or poll: the lane never attempts, its consumer reads the stream (poll.ts). */
  delivery?: DeliveryMode;
  /** Ordered batches (docs/batches.md); null or absent (a config from before them): one event per request. */
  batch?: BatchSettings | null;
}

/** What the queue consumer tells a lane of its webhook: which one, and the config version routing saw. */
export interface LaneRef {
  webhookId: string;
  version: number;
}

/** Signing keys (HMAC secrets and Ed25519 private keys) from a row's columns: a webhook's, or a workspace's alert columns. */
function signingKeysOf(columns: {
  secret: Sealed;
  previousSecret: Sealed | null;
  previousSecretExpiresAt: Date | null;
  signingKey: Sealed | null;
  previousSigningKey: Sealed | null;
}): SealedKeys {
  return {
    secret: columns.secret,
    previousSecret: columns.previousSecret ?? null,
    previousSecretExpiresAt: columns.previousSecretExpiresAt?.getTime() ?? null,
    signingKey: columns.signingKey ?? null,
    previousSigningKey: columns.previousSigningKey ?? null,
  };
}

export function laneConfigOf(row: WebhookRow): LaneConfig {
  return {
    webhookId: row.id,
    workspaceId: row.workspaceId,
    url: row.url,
    ...signingKeysOf(row),
    verifiedAt: row.verifiedAt?.getTime() ?? null,
    enabled: row.enabled,
    disabledReason: row.disabledReason ?? null,
    rateLimitPerSecond: row.rateLimitPerSecond ?? null,
    retryDelaysSeconds: row.retryDelaysSeconds ?? null,
    headers: row.headers,
    ordering: row.ordering,
    orderingKey: row.orderingKey ?? null,
    maxInFlight: row.maxInFlight,
    concurrency: row.concurrency,
    batch: row.batch ?? null,
    version: row.updatedAt.getTime(),
    dataLocation: row.dataLocation ?? null,
    delivery: row.delivery,
  };
}

/**
 * What a workspace's alerts lane (src/alerts) is told: its alertUrl, off (as if by hand) while it has none, with no
 * endpoint controls; undefined before alertUrl was ever set (no secret yet).
 */
export function alertLaneConfig(workspace: WorkspaceRow): LaneConfig | undefined {
  if (!workspace.alertSecret) return undefined;
  return {
    kind: "alerts",
    webhookId: alertLaneName(workspace.id),
    workspaceId: workspace.id,
    url: workspace.alertUrl ?? "",
    ...signingKeysOf({
      secret: workspace.alertSecret,
      previousSecret: workspace.alertPreviousSecret,
      previousSecretExpiresAt: workspace.alertPreviousSecretExpiresAt,
      signingKey: workspace.alertSigningKey,
      previousSigningKey: workspace.alertPreviousSigningKey,
    }),
    verifiedAt: workspace.alertUrlVerifiedAt?.getTime() ?? null,
    enabled: workspace.alertUrl !== null,
    disabledReason: workspace.alertUrl === null ? "manual" : null,
    rateLimitPerSecond: null,
    retryDelaysSeconds: null,
    // An alerts lane sends no headers of its own: nothing secret, so the empty object is kept as it is.
    headers: "{}" as Sealed,
    version: workspace.updatedAt.getTime(),
    dataLocation: workspace.dataLocation ?? null,
  };
}
