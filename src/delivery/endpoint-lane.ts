// The per-endpoint lane: one Durable Object per webhook that stores its events and delivers them in order.
//
// Every fact lives in the object's SQLite storage: the webhook's config (with the previous secret during a
// rotation), each event with its status, place in line and next attempt time, and every attempt, which is
// also the delivery log. The single alarm is always armed from storage (the earliest of: the head's next
// attempt, the oldest finished event's expiry), so an eviction or restart resumes exactly where it was.
import { DurableObject } from "cloudflare:workers";
import { monotonicFactory } from "ulidx";
import { readConfig } from "../config";
import { openDb } from "../db/client";
import type { DisabledReason } from "../db/schema";
import { disableWebhook } from "../db/webhooks";
import type { Env } from "../env";
import type { QueuedEvent } from "../events/queued-event";
import { quotaOf } from "../quota/workspace-quota";
import { attemptDelivery, type AttemptResult } from "./attempt";
import { signingSecrets, type LaneConfig } from "./lane-config";
import { buildBody, signatureHeaders } from "./payload";
import { nextAttemptAt } from "./schedule";

export type DeliveryStatus = "pending" | "delivered" | "dropped" | "skipped";

/** An alarm run delivers at most this many events before yielding (it re-arms at once if more are due). */
const MAX_ATTEMPTS_PER_ALARM = 50;
const MAX_ALARM_RUN_MS = 30_000;
/** How soon a lane retries recording its own disable (D1, the email notice) after that failed. */
const SYNC_RETRY_MS = 5_000;
/** A notice email that fails this many times (e.g. Email Sending not set up) is given up, loudly. */
const MAX_NOTICE_ATTEMPTS = 10;

interface LaneRow {
  webhook_id: string;
  workspace_id: string;
  url: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: number | null;
  enabled: number;
  disabled_reason: DisabledReason | null;
  config_version: number;
  deleted: number;
  /** The time the alarm was last armed for: an alarm run treats everything due by then as due. */
  alarm_at: number | null;
  /** Set when the lane disabled itself but could not yet write that to D1. */
  d1_sync_pending: number;
  /** The time of a quota disable still to be announced by email (through the workspace's quota object); 0 when none. */
  notice_pending: number;
  notice_attempts: number;
  [key: string]: SqlStorageValue;
}

interface EventRow {
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

/**
 * The lane's storage schema, as numbered steps: a lane applies the ones it has not yet applied, so a lane
 * created by an older version of the code is brought up to date in place.
 */
export const MIGRATIONS = [
  `CREATE TABLE IF NOT EXISTS lane (
     singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
     webhook_id TEXT NOT NULL,
     workspace_id TEXT NOT NULL,
     url TEXT NOT NULL,
     secret TEXT NOT NULL,
     enabled INTEGER NOT NULL,
     disabled_reason TEXT,
     config_version INTEGER NOT NULL,
     deleted INTEGER NOT NULL DEFAULT 0,
     alarm_at INTEGER,
     d1_sync_pending INTEGER NOT NULL DEFAULT 0,
     notice_pending INTEGER NOT NULL DEFAULT 0,
     notice_attempts INTEGER NOT NULL DEFAULT 0
   );
   CREATE TABLE IF NOT EXISTS events (
     id TEXT PRIMARY KEY,
     order_key TEXT NOT NULL,
     type TEXT NOT NULL,
     body TEXT NOT NULL,
     accepted_at INTEGER NOT NULL,
     status TEXT NOT NULL,
     attempt_count INTEGER NOT NULL DEFAULT 0,
     next_attempt_at INTEGER NOT NULL,
     created_at INTEGER NOT NULL,
     finished_at INTEGER
   );
   CREATE INDEX IF NOT EXISTS events_by_status ON events (status, order_key);
   CREATE TABLE IF NOT EXISTS attempts (
     event_id TEXT NOT NULL,
     n INTEGER NOT NULL,
     at INTEGER NOT NULL,
     duration_ms INTEGER NOT NULL,
     status_code INTEGER,
     error TEXT,
     response_body TEXT,
     PRIMARY KEY (event_id, n)
   );`,
  // Secret rotation; retry and recover (a place in line apart from the acceptance order, a retry round
  // apart from the total attempts); test events; the delivery log's and retention's indexes.
  `ALTER TABLE lane ADD COLUMN previous_secret TEXT;
   ALTER TABLE lane ADD COLUMN previous_secret_expires_at INTEGER;
   ALTER TABLE events ADD COLUMN line_key TEXT NOT NULL DEFAULT '';
   UPDATE events SET line_key = order_key;
   ALTER TABLE events ADD COLUMN round_attempts INTEGER NOT NULL DEFAULT 0;
   UPDATE events SET round_attempts = attempt_count;
   ALTER TABLE events ADD COLUMN test INTEGER NOT NULL DEFAULT 0;
   UPDATE events SET finished_at = created_at WHERE status = 'skipped' AND finished_at IS NULL;
   CREATE INDEX IF NOT EXISTS events_in_line ON events (status, line_key);
   CREATE INDEX IF NOT EXISTS events_by_order ON events (order_key);
   CREATE INDEX IF NOT EXISTS events_by_type ON events (type, order_key);
   CREATE INDEX IF NOT EXISTS events_by_finished ON events (finished_at) WHERE finished_at IS NOT NULL;`,
  // Fewer rows written per event (docs/BENCHMARKS.md): events and attempts clustered on their primary keys
  // (WITHOUT ROWID, so no separate key index), and a line index that holds pending events only.
  `CREATE TABLE events_v3 (
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
     created_at INTEGER NOT NULL,
     finished_at INTEGER,
     test INTEGER NOT NULL DEFAULT 0
   ) WITHOUT ROWID;
   INSERT INTO events_v3 (id, order_key, line_key, type, body, accepted_at, status, attempt_count, round_attempts,
                          next_attempt_at, created_at, finished_at, test)
     SELECT id, order_key, line_key, type, body, accepted_at, status, attempt_count, round_attempts,
            next_attempt_at, created_at, finished_at, test FROM events;
   DROP TABLE events;
   ALTER TABLE events_v3 RENAME TO events;
   CREATE INDEX events_by_status ON events (status, order_key);
   CREATE INDEX events_in_line ON events (line_key) WHERE status = 'pending';
   CREATE INDEX events_by_order ON events (order_key);
   CREATE INDEX events_by_type ON events (type, order_key);
   CREATE INDEX events_by_finished ON events (finished_at) WHERE finished_at IS NOT NULL;
   CREATE TABLE attempts_v3 (
     event_id TEXT NOT NULL,
     n INTEGER NOT NULL,
     at INTEGER NOT NULL,
     duration_ms INTEGER NOT NULL,
     status_code INTEGER,
     error TEXT,
     response_body TEXT,
     PRIMARY KEY (event_id, n)
   ) WITHOUT ROWID;
   INSERT INTO attempts_v3 SELECT event_id, n, at, duration_ms, status_code, error, response_body FROM attempts;
   DROP TABLE attempts;
   ALTER TABLE attempts_v3 RENAME TO attempts;`,
];

export function migrate(sql: SqlStorage, storage: DurableObjectStorage): void {
  sql.exec("CREATE TABLE IF NOT EXISTS schema_version (singleton INTEGER PRIMARY KEY CHECK (singleton = 1), version INTEGER NOT NULL)");
  const applied = sql.exec<{ version: number }>("SELECT version FROM schema_version").toArray()[0]?.version ?? 0;
  if (applied >= MIGRATIONS.length) return;
  storage.transactionSync(() => {
    for (const step of MIGRATIONS.slice(applied)) sql.exec(step);
    sql.exec("INSERT OR REPLACE INTO schema_version (singleton, version) VALUES (1, ?)", MIGRATIONS.length);
  });
}

/** A delivery as the log shows it: the event's state and every attempt, oldest first. */
export interface DeliveryRecord {
  eventId: string;
  /** Acceptance order; the log pages by it. */
  orderKey: string;
  type: string;
  status: DeliveryStatus;
  test: boolean;
  acceptedAt: number;
  finishedAt: number | null;
  /** When the next attempt is due; null unless pending. */
  nextAttemptAt: number | null;
  attempts: AttemptRecord[];
  /** The exact body sent; only when one delivery is asked for. */
  body?: string;
}

export interface AttemptRecord {
  at: number;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  responseBody: string | null;
}

export interface DeliveryQuery {
  status?: DeliveryStatus | undefined;
  type?: string | undefined;
  limit: number;
  /** Only deliveries accepted before this one (its order key): the next page. */
  before?: string | undefined;
}

/** Why a retry or recover was refused; the API turns these into errors. */
export type Refusal = "not_found" | "disabled" | "already_pending";

/** An attempt as the lane stores it. */
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

const DAY_MS = 86_400_000;
/** Events are kept at least a day whatever RETENTION_DAYS says, so an idempotency key holds for 24 h. */
const MIN_RETENTION_DAYS = 1;
/** One alarm run purges at most this many expired events; it re-arms at once if more are due. */
const PURGE_BATCH = 500;

const lineKey = monotonicFactory();

export class EndpointLane extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /** True while an alarm run is delivering; it re-arms the alarm itself when it ends. */
  private delivering = false;
  /** The attempt in flight, if any: every attempt waits for the one before it, so one request is out at a time. */
  private inFlight: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    migrate(this.sql, ctx.storage);
  }

  /** Stores the events (ignoring ids it already holds) and makes sure the lane will deliver them. */
  async enqueue(config: LaneConfig, events: QueuedEvent[]): Promise<{ stored: number; duplicates: number }> {
    const lane = this.applyConfig(config);
    if (lane.deleted) return { stored: 0, duplicates: 0 };
    const { orderingWindowMs } = readConfig(this.env);
    const now = Date.now();
    // A disabled webhook keeps what arrives as skipped (finished, for retention), for recover.
    const [status, finishedAt]: [DeliveryStatus, number | null] = lane.enabled ? ["pending", null] : ["skipped", now];
    let stored = 0;
    this.ctx.storage.transactionSync(() => {
      for (const event of events) {
        const cursor = this.sql.exec(
          `INSERT INTO events (id, order_key, line_key, type, body, accepted_at, status, next_attempt_at, created_at, finished_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
          event.id,
          event.orderKey,
          event.orderKey,
          event.type,
          buildBody(event),
          event.acceptedAt,
          status,
          // Hold each event for the ordering window after acceptance, so one the queue delivers late
          // can still take its place in line.
          event.acceptedAt + orderingWindowMs,
          now,
          finishedAt,
        );
        if (cursor.rowsWritten > 0) stored++;
      }
    });
    if (stored > 0) await this.scheduleNext();
    return { stored, duplicates: events.length - stored };
  }

  /** Takes a newer config of the webhook (from the API or the consumer); older versions are ignored. */
  async configure(config: LaneConfig): Promise<void> {
    this.applyConfig(config);
    await this.scheduleNext();
  }

  /** The webhook was deleted: forget its events and refuse any that still arrive. */
  async remove(): Promise<void> {
    this.ctx.storage.transactionSync(() => {
      this.sql.exec("UPDATE lane SET deleted = 1, alarm_at = NULL");
      this.sql.exec("DELETE FROM events");
      this.sql.exec("DELETE FROM attempts");
    });
    await this.ctx.storage.deleteAlarm();
  }

  /** The delivery log, newest accepted first. */
  async deliveries(query: DeliveryQuery): Promise<{ data: DeliveryRecord[]; more: boolean }> {
    const where: string[] = [];
    const params: SqlStorageValue[] = [];
    if (query.status) where.push("status = ?"), params.push(query.status);
    if (query.type) where.push("type = ?"), params.push(query.type);
    if (query.before) where.push("order_key < ?"), params.push(query.before);
    const rows = this.sql
      .exec<EventRow>(
        `SELECT * FROM events ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY order_key DESC LIMIT ?`,
        ...params,
        query.limit + 1,
      )
      .toArray();
    const page = rows.slice(0, query.limit);
    return { data: this.records(page), more: rows.length > query.limit };
  }

  /** One delivery with the body that was sent; undefined when the lane holds no such event. */
  async delivery(eventId: string): Promise<DeliveryRecord | undefined> {
    const row = this.event(eventId);
    if (!row) return undefined;
    return { ...this.records([row])[0]!, body: row.body };
  }

  /**
   * Delivers a stored event again: back in line behind everything pending, with a fresh retry schedule.
   * Its earlier attempts stay in the log; new ones follow them.
   */
  async retry(config: LaneConfig, eventId: string): Promise<{ delivery: DeliveryRecord } | { refused: Refusal }> {
    const lane = this.applyConfig(config);
    if (lane.deleted) return { refused: "not_found" };
    const row = this.event(eventId);
    if (!row) return { refused: "not_found" };
    if (!lane.enabled) return { refused: "disabled" };
    if (row.status === "pending") return { refused: "already_pending" };
    this.requeue([eventId]);
    await this.scheduleNext();
    return { delivery: this.records([this.event(eventId)!])[0]! };
  }

  /** Puts every dropped and skipped event accepted since `since` (unix ms) back in line, in acceptance order. */
  async recover(config: LaneConfig, since: number): Promise<{ recovered: number } | { refused: Refusal }> {
    const lane = this.applyConfig(config);
    if (lane.deleted) return { refused: "not_found" };
    if (!lane.enabled) return { refused: "disabled" };
    const ids = this.sql
      .exec<{ id: string }>(
        "SELECT id FROM events WHERE status IN ('dropped', 'skipped') AND test = 0 AND accepted_at >= ? ORDER BY order_key",
        since,
      )
      .toArray()
      .map((row) => row.id);
    this.requeue(ids);
    await this.scheduleNext();
    return { recovered: ids.length };
  }

  /**
   * Sends a test event now, outside the line (it waits only for an attempt already in flight), once, and
   * logs it. It is not retried and does not count against the quota; a disabled webhook gets it too,
   * since a person asked for it, typically to check the endpoint before enabling it.
   */
  async sendTest(config: LaneConfig, event: QueuedEvent): Promise<DeliveryRecord | undefined> {
    const lane = this.applyConfig(config);
    if (lane.deleted) return undefined;
    const body = buildBody(event);
    const result = await this.exclusive(() => this.attempt(this.lane()!, event.id, body));
    const endedAt = result.at + result.durationMs;
    this.ctx.storage.transactionSync(() => {
      this.sql.exec(
        `INSERT INTO events (id, order_key, line_key, type, body, accepted_at, status, attempt_count, round_attempts,
                             next_attempt_at, created_at, finished_at, test)
         VALUES (?, ?, ?, ?, ?, ?, ?, 1, 1, ?, ?, ?, 1)`,
        event.id,
        event.orderKey,
        event.orderKey,
        event.type,
        body,
        event.acceptedAt,
        result.delivered ? "delivered" : "dropped",
        result.at,
        event.acceptedAt,
        endedAt,
      );
      this.recordAttempt(event.id, 1, result);
    });
    await this.scheduleNext();
    return this.records([this.event(event.id)!])[0];
  }

  override async alarm(): Promise<void> {
    this.delivering = true;
    try {
      await this.syncDisable();
      // An alarm fires at or after the time it was armed for; whatever was due by then is due now.
      const clock = Math.max(Date.now(), this.lane()?.alarm_at ?? 0);
      this.purgeExpired(clock);
      const started = Date.now();
      for (let n = 0; n < MAX_ATTEMPTS_PER_ALARM && Date.now() - started < MAX_ALARM_RUN_MS; n++) {
        const lane = this.lane();
        if (!lane || lane.deleted || !lane.enabled) break;
        const head = this.head();
        if (!head || head.next_attempt_at > Math.max(Date.now(), clock)) break;
        await this.deliver(lane, head);
      }
    } finally {
      this.delivering = false;
    }
    await this.scheduleNext();
  }

  private lane(): LaneRow | undefined {
    return this.sql.exec<LaneRow>("SELECT * FROM lane").toArray()[0];
  }

  private event(id: string): EventRow | undefined {
    return this.sql.exec<EventRow>("SELECT * FROM events WHERE id = ?", id).toArray()[0];
  }

  /** The next event in line: the first pending one by its place in line. */
  private head(): EventRow | undefined {
    return this.sql
      // Named, because the planner would otherwise take events_by_status and sort every pending event.
      .exec<EventRow>("SELECT * FROM events INDEXED BY events_in_line WHERE status = 'pending' ORDER BY line_key LIMIT 1")
      .toArray()[0];
  }

  private records(rows: EventRow[]): DeliveryRecord[] {
    const attempts = new Map<string, AttemptRecord[]>(rows.map((row) => [row.id, []]));
    if (rows.length > 0) {
      const found = this.sql.exec<AttemptRow>(
        `SELECT * FROM attempts WHERE event_id IN (${rows.map(() => "?").join(", ")}) ORDER BY event_id, n`,
        ...rows.map((row) => row.id),
      );
      for (const a of found) {
        attempts.get(a.event_id)!.push({
          at: a.at,
          statusCode: a.status_code,
          durationMs: a.duration_ms,
          error: a.error,
          responseBody: a.response_body,
        });
      }
    }
    return rows.map((row) => ({
      eventId: row.id,
      orderKey: row.order_key,
      type: row.type,
      status: row.status,
      test: row.test === 1,
      acceptedAt: row.accepted_at,
      finishedAt: row.finished_at,
      nextAttemptAt: row.status === "pending" ? row.next_attempt_at : null,
      attempts: attempts.get(row.id)!,
    }));
  }

  /**
   * Puts events back in line, in the order given, behind every event already in line: each gets a place
   * after the last one taken, a fresh retry round, and is due now.
   */
  private requeue(ids: string[]): void {
    if (ids.length === 0) return;
    const last = this.sql.exec<{ last: string | null }>("SELECT MAX(line_key) AS last FROM events").one().last ?? "";
    const now = Date.now();
    let keys = ids.map(() => lineKey(now));
    // A place from this clock sorts before the last one taken only if clocks disagree; then extend the last.
    if (keys[0]! <= last) keys = ids.map((_, i) => `${last}.${String(i).padStart(8, "0")}`);
    this.ctx.storage.transactionSync(() => {
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

  private retentionMs(): number {
    return Math.max(readConfig(this.env).retentionDays, MIN_RETENTION_DAYS) * DAY_MS;
  }

  /** When the oldest finished event expires; undefined when nothing is finished. */
  private purgeDueAt(): number | undefined {
    const oldest = this.sql
      .exec<{ oldest: number | null }>("SELECT MIN(finished_at) AS oldest FROM events WHERE finished_at IS NOT NULL")
      .one().oldest;
    return oldest === null ? undefined : oldest + this.retentionMs();
  }

  /** Deletes finished events (delivered, dropped, skipped) older than the retention, with their attempts. */
  private purgeExpired(clock: number): void {
    const cutoff = clock - this.retentionMs();
    const expired = `SELECT id FROM events WHERE finished_at IS NOT NULL AND finished_at <= ? ORDER BY finished_at LIMIT ${PURGE_BATCH}`;
    this.ctx.storage.transactionSync(() => {
      this.sql.exec(`DELETE FROM attempts WHERE event_id IN (${expired})`, cutoff);
      this.sql.exec(`DELETE FROM events WHERE id IN (${expired})`, cutoff);
    });
  }

  private applyConfig(config: LaneConfig): LaneRow {
    const current = this.lane();
    if (!current) {
      this.sql.exec(
        `INSERT INTO lane (singleton, webhook_id, workspace_id, url, secret, previous_secret, previous_secret_expires_at,
                           enabled, disabled_reason, config_version)
         VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        config.webhookId,
        config.workspaceId,
        config.url,
        config.secret,
        config.previousSecret,
        config.previousSecretExpiresAt,
        config.enabled ? 1 : 0,
        config.disabledReason,
        config.version,
      );
      return this.lane()!;
    }
    // The same version is the state the lane already holds: nothing to write (most hand-offs).
    if (current.deleted || config.version <= current.config_version) return current;
    this.ctx.storage.transactionSync(() => {
      // A newer config already is the webhook's state in D1, so an unsynced disable of ours is superseded.
      this.sql.exec(
        `UPDATE lane SET url = ?, secret = ?, previous_secret = ?, previous_secret_expires_at = ?, enabled = ?,
                         disabled_reason = ?, config_version = ?, d1_sync_pending = 0`,
        config.url,
        config.secret,
        config.previousSecret,
        config.previousSecretExpiresAt,
        config.enabled ? 1 : 0,
        config.disabledReason,
        config.version,
      );
      if (!config.enabled) this.skipPending();
    });
    return this.lane()!;
  }

  /** A disabled webhook keeps its undelivered events as `skipped`, for recover. */
  private skipPending(): void {
    this.sql.exec("UPDATE events SET status = 'skipped', finished_at = ? WHERE status = 'pending'", Date.now());
  }

  /**
   * Arms the alarm from storage for the earliest of: retrying an unsynced disable, the head's next
   * attempt, the oldest finished event's expiry. Clears it when there is none.
   */
  private async scheduleNext(): Promise<void> {
    if (this.delivering) return;
    const lane = this.lane();
    const candidates: number[] = [];
    if (lane && !lane.deleted) {
      if (lane.d1_sync_pending || lane.notice_pending) candidates.push(Date.now() + SYNC_RETRY_MS);
      const head = lane.enabled ? this.head() : undefined;
      if (head) candidates.push(head.next_attempt_at);
      const purgeAt = this.purgeDueAt();
      if (purgeAt !== undefined) candidates.push(purgeAt);
    }
    const storage = this.ctx.storage;
    if (candidates.length === 0) {
      if (lane?.alarm_at != null) this.sql.exec("UPDATE lane SET alarm_at = NULL");
      await storage.deleteAlarm();
      return;
    }
    const due = Math.min(...candidates);
    if ((await storage.getAlarm()) !== due) {
      this.sql.exec("UPDATE lane SET alarm_at = ?", due);
      await storage.setAlarm(due);
    }
  }

  /** Runs `task` after the attempt in flight (if any) has ended. */
  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.inFlight.then(task, task);
    this.inFlight = run.catch(() => {});
    return run;
  }

  /** One signed POST of `body` to the lane's endpoint, with the secrets that sign now. */
  private async attempt(lane: LaneRow, eventId: string, body: string): Promise<AttemptResult> {
    const now = Date.now();
    const headers = await signatureHeaders({
      secrets: signingSecrets(
        { secret: lane.secret, previousSecret: lane.previous_secret, previousSecretExpiresAt: lane.previous_secret_expires_at },
        now,
      ),
      id: eventId,
      timestampSeconds: Math.floor(now / 1000),
      body,
    });
    return attemptDelivery(lane.url, body, headers, readConfig(this.env).deliveryTimeoutMs, { allowPrivateUrls: readConfig(this.env).allowPrivateUrls });
  }

  private async deliver(lane: LaneRow, event: EventRow): Promise<void> {
    const config = readConfig(this.env);
    const result = await this.exclusive(() => this.attempt(lane, event.id, event.body));
    const n = event.attempt_count + 1;
    const round = event.round_attempts + 1;
    const endedAt = result.at + result.durationMs;
    const next = result.delivered ? null : nextAttemptAt(round, endedAt, config.retryDelaysSeconds);
    let recorded = false;
    this.ctx.storage.transactionSync(() => {
      const [status, finishedAt, nextAt] = result.delivered
        ? ["delivered", endedAt, event.next_attempt_at]
        : next === null
          ? ["dropped", endedAt, event.next_attempt_at]
          : ["pending", null, next];
      // Only if it is still where it was: the webhook may have been deleted or disabled (and the event even
      // put back in line) while the request was out.
      const updated = this.sql.exec(
        `UPDATE events SET status = ?, attempt_count = ?, round_attempts = ?, finished_at = ?, next_attempt_at = ?
         WHERE id = ? AND status = 'pending' AND line_key = ?`,
        status,
        n,
        round,
        finishedAt,
        nextAt,
        event.id,
        event.line_key,
      );
      if (updated.rowsWritten === 0) return;
      recorded = true;
      this.recordAttempt(event.id, n, result);
    });
    if (!recorded || result.delivered) return;

    const verdict = await this.quota(lane).recordFailure({
      webhookId: lane.webhook_id,
      eventId: event.id,
      at: endedAt,
      statusCode: result.statusCode,
      error: result.error,
    });
    if (!this.lane()?.enabled) return;
    if (result.statusCode === 410) await this.disable("gone");
    else if (verdict.exceeded) await this.disable("failure_quota");
  }

  private quota(lane: LaneRow) {
    return quotaOf(this.env.WORKSPACE_QUOTA, lane.workspace_id);
  }

  private recordAttempt(eventId: string, n: number, result: AttemptResult): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO attempts (event_id, n, at, duration_ms, status_code, error, response_body) VALUES (?, ?, ?, ?, ?, ?, ?)",
      eventId,
      n,
      result.at,
      result.durationMs,
      result.statusCode,
      result.error,
      result.responseBody,
    );
  }

  /**
   * The lane turns its own webhook off (410 Gone, failure quota): in its storage first, atomically with
   * marking what it holds as skipped; then D1 and, for the quota, the email. Those two are flags that
   * stay set until done, so a crash or an outage only delays them.
   */
  private async disable(reason: DisabledReason): Promise<void> {
    const at = Date.now();
    this.ctx.storage.transactionSync(() => {
      this.sql.exec(
        "UPDATE lane SET enabled = 0, disabled_reason = ?, config_version = ?, d1_sync_pending = 1, notice_pending = ?, notice_attempts = 0",
        reason,
        at,
        reason === "failure_quota" ? at : 0,
      );
      this.skipPending();
    });
    await this.syncDisable();
  }

  /** Each step clears its flag when done; a flag left set makes scheduleNext try again shortly. */
  private async syncDisable(): Promise<void> {
    const lane = this.lane();
    if (!lane) return;
    if (lane.d1_sync_pending) {
      try {
        await disableWebhook(openDb(this.env.DB), lane.webhook_id, lane.disabled_reason ?? "manual", new Date(lane.config_version));
        this.sql.exec("UPDATE lane SET d1_sync_pending = 0");
      } catch (err) {
        console.error(`lane ${lane.webhook_id}: could not record its disable in D1 yet:`, err);
      }
    }
    if (lane.notice_pending) {
      try {
        await this.quota(lane).notifyDisabled(lane.webhook_id, lane.notice_pending);
        this.sql.exec("UPDATE lane SET notice_pending = 0");
      } catch (err) {
        const attempts = lane.notice_attempts + 1;
        const giveUp = attempts >= MAX_NOTICE_ATTEMPTS;
        this.sql.exec("UPDATE lane SET notice_attempts = ?, notice_pending = ?", attempts, giveUp ? 0 : lane.notice_pending);
        console.error(`lane ${lane.webhook_id}: disable notice failed (attempt ${attempts}${giveUp ? ", giving up" : ""}):`, err);
      }
    }
  }
}
