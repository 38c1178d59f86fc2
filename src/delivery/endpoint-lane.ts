// The per-endpoint lane: one Durable Object per webhook that stores its events and delivers them in order.
//
// Every fact lives in the object's SQLite storage: the webhook's config, each event with its status and
// next attempt time, and every attempt. The single alarm is always armed from storage (the earliest due
// pending event), so an eviction or restart resumes exactly where the lane was.
import { DurableObject } from "cloudflare:workers";
import { readConfig } from "../config";
import { openDb } from "../db/client";
import type { DisabledReason } from "../db/schema";
import { disableWebhook } from "../db/webhooks";
import type { Env } from "../env";
import type { QueuedEvent } from "../events/queued-event";
import { quotaOf } from "../quota/workspace-quota";
import { attemptDelivery, type AttemptResult } from "./attempt";
import type { LaneConfig } from "./lane-config";
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
  order_key: string;
  type: string;
  body: string;
  accepted_at: number;
  status: DeliveryStatus;
  attempt_count: number;
  next_attempt_at: number;
  finished_at: number | null;
  [key: string]: SqlStorageValue;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS lane (
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
);
`;

export class EndpointLane extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /** True while an alarm run is delivering; it re-arms the alarm itself when it ends. */
  private delivering = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(SCHEMA);
  }

  /** Stores the events (ignoring ids it already holds) and makes sure the lane will deliver them. */
  async enqueue(config: LaneConfig, events: QueuedEvent[]): Promise<{ stored: number; duplicates: number }> {
    const lane = this.applyConfig(config);
    if (lane.deleted) return { stored: 0, duplicates: 0 };
    const { orderingWindowMs } = readConfig(this.env);
    const now = Date.now();
    const status: DeliveryStatus = lane.enabled ? "pending" : "skipped";
    let stored = 0;
    this.ctx.storage.transactionSync(() => {
      for (const event of events) {
        const cursor = this.sql.exec(
          `INSERT INTO events (id, order_key, type, body, accepted_at, status, next_attempt_at, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
          event.id,
          event.orderKey,
          event.type,
          buildBody(event),
          event.acceptedAt,
          status,
          // Hold each event for the ordering window after acceptance, so one the queue delivers late
          // can still take its place in line.
          event.acceptedAt + orderingWindowMs,
          now,
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

  override async alarm(): Promise<void> {
    this.delivering = true;
    try {
      await this.syncDisable();
      const started = Date.now();
      for (let n = 0; n < MAX_ATTEMPTS_PER_ALARM && Date.now() - started < MAX_ALARM_RUN_MS; n++) {
        const lane = this.lane();
        if (!lane || lane.deleted || !lane.enabled) break;
        const head = this.head();
        // An alarm fires at or after the time it was armed for; whatever was due by then is due now.
        const clock = Math.max(Date.now(), lane.alarm_at ?? 0);
        if (!head || head.next_attempt_at > clock) break;
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

  /** The next event in line: the earliest accepted one still pending. */
  private head(): EventRow | undefined {
    return this.sql
      .exec<EventRow>("SELECT * FROM events WHERE status = 'pending' ORDER BY order_key LIMIT 1")
      .toArray()[0];
  }

  private applyConfig(config: LaneConfig): LaneRow {
    const current = this.lane();
    if (!current) {
      this.sql.exec(
        `INSERT INTO lane (singleton, webhook_id, workspace_id, url, secret, enabled, disabled_reason, config_version)
         VALUES (1, ?, ?, ?, ?, ?, ?, ?)`,
        config.webhookId,
        config.workspaceId,
        config.url,
        config.secret,
        config.enabled ? 1 : 0,
        config.disabledReason,
        config.version,
      );
      return this.lane()!;
    }
    if (current.deleted || config.version < current.config_version) return current;
    this.ctx.storage.transactionSync(() => {
      // A newer config already is the webhook's state in D1, so an unsynced disable of ours is superseded.
      this.sql.exec(
        "UPDATE lane SET url = ?, secret = ?, enabled = ?, disabled_reason = ?, config_version = ?, d1_sync_pending = 0",
        config.url,
        config.secret,
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
    this.sql.exec("UPDATE events SET status = 'skipped' WHERE status = 'pending'");
  }

  /** Arms the alarm for the head's next attempt, from storage; clears it when nothing is pending. */
  private async scheduleNext(): Promise<void> {
    if (this.delivering) return;
    const lane = this.lane();
    const due = lane && (lane.d1_sync_pending || lane.notice_pending)
      ? Date.now() + SYNC_RETRY_MS
      : lane && !lane.deleted && lane.enabled
        ? this.head()?.next_attempt_at
        : undefined;
    const storage = this.ctx.storage;
    if (due === undefined) {
      if (lane?.alarm_at != null) this.sql.exec("UPDATE lane SET alarm_at = NULL");
      await storage.deleteAlarm();
      return;
    }
    if ((await storage.getAlarm()) !== due) {
      this.sql.exec("UPDATE lane SET alarm_at = ?", due);
      await storage.setAlarm(due);
    }
  }

  private async deliver(lane: LaneRow, event: EventRow): Promise<void> {
    const config = readConfig(this.env);
    const body = event.body;
    const headers = await signatureHeaders({
      secrets: [lane.secret],
      id: event.id,
      timestampSeconds: Math.floor(Date.now() / 1000),
      body,
    });
    const result = await attemptDelivery(lane.url, body, headers, config.deliveryTimeoutMs);
    const n = event.attempt_count + 1;
    const endedAt = result.at + result.durationMs;
    const next = result.delivered ? null : nextAttemptAt(n, endedAt, config.retryDelaysSeconds);
    let recorded = false;
    this.ctx.storage.transactionSync(() => {
      // The webhook may have been deleted or disabled while the request was in flight.
      const still = this.sql.exec("SELECT 1 FROM events WHERE id = ? AND status = 'pending'", event.id).toArray();
      if (still.length === 0) return;
      recorded = true;
      this.recordAttempt(event.id, n, result);
      if (result.delivered) {
        this.sql.exec("UPDATE events SET status = 'delivered', attempt_count = ?, finished_at = ? WHERE id = ?", n, endedAt, event.id);
      } else if (next === null) {
        this.sql.exec("UPDATE events SET status = 'dropped', attempt_count = ?, finished_at = ? WHERE id = ?", n, endedAt, event.id);
      } else {
        this.sql.exec("UPDATE events SET attempt_count = ?, next_attempt_at = ? WHERE id = ?", n, next, event.id);
      }
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
