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
import { disableWebhook, markVerified } from "../../db/webhooks";
import type { Env } from "../../env";
import type { QueuedEvent } from "../../events/queued-event";
import { attemptTrace, formatTraceparent, traceIdOf, traceparentOf } from "../../events/trace";
import { annotateSpan, inSpan } from "../../lib/spans";
import { signersAt, signersKey, type Signers } from "../../lib/rotation";
import { quotaOf } from "../../bindings";
import { attemptDelivery, requestHeaders, type AttemptResult, type RequestHeaders } from "../attempt";
import type { LaneConfig } from "../lane-config";
import { buildBody } from "../payload";
import { nextAttemptAt } from "../schedule";
import { signatureHeaders } from "../signing";
import { awaitingVerification, challengeEvent, challengeIn, judgeChallenge, maySend, VERIFICATION_EVENT_TYPE } from "../verification";
import { deliveryPage, deliveryRecords, type DeliveryQuery, type DeliveryRecord } from "./log";
import { oldestFinishedAt, purgeExpired } from "./retention";
import { laneStats, type StatsPeriod, type WebhookStats } from "./stats";
import { lateForStream, longPoll, POLL_SCHEMA, pollPosition, PollWaiters, type PollAnswer, type PollPosition } from "./poll";
import { LaneStore, nextAlarmAt, OUTCOME_GROUP_SIZE, type DeliveryStatus, type EventRow, type LaneRow, type NewEvent } from "./store";

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
  /** Long polls waiting for this polling lane's next event (poll.ts). */
  private readonly pollers = new PollWaiters();
  private streamReady = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new LaneStore(ctx.storage);
  }

  /** Stores the events (ignoring ids it already holds) and makes sure the lane will deliver them. */
  async enqueue(config: LaneConfig, events: LaneEvent[]): Promise<{ stored: number; duplicates: number }> {
    const lane = this.applyConfig(config);
    if (lane.deleted) return { stored: 0, duplicates: 0 };
    const { orderingWindowMs } = readConfig(this.env);
    const now = Date.now();
    // A disabled webhook keeps what arrives as skipped (finished, for retention), for recover.
    const [status, finishedAt]: [DeliveryStatus, number | null] = lane.enabled ? ["pending", null] : ["skipped", now];
    annotateSpan({ "webhooks.webhook_id": lane.webhook_id, "webhooks.trace_ids": [...new Set(events.map((e) => e.traceparent && traceIdOf(e.traceparent)))].join(" ") });
    const rows = events.map(
      (event): NewEvent => ({
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
        // Every event is kept in a trace (one queued without one, or an alert, starts its own).
        traceparent: event.traceparent ?? traceparentOf(null),
        schemaWarning: event.schemaWarning,
      }),
    );
    const stream = this.stream(lane);
    const late = stream ? lateForStream(stream, rows) : [];
    const stored = this.store.insertEvents(rows);
    if (stream && stored > 0) {
      this.store.requeue(late);
      this.pollers.wake();
    }
    if (stored > 0) await this.scheduleNext();
    return { stored, duplicates: events.length - stored };
  }

  /** Takes a newer config of the webhook (from the API or the consumer); older versions are ignored. */
  async configure(config: LaneConfig): Promise<void> {
    this.store.flushDelivered();
    this.applyConfig(config);
    await this.scheduleNext();
  }

  /**
   * Sends the endpoint a new verification challenge (POST /v1/webhooks/{id}/verify), first in line; a pending
   * one is dropped for it. Nothing is sent when the endpoint is verified already: its verifiedAt is returned.
   */
  async requestVerification(config: LaneConfig): Promise<{ verifiedAt: number | null } | { refused: Refusal }> {
    this.store.flushDelivered();
    const lane = this.applyConfig(config);
    if (lane.deleted) return { refused: "not_found" };
    if (!lane.enabled) return { refused: "disabled" };
    if (!awaitingVerification(lane, readConfig(this.env).requireEndpointVerification)) return { verifiedAt: lane.verified_at };
    this.startChallenge();
    await this.scheduleNext();
    return { verifiedAt: null };
  }

  /**
   * The store's applyConfig, and endpoint verification's part: a new URL drops the challenge pending for the
   * old one, and a lane that awaits verification without a challenge in line gets one (verification.ts).
   */
  private applyConfig(config: LaneConfig): LaneRow {
    const before = this.store.lane();
    const lane = this.store.applyConfig(config);
    if (lane === before || lane.deleted || !lane.enabled) return lane;
    if (!awaitingVerification(lane, readConfig(this.env).requireEndpointVerification)) return lane;
    const urlChanged = before !== undefined && before.url !== lane.url;
    if (urlChanged || !this.store.hasPendingChallenge()) this.startChallenge();
    return lane;
  }

  /** Drops any challenge still pending and puts a new one first in line, sent by the next alarm run; returns its id. */
  private startChallenge(): string {
    const now = Date.now();
    const challenge = challengeEvent(now);
    this.store.dropPendingChallenges(now);
    this.store.insertEvent(challenge);
    return challenge.id;
  }

  /**
   * A page of a polling webhook's stream (poll.ts): acknowledges what lies before `cursor` (a decoded one), reads
   * on, and waits up to `waitMs` for an event when there is none. "invalid_cursor" for a cursor never given out.
   */
  async poll(config: LaneConfig, query: { after: string | undefined; limit: number; waitMs: number }): Promise<PollAnswer | { refused: Refusal | "invalid_cursor" }> {
    const lane = this.store.applyConfig(config);
    const stream = this.stream(lane);
    if (lane.deleted || !stream) return { refused: "not_found" };
    const answer = await longPoll(stream, this.pollers, { ...query, now: Date.now() });
    // What it acknowledged is finished: retention's alarm (the only one a polling lane has) may be due earlier now.
    await this.scheduleNext();
    return answer ?? { refused: "invalid_cursor" };
  }

  /** Where a polling webhook's consumer is; undefined for a push webhook. */
  async pollPosition(): Promise<PollPosition | undefined> {
    const lane = this.store.lane();
    const stream = lane && this.stream(lane);
    return stream && pollPosition(stream);
  }

  /** A polling lane's storage, its stream's schema made once per instance; undefined for a push lane. */
  private stream(lane: LaneRow): SqlStorage | undefined {
    if (lane.delivery !== "poll") return undefined;
    if (!this.streamReady) this.store.sql.exec(POLL_SCHEMA);
    this.streamReady = true;
    return this.store.sql;
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
    const lane = this.applyConfig(config);
    if (lane.deleted) return { refused: "not_found" };
    const row = this.store.event(eventId);
    if (!row) return { refused: "not_found" };
    if (!lane.enabled) return { refused: "disabled" };
    if (row.status === "pending") return { refused: "already_pending" };
    // A challenge put back at the end of the line would wait behind the events it holds back: a new one goes first.
    if (row.type === VERIFICATION_EVENT_TYPE && awaitingVerification(lane, readConfig(this.env).requireEndpointVerification)) {
      const id = this.startChallenge();
      await this.scheduleNext();
      return { delivery: this.record(this.store.event(id)!) };
    }
    this.store.requeue([eventId]);
    await this.scheduleNext();
    return { delivery: this.record(this.store.event(eventId)!) };
  }

  /** Puts every dropped and skipped event accepted since `since` (unix ms) back in line, in acceptance order. */
  async recover(config: LaneConfig, since: number): Promise<{ recovered: number } | { refused: Refusal }> {
    this.store.flushDelivered();
    const lane = this.applyConfig(config);
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
    const lane = this.applyConfig(config);
    if (lane.deleted) return undefined;
    const body = buildBody(event);
    const traceparent = event.traceparent ?? traceparentOf(null);
    if (this.stream(lane)) {
      // A polling webhook's test event is put in its stream, for its consumer to read like any other.
      this.store.insertEvent({ id: event.id, order_key: event.orderKey, type: event.type, body, accepted_at: event.acceptedAt, status: "pending", next_attempt_at: event.acceptedAt, finished_at: null, test: true, traceparent });
      this.pollers.wake();
      return this.record(this.store.event(event.id)!);
    }
    const result = await this.exclusive(() => this.attempt(this.store.lane()!, event.id, body, traceparent));
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
      traceparent,
    });
    await this.scheduleNext();
    return this.record(this.store.event(event.id)!);
  }

  override async alarm(): Promise<void> {
    this.delivering = true;
    try {
      await this.syncDisable();
      await this.syncVerified();
      // An alarm fires at or after the time it was armed for; whatever was due by then is due now. Only at
      // the start: what an attempt of this run reschedules is due when its own time comes.
      let clock = Math.max(Date.now(), this.armedFor ?? 0);
      purgeExpired(this.ctx.storage, clock, retentionMs(readConfig(this.env)));
      const started = Date.now();
      for (let n = 0; n < MAX_ATTEMPTS_PER_ALARM && Date.now() - started < MAX_ALARM_RUN_MS; n++) {
        const lane = this.store.lane();
        // A polling lane never attempts: its consumer reads (poll.ts).
        if (!lane || lane.deleted || !lane.enabled || lane.delivery === "poll") break;
        const head = this.store.head();
        const now = Math.max(Date.now(), clock);
        if (!head) break;
        if (!maySend(lane, head, readConfig(this.env).requireEndpointVerification)) break;
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
    const head = lane?.enabled ? this.store.head() : undefined;
    const due = nextAlarmAt({
      lane,
      head: head && lane!.delivery !== "poll" && maySend(lane!, head, readConfig(this.env).requireEndpointVerification) ? head : undefined,
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

  /** What signs at `now`: the current secret and key pair, and the previous ones during their grace. */
  private secretsAt(lane: LaneRow, now: number): Signers {
    return signersAt(
      {
        secret: lane.secret,
        previousSecret: lane.previous_secret,
        previousSecretExpiresAt: lane.previous_secret_expires_at,
        signingKey: lane.signing_key,
        previousSigningKey: lane.previous_signing_key,
      },
      now,
    );
  }

  /** The signature headers of `body` as event `eventId` by `signers`, timestamped with the second of `now`. */
  private sign(signers: Signers, eventId: string, body: string, now: number) {
    return signatureHeaders({ ...signers, id: eventId, timestampSeconds: Math.floor(now / 1000), body });
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
  private async attempt(lane: LaneRow, eventId: string, body: string, traceparent: string | null, head?: EventRow): Promise<AttemptResult> {
    const now = Date.now();
    const pre = this.presigned;
    this.presigned = undefined;
    const secrets = this.secretsAt(lane, now);
    const fresh = pre && pre.eventId === eventId && pre.second === Math.floor(now / 1000) && pre.secrets === signersKey(secrets);
    const signatures = await (fresh ? pre.signatures : this.sign(secrets, eventId, body, now));
    const { deliveryTimeoutMs, allowPrivateUrls } = readConfig(this.env);
    // Each attempt is its own span in the event's trace: a new span id, retries too.
    const trace = attemptTrace(traceparent);
    const sent = { ...signatures, traceparent: formatTraceparent(trace) };
    const sending = inSpan(
      "webhook attempt",
      { "webhooks.trace_id": trace.traceId, "webhooks.span_id": trace.spanId, "webhooks.event_id": eventId, "webhooks.webhook_id": lane.webhook_id },
      () => attemptDelivery(lane.url, body, this.requestHeaders(lane), sent, deliveryTimeoutMs, { allowPrivateUrls }),
    );
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
          this.presigned = { eventId: next.id, second: Math.floor(at / 1000), secrets: signersKey(nextSecrets), signatures: signing };
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
    const challenge = event.type === VERIFICATION_EVENT_TYPE;
    const sent = await this.exclusive(() => this.attempt(lane, event.id, event.body, event.traceparent, event));
    const result = challenge ? judgeChallenge(sent, challengeIn(event.body)) : sent;
    const endedAt = result.at + result.durationMs;
    if (challenge && result.delivered) return this.recordVerified(lane, event, result, endedAt);
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
    // Nor do a challenge's: an endpoint that has not verified was never sent an event.
    if (!recorded || lane.kind === "alerts" || challenge) return;

    // The quota decides, and owns the email it owes when it says so; the lane only turns itself off.
    const verdict = await quotaOf(this.env.WORKSPACE_QUOTA, lane.workspace_id, lane.data_location).recordFailure({
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
   * The endpoint echoed the challenge `event`: recorded at once (not grouped: what it holds back goes next), then
   * in D1, retried by the alarm until it is done (a failure only delays the webhook object's verifiedAt: the lane
   * holds the truth). Only if the lane still has the URL the challenge went to.
   */
  private async recordVerified(lane: LaneRow, event: EventRow, result: AttemptResult, endedAt: number): Promise<void> {
    this.store.flushDelivered();
    const recorded = this.store.recordOutcome(event, result, { status: "delivered", finishedAt: endedAt, nextAttemptAt: event.next_attempt_at });
    if (!recorded || this.store.lane()?.url !== lane.url) return;
    this.store.recordVerified(endedAt);
    await this.syncVerified();
  }

  private async syncVerified(): Promise<void> {
    const lane = this.store.lane();
    if (!lane?.verified_sync_pending || lane.verified_at === null) return;
    try {
      await markVerified(openDb(this.env.DB), lane.webhook_id, lane.url, new Date(lane.verified_at));
      this.store.markVerifiedSynced();
    } catch (err) {
      console.error(`lane ${lane.webhook_id}: could not record its verification in D1 yet:`, err);
    }
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
