// The lane's storage: its one schema, its row types, the writes of the delivery loop, and when its alarm is due.
//
// Until the first tagged release this schema is edited in place (README "Storage schemas"): nothing has been
// deployed, so there is no stored lane to migrate.
import { monotonicFactory } from "ulidx";
import type { DisabledReason } from "../../db/schema";
import type { LaneConfig } from "../lane-config";

export type DeliveryStatus = "pending" | "delivered" | "dropped" | "skipped";

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS lane (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    webhook_id TEXT NOT NULL,
    workspace_id TEXT NOT NULL,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_secret_expires_at INTEGER,
    enabled INTEGER NOT NULL,
    disabled_reason TEXT,
    rate_limit_per_second INTEGER,
    retry_delays TEXT,
    headers TEXT NOT NULL DEFAULT '{}',
    config_version INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    alarm_at INTEGER,
    d1_sync_pending INTEGER NOT NULL DEFAULT 0
  );
  -- Clustered on the event id (WITHOUT ROWID: no separate key index), one row per event ever handed over.
  CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY,
    order_key TEXT NOT NULL,
    line_key TEXT NOT NULL,
    type TEXT NOT NULL,
    body TEXT NOT NULL,
    accepted_at INTEGER NOT NULL,
    status TEXT NOT NULL,
    attempt_count INTEGER NOT NULL DEFAULT 0,
    round_attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    finished_at INTEGER,
    test INTEGER NOT NULL DEFAULT 0
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS events_by_status ON events (status, order_key);
  -- Pending events only, by place in line: the head query reads one entry.
  CREATE INDEX IF NOT EXISTS events_in_line ON events (line_key) WHERE status = 'pending';
  CREATE INDEX IF NOT EXISTS events_by_order ON events (order_key);
  CREATE INDEX IF NOT EXISTS events_by_type ON events (type, order_key);
  CREATE INDEX IF NOT EXISTS events_by_finished ON events (finished_at) WHERE finished_at IS NOT NULL;
  CREATE TABLE IF NOT EXISTS attempts (
    event_id TEXT NOT NULL,
    n INTEGER NOT NULL,
    at INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    status_code INTEGER,
    error TEXT,
    response_body TEXT,
    PRIMARY KEY (event_id, n)
  ) WITHOUT ROWID;
`;

/** The lane's one row: its webhook's config as last handed over, and its own bookkeeping. */
export interface LaneRow {
  webhook_id: string;
  workspace_id: string;
  url: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: number | null;
  enabled: number;
  disabled_reason: DisabledReason | null;
  rate_limit_per_second: number | null;
  /** JSON list of seconds; null = the service's RETRY_DELAYS_SECONDS. */
  retry_delays: string | null;
  /** JSON object of the webhook's own headers. */
  headers: string;
  config_version: number;
  deleted: number;
  /** The time the alarm was last armed for: an alarm run treats everything due by then as due. */
  alarm_at: number | null;
  /** Set when the lane disabled itself but could not yet write that to D1. */
  d1_sync_pending: number;
  [key: string]: SqlStorageValue;
}

export interface EventRow {
  id: string;
  /** Acceptance order: the log's order. */
  order_key: string;
  /** The event's place in the delivery line: its order key, or a later one once retried or recovered. */
  line_key: string;
  type: string;
  body: string;
  accepted_at: number;
  status: DeliveryStatus;
  /** Attempts ever made; numbers the attempts in the log. */
  attempt_count: number;
  /** Attempts since it was (re)queued; drives the retry schedule. */
  round_attempts: number;
  next_attempt_at: number;
  finished_at: number | null;
  test: number;
  [key: string]: SqlStorageValue;
}

export interface AttemptRow {
  event_id: string;
  n: number;
  at: number;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
  response_body: string | null;
  [key: string]: SqlStorageValue;
}

/** An event as it is first stored: in line (pending), already skipped, or a test event already tried. */
export interface NewEvent {
  id: string;
  order_key: string;
  type: string;
  body: string;
  accepted_at: number;
  status: DeliveryStatus;
  next_attempt_at: number;
  finished_at: number | null;
  /** Attempts already made (a test event is stored after its one attempt). */
  attempts?: number;
  test?: boolean;
}

/** What an attempt left behind, as the store records it. */
export interface AttemptOutcome {
  at: number;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
  responseBody: string | null;
}

/** How soon a lane retries recording its own disable in D1 after that failed. */
export const SYNC_RETRY_MS = 5_000;

/**
 * When the lane's single alarm is due: the earliest of retrying an unsynced disable, the head's next
 * attempt (while enabled; not before the rate limit's next token) and the oldest finished event's expiry;
 * null when there is nothing to do.
 */
export function nextAlarmAt(input: {
  lane: LaneRow | undefined;
  head: EventRow | undefined;
  oldestFinishedAt: number | null;
  retentionMs: number;
  now: number;
  /** When the rate limit lets the next attempt start (0 without a limit). */
  tokenAt?: number;
}): number | null {
  const { lane, head, oldestFinishedAt, retentionMs, now, tokenAt = 0 } = input;
  if (!lane || lane.deleted) return null;
  const candidates: number[] = [];
  if (lane.d1_sync_pending) candidates.push(now + SYNC_RETRY_MS);
  if (lane.enabled && head) candidates.push(Math.max(head.next_attempt_at, tokenAt));
  if (oldestFinishedAt !== null) candidates.push(oldestFinishedAt + retentionMs);
  return candidates.length > 0 ? Math.min(...candidates) : null;
}

const lineKey = monotonicFactory();

export class LaneStore {
  readonly sql: SqlStorage;

  constructor(readonly storage: DurableObjectStorage) {
    this.sql = storage.sql;
    this.sql.exec(SCHEMA);
  }

  lane(): LaneRow | undefined {
    return this.sql.exec<LaneRow>("SELECT * FROM lane").toArray()[0];
  }

  event(id: string): EventRow | undefined {
    return this.sql.exec<EventRow>("SELECT * FROM events WHERE id = ?", id).toArray()[0];
  }

  /** The next event in line: the first pending one by its place in line. */
  head(): EventRow | undefined {
    return (
      this.sql
        // Named, because the planner would otherwise take events_by_status and sort every pending event.
        .exec<EventRow>("SELECT * FROM events INDEXED BY events_in_line WHERE status = 'pending' ORDER BY line_key LIMIT 1")
        .toArray()[0]
    );
  }

  /** Stores an event unless the lane already holds its id; true when it was stored. */
  insertEvent(event: NewEvent): boolean {
    const attempts = event.attempts ?? 0;
    return (
      this.sql.exec(
        `INSERT INTO events (id, order_key, line_key, type, body, accepted_at, status, attempt_count, round_attempts,
                             next_attempt_at, finished_at, test)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
        event.id,
        event.order_key,
        event.order_key,
        event.type,
        event.body,
        event.accepted_at,
        event.status,
        attempts,
        attempts,
        event.next_attempt_at,
        event.finished_at,
        event.test ? 1 : 0,
      ).rowsWritten > 0
    );
  }

  /**
   * Records a line attempt of `event` and the event's new state, in one transaction; only if the event is
   * still where it was (the webhook may have been deleted or disabled, or the event put back in line,
   * while the request was out). False when it was not.
   */
  recordOutcome(event: EventRow, outcome: AttemptOutcome, state: { status: DeliveryStatus; finishedAt: number | null; nextAttemptAt: number }): boolean {
    const n = event.attempt_count + 1;
    return this.storage.transactionSync(() => {
      const updated = this.sql.exec(
        `UPDATE events SET status = ?, attempt_count = ?, round_attempts = ?, finished_at = ?, next_attempt_at = ?
         WHERE id = ? AND status = 'pending' AND line_key = ?`,
        state.status,
        n,
        event.round_attempts + 1,
        state.finishedAt,
        state.nextAttemptAt,
        event.id,
        event.line_key,
      );
      if (updated.rowsWritten === 0) return false;
      this.recordAttempt(event.id, n, outcome);
      return true;
    });
  }

  recordAttempt(eventId: string, n: number, outcome: AttemptOutcome): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO attempts (event_id, n, at, duration_ms, status_code, error, response_body) VALUES (?, ?, ?, ?, ?, ?, ?)",
      eventId,
      n,
      outcome.at,
      outcome.durationMs,
      outcome.statusCode,
      outcome.error,
      outcome.responseBody,
    );
  }

  /**
   * Puts events back in line, in the order given, behind every event already in line: each gets a place
   * after the last one taken, a fresh retry round, and is due now.
   */
  requeue(ids: string[], now = Date.now()): void {
    if (ids.length === 0) return;
    const last = this.sql.exec<{ last: string | null }>("SELECT MAX(line_key) AS last FROM events").one().last ?? "";
    let keys = ids.map(() => lineKey(now));
    // A place from this clock sorts before the last one taken only if clocks disagree; then extend the last.
    if (keys[0]! <= last) keys = ids.map((_, i) => `${last}.${String(i).padStart(8, "0")}`);
    this.storage.transactionSync(() => {
      ids.forEach((id, i) => {
        this.sql.exec(
          "UPDATE events SET status = 'pending', line_key = ?, round_attempts = 0, next_attempt_at = ?, finished_at = NULL WHERE id = ?",
          keys[i]!,
          now,
          id,
        );
      });
    });
  }

  /** Every dropped or skipped line event accepted at or after `since`, in acceptance order: what recover puts back. */
  recoverable(since: number): string[] {
    return this.sql
      .exec<{ id: string }>("SELECT id FROM events WHERE status IN ('dropped', 'skipped') AND test = 0 AND accepted_at >= ? ORDER BY order_key", since)
      .toArray()
      .map((row) => row.id);
  }

  /** Takes a newer config of the webhook; an older or equal version, or a deleted lane, changes nothing. */
  applyConfig(config: LaneConfig): LaneRow {
    const current = this.lane();
    // The same version is the state the lane already holds: nothing to write (most hand-offs).
    if (current && (current.deleted || config.version <= current.config_version)) return current;
    this.storage.transactionSync(() => {
      // A newer config already is the webhook's state in D1, so an unsynced disable of ours is superseded.
      this.sql.exec(
        `INSERT INTO lane (singleton, webhook_id, workspace_id, url, secret, previous_secret, previous_secret_expires_at,
                           enabled, disabled_reason, rate_limit_per_second, retry_delays, headers, config_version)
         VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (singleton) DO UPDATE SET url = excluded.url, secret = excluded.secret, previous_secret = excluded.previous_secret,
           previous_secret_expires_at = excluded.previous_secret_expires_at, enabled = excluded.enabled,
           disabled_reason = excluded.disabled_reason, rate_limit_per_second = excluded.rate_limit_per_second,
           retry_delays = excluded.retry_delays, headers = excluded.headers, config_version = excluded.config_version, d1_sync_pending = 0`,
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
        JSON.stringify(config.headers),
        config.version,
      );
      if (!config.enabled) this.skipPending();
    });
    return this.lane()!;
  }

  /**
   * The lane turned its own webhook off at `at`: atomically with keeping what it holds as skipped, and
   * flagged until D1 has it too.
   */
  recordDisable(reason: DisabledReason, at: number): void {
    this.storage.transactionSync(() => {
      // Never below the version held: a config handed over while the request was out may be newer than `at`.
      this.sql.exec(
        "UPDATE lane SET enabled = 0, disabled_reason = ?, config_version = MAX(config_version + 1, ?), d1_sync_pending = 1",
        reason,
        at,
      );
      this.skipPending();
    });
  }

  markSynced(): void {
    this.sql.exec("UPDATE lane SET d1_sync_pending = 0");
  }

  /** The webhook was deleted: forget its events and keep a tombstone that refuses any that still arrive. */
  markDeleted(): void {
    this.storage.transactionSync(() => {
      this.sql.exec("UPDATE lane SET deleted = 1, alarm_at = NULL");
      this.sql.exec("DELETE FROM events");
      this.sql.exec("DELETE FROM attempts");
    });
  }

  setAlarmAt(at: number | null): void {
    this.sql.exec("UPDATE lane SET alarm_at = ?", at);
  }

  /** Everything the lane holds, in acceptance order (attempts by time): for tests and debugging. */
  snapshot(): { lane: LaneRow | undefined; events: EventRow[]; attempts: AttemptRow[] } {
    return {
      lane: this.lane(),
      events: this.sql.exec<EventRow>("SELECT * FROM events ORDER BY order_key").toArray(),
      attempts: this.sql.exec<AttemptRow>("SELECT * FROM attempts ORDER BY at, n").toArray(),
    };
  }

  /** A disabled webhook keeps its undelivered events as `skipped`, for recover. */
  private skipPending(): void {
    this.sql.exec("UPDATE events SET status = 'skipped', finished_at = ? WHERE status = 'pending'", Date.now());
  }
}
