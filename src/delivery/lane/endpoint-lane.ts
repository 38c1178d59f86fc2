// The per-endpoint lane: one Durable Object per webhook that stores its events and delivers them in order.
//
// Every fact lives in the object's SQLite storage (store.ts): the webhook's config (with the previous secret
// during a rotation), each event with its status, place in line and next attempt time, and every attempt,
// which is also the delivery log (log.ts). The single alarm is always armed from storage (nextAlarmAt), so an
// eviction or restart resumes where it was: storage is the truth, save for the successes of a backlog still
// grouped in memory (at most OUTCOME_GROUP_SIZE, delivered again after a crash).
import { DurableObject } from "cloudflare:workers";
import { readConfig, retentionMs } from "../../config";
import { openDb } from "../../db/client";
import type { DisabledReason } from "../../db/schema";
import { disableWebhook } from "../../db/webhooks";
import type { Env } from "../../env";
import type { QueuedEvent } from "../../events/queued-event";
import { signingSecrets } from "../../lib/rotation";
import { quotaOf } from "../../quota/workspace-quota";
import { attemptDelivery, requestHeaders, type AttemptResult, type RequestHeaders } from "../attempt";
import type { LaneConfig } from "../lane-config";
import { buildBody } from "../payload";
import { nextAttemptAt } from "../schedule";
import { signatureHeaders } from "../signing";
import { deliveryPage, deliveryRecords, type DeliveryQuery, type DeliveryRecord } from "./log";
import { oldestFinishedAt, purgeExpired } from "./retention";
import { laneStats, type StatsPeriod, type WebhookStats } from "./stats";
import { LaneStore, nextAlarmAt, OUTCOME_GROUP_SIZE, type DeliveryStatus, type EventRow, type LaneRow } from "./store";

export type { DeliveryQuery, DeliveryRecord } from "./log";

/** An event as a lane takes it: a queued event, or an alert (src/alerts), whose type is not an event type. */
export type LaneEvent = Omit<QueuedEvent, "type"> & { type: string };

/** An alarm run delivers at most this many events before yielding (it re-arms at once if more are due). */
const MAX_ATTEMPTS_PER_ALARM = 500;
const MAX_ALARM_RUN_MS = 30_000;
/**
 * When the next stored event is held only a little longer by its ordering window or the rate limit's next
 * token (not by a retry's delay), the run waits for it awake instead of ending and re-arming the alarm: a lane fed a few events per
 * queue batch then wakes once per batch, not once per event (each wake-up is a billed request and a
 * setAlarm row). It costs the wait as duration, which is cheaper at this bound.
 */
export const STAY_AWAKE_MS = 1_000;

/** Why a retry or recover was refused; the API turns these into errors. */
export type Refusal = "not_found" | "disabled" | "already_pending";

/** The lane of a webhook: one per webhook, named by its id. */
export function laneOf(namespace: DurableObjectNamespace<EndpointLane>, webhookId: string) {
  return namespace.get(namespace.idFromName(webhookId));
}

export class EndpointLane extends DurableObject<Env> {
  private readonly store: LaneStore;
  /** True while an alarm run is delivering; it re-arms the alarm itself when it ends. */
  private delivering = false;
  /** The attempt in flight, if any: every attempt waits for the one before it, so one request is out at a time. */
  private inFlight: Promise<unknown> = Promise.resolve();
  /**
   * The rate limit's token bucket (one token, refilled 1/rate s after the previous attempt ended): when the
   * next attempt may start. In memory only: after a restart the bucket starts full, so at most one attempt
   * comes early.
   */
  private nextTokenAt = 0;
  /**
   * The time the alarm was last armed for: a run treats what was due by then as due (a run can start early
   * when driven by hand; the runtime itself fires an alarm at or after its time, when Date.now() is enough).
   */
  private armedFor: number | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new LaneStore(ctx.storage);
  }

  /** Stores the events (ignoring ids it already holds) and makes sure the lane will deliver them. */
  async enqueue(config: LaneConfig, events: LaneEvent[]): Promise<{ stored: number; duplicates: number }> {
    const lane = this.store.applyConfig(config);
    if (lane.deleted) return { stored: 0, duplicates: 0 };
    const { orderingWindowMs } = readConfig(this.env);
    const now = Date.now();
    // A disabled webhook keeps what arrives as skipped (finished, for retention), for recover.
    const [status, finishedAt]: [DeliveryStatus, number | null] = lane.enabled ? ["pending", null] : ["skipped", now];
    const stored = this.store.insertEvents(
      events.map((event) => ({
        id: event.id,
        order_key: event.orderKey,
        type: event.type,
        body: buildBody(event),
        accepted_at: event.acceptedAt,
        status,
        // Hold each event for the ordering window after acceptance, so one the queue delivers late
        // can still take its place in line.
        next_attempt_at: event.acceptedAt + orderingWindowMs,
        finished_at: finishedAt,
      })),
    );
    if (stored > 0) await this.scheduleNext();
    return { stored, duplicates: events.length - stored };
  }

  /** Takes a newer config of the webhook (from the API or the consumer); older versions are ignored. */
  async configure(config: LaneConfig): Promise<void> {
    this.store.flushDelivered();
    this.store.applyConfig(config);
    await this.scheduleNext();
  }

  /** The webhook was deleted: forget its events and refuse any that still arrive. */
  async remove(): Promise<void> {
    this.store.markDeleted();
    await this.ctx.storage.deleteAlarm();
  }

  /** The delivery log, newest accepted first. */
  async deliveries(query: DeliveryQuery): Promise<{ data: DeliveryRecord[]; more: boolean }> {
    this.store.flushDelivered();
    return deliveryPage(this.store.sql, query);
  }

  /** One delivery with the body that was sent; undefined when the lane holds no such event. */
  async delivery(eventId: string): Promise<DeliveryRecord | undefined> {
    this.store.flushDelivered();
    const row = this.store.event(eventId);
    return row && { ...this.record(row), body: row.body, headers: row.last_headers === null ? null : (JSON.parse(row.last_headers) as Record<string, string>) };
  }

  /** The webhook's health over the period (stats.ts), from what the lane holds. */
  async stats(period: StatsPeriod): Promise<WebhookStats> {
    this.store.flushDelivered();
    return laneStats(this.store.sql, period, Date.now());
  }

  /**
   * Delivers a stored event again: back in line behind everything pending, with a fresh retry schedule.
   * Its earlier attempts stay in the log; new ones follow them.
   */
  async retry(config: LaneConfig, eventId: string): Promise<{ delivery: DeliveryRecord } | { refused: Refusal }> {
    this.store.flushDelivered();
    const lane = this.store.applyConfig(config);
    if (lane.deleted) return { refused: "not_found" };
    const row = this.store.event(eventId);
    if (!row) return { refused: "not_found" };
    if (!lane.enabled) return { refused: "disabled" };
    if (row.status === "pending") return { refused: "already_pending" };
    this.store.requeue([eventId]);
    await this.scheduleNext();
    return { delivery: this.record(this.store.event(eventId)!) };
  }

  /** Puts every dropped and skipped event accepted since `since` (unix ms) back in line, in acceptance order. */
  async recover(config: LaneConfig, since: number): Promise<{ recovered: number } | { refused: Refusal }> {
    this.store.flushDelivered();
    const lane = this.store.applyConfig(config);
    if (lane.deleted) return { refused: "not_found" };
    if (!lane.enabled) return { refused: "disabled" };
    const ids = this.store.recoverable(since);
    this.store.requeue(ids);
    await this.scheduleNext();
    return { recovered: ids.length };
  }

  /**
   * Sends a test event now, outside the line (it waits only for an attempt already in flight), once, and
   * logs it. It is not retried and does not count against the quota; a disabled webhook gets it too,
   * since a person asked for it, typically to check the endpoint before enabling it.
   */
  async sendTest(config: LaneConfig, event: LaneEvent): Promise<DeliveryRecord | undefined> {
    this.store.flushDelivered();
    const lane = this.store.applyConfig(config);
    if (lane.deleted) return undefined;
    const body = buildBody(event);
    const result = await this.exclusive(() => this.attempt(this.store.lane()!, event.id, body));
    this.store.insertEvent({
      id: event.id,
      order_key: event.orderKey,
      type: event.type,
      body,
      accepted_at: event.acceptedAt,
      status: result.delivered ? "delivered" : "dropped",
      next_attempt_at: result.at,
      finished_at: result.at + result.durationMs,
      first: result,
      test: true,
    });
    await this.scheduleNext();
    return this.record(this.store.event(event.id)!);
  }

  override async alarm(): Promise<void> {
    this.delivering = true;
    try {
      await this.syncDisable();
      // An alarm fires at or after the time it was armed for; whatever was due by then is due now. Only at
      // the start: what an attempt of this run reschedules is due when its own time comes.
      let clock = Math.max(Date.now(), this.armedFor ?? 0);
      purgeExpired(this.ctx.storage, clock, retentionMs(readConfig(this.env)));
      const started = Date.now();
      for (let n = 0; n < MAX_ATTEMPTS_PER_ALARM && Date.now() - started < MAX_ALARM_RUN_MS; n++) {
        const lane = this.store.lane();
        if (!lane || lane.deleted || !lane.enabled) break;
        const head = this.store.head();
        const now = Math.max(Date.now(), clock);
        if (!head) break;
        const startAt = Math.max(head.next_attempt_at, this.tokenAt(lane));
        if (startAt > now) {
          // A retry always waits on the alarm (its schedule is in storage, where a restart finds it).
          if (head.round_attempts > 0 || startAt - now > STAY_AWAKE_MS) break;
          // Storage is the truth while the lane waits: what it delivered so far is written first.
          this.store.flushDelivered();
          await new Promise((resolve) => setTimeout(resolve, startAt - now));
          // A timer fires at or after its time (and a test's frozen clock must not make this wait again).
          clock = startAt;
          continue;
        }
        await this.deliver(lane, head);
        clock = 0;
      }
    } finally {
      // What this run delivered is recorded before it ends (its last outcomes may still be in a group).
      this.store.flushDelivered();
      this.delivering = false;
    }
    await this.scheduleNext();
  }

  private record(row: EventRow): DeliveryRecord {
    return deliveryRecords(this.store.sql, [row])[0]!;
  }

  /** Arms the single alarm for what storage says is due next, or clears it when nothing is. */
  private async scheduleNext(): Promise<void> {
    if (this.delivering) return;
    const lane = this.store.lane();
    const due = nextAlarmAt({
      lane,
      head: lane?.enabled ? this.store.head() : undefined,
      oldestFinishedAt: oldestFinishedAt(this.store.sql),
      retentionMs: retentionMs(readConfig(this.env)),
      now: Date.now(),
      tokenAt: lane ? this.tokenAt(lane) : 0,
    });
    const storage = this.ctx.storage;
    this.armedFor = due;
    if (due === null) {
      await storage.deleteAlarm();
      return;
    }
    if ((await storage.getAlarm()) !== due) await storage.setAlarm(due);
  }

  /** Runs `task` after the attempt in flight (if any) has ended. */
  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.inFlight.then(task, task);
    this.inFlight = run.catch(() => {});
    return run;
  }

  /** When the rate limit lets the next attempt start; 0 when the webhook has none. */
  private tokenAt(lane: LaneRow): number {
    return lane.rate_limit_per_second ? this.nextTokenAt : 0;
  }

  /** The webhook's own headers and the service's, built once per config (the lane row is a new object after each). */
  private requestHeaders(lane: LaneRow): RequestHeaders {
    if (this.builtHeaders?.lane !== lane) {
      const headers = requestHeaders(JSON.parse(lane.headers) as Record<string, string>);
      if (headers.ok && headers.withheld.length > 0) {
        console.warn(`lane ${lane.webhook_id}: stored header(s) ${headers.withheld.join(", ")} are reserved now and are not sent`);
      }
      this.builtHeaders = { lane, headers };
    }
    return this.builtHeaders.headers;
  }

  private builtHeaders: { lane: LaneRow; headers: RequestHeaders } | undefined;

  /** The secrets that sign at `now`: the current one, and the previous one during its grace. */
  private secretsAt(lane: LaneRow, now: number): string[] {
    return signingSecrets({ secret: lane.secret, previousSecret: lane.previous_secret, previousSecretExpiresAt: lane.previous_secret_expires_at }, now);
  }

  /** The signature headers of `body` as event `eventId` by `secrets`, timestamped with the second of `now`. */
  private sign(secrets: string[], eventId: string, body: string, now: number) {
    return signatureHeaders({ secrets, id: eventId, timestampSeconds: Math.floor(now / 1000), body });
  }

  /**
   * The next event's signatures, computed while this attempt's request is out (the thread would wait on the
   * endpoint otherwise): used only by that event's attempt within the same second and with the same secrets
   * in force (a rotation in between discards it), so what is sent is exactly what signing at the attempt's
   * start would give: a signature covers only the secrets, the id, the second and the body.
   */
  private presigned: { eventId: string; second: number; secrets: string; signatures: Promise<Record<string, string>> } | undefined;

  /**
   * One signed POST of `body` to the lane's endpoint, with its own headers and the secrets that sign now.
   * `head`, for an attempt of the line's head: while its request is out the lane does what can wait for no
   * answer (LaneStore.whileOut) and signs the event after it.
   */
  private async attempt(lane: LaneRow, eventId: string, body: string, head?: EventRow): Promise<AttemptResult> {
    const now = Date.now();
    const pre = this.presigned;
    this.presigned = undefined;
    const secrets = this.secretsAt(lane, now);
    const fresh = pre && pre.eventId === eventId && pre.second === Math.floor(now / 1000) && pre.secrets === secrets.join(" ");
    const signatures = await (fresh ? pre.signatures : this.sign(secrets, eventId, body, now));
    const { deliveryTimeoutMs, allowPrivateUrls } = readConfig(this.env);
    const sending = attemptDelivery(lane.url, body, this.requestHeaders(lane), signatures, deliveryTimeoutMs, { allowPrivateUrls });
    if (head) {
      // A timer, not a microtask: it runs once the runtime has sent the request, while the answer is awaited.
      setTimeout(() => {
        try {
          this.store.whileOut(head);
          const next = this.store.nextAfterHead(head);
          if (!next) return;
          const at = Date.now();
          const nextSecrets = this.secretsAt(lane, at);
          const signing = this.sign(nextSecrets, next.id, next.body, at);
          signing.catch(() => {});
          this.presigned = { eventId: next.id, second: Math.floor(at / 1000), secrets: nextSecrets.join(" "), signatures: signing };
        } catch (err) {
          // Nothing here is owed: storage still holds what was not written (delivered again, as after a crash).
          console.error(`lane ${lane.webhook_id}: work while a request was out failed:`, err);
        }
      }, 0);
    }
    const result = await sending;
    // Counted from when the answer came (a clock read after I/O, so never early): attempts start at least
    // 1/rate s apart at the endpoint, whatever the Worker's own clock said when this one started.
    if (lane.rate_limit_per_second) this.nextTokenAt = Date.now() + 1000 / lane.rate_limit_per_second;
    return result;
  }

  private async deliver(lane: LaneRow, event: EventRow): Promise<void> {
    const result = await this.exclusive(() => this.attempt(lane, event.id, event.body, event));
    const endedAt = result.at + result.durationMs;
    // A success is kept with the others of its group (store.ts OUTCOME_GROUP_SIZE): while a backlog lasts,
    // the next request goes out without waiting for this one's commit. A failure is written at once, after
    // the successes before it, since retries, the quota and a disable act on it.
    if (result.delivered) {
      if (this.store.deferDelivered(event, result, endedAt) >= OUTCOME_GROUP_SIZE) this.store.flushDelivered();
      return;
    }
    this.store.flushDelivered();
    // The webhook's own schedule, if it has one, as the lane holds it now: a change applies from the next retry.
    const delays = lane.retry_delays ? (JSON.parse(lane.retry_delays) as number[]) : readConfig(this.env).retryDelaysSeconds;
    const next = nextAttemptAt(event.round_attempts + 1, endedAt, delays, result.retryAfterMs);
    const recorded = this.store.recordOutcome(
      event,
      result,
      next === null
        ? { status: "dropped", finishedAt: endedAt, nextAttemptAt: event.next_attempt_at }
        : { status: "pending", finishedAt: null, nextAttemptAt: next },
    );
    // An alerts lane's failures count against no quota and never turn it off (a 410 included): the
    // workspace's alertUrl is changed or cleared by a person, and an alert about alerts would be a loop.
    if (!recorded || lane.kind === "alerts") return;

    // The quota decides, and owns the email it owes when it says so; the lane only turns itself off.
    const verdict = await quotaOf(this.env.WORKSPACE_QUOTA, lane.workspace_id).recordFailure({
      webhookId: lane.webhook_id,
      workspaceId: lane.workspace_id,
      url: lane.url,
      eventId: event.id,
      at: endedAt,
      statusCode: result.statusCode,
      error: result.error,
    });
    if (verdict.disable && this.store.lane()?.enabled) await this.disable(verdict.disable, endedAt);
  }

  /**
   * The lane turns its own webhook off (410 Gone, failure quota): in its storage first, atomically with
   * keeping what it holds as skipped; then in D1, retried by the alarm until it is done.
   */
  private async disable(reason: DisabledReason, at: number): Promise<void> {
    this.store.recordDisable(reason, at);
    await this.syncDisable();
  }

  private async syncDisable(): Promise<void> {
    const lane = this.store.lane();
    if (!lane?.d1_sync_pending) return;
    try {
      await disableWebhook(openDb(this.env.DB), lane.webhook_id, lane.disabled_reason ?? "manual", new Date(lane.config_version));
      this.store.markSynced();
    } catch (err) {
      console.error(`lane ${lane.webhook_id}: could not record its disable in D1 yet:`, err);
    }
  }
}
