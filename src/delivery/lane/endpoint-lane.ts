// The per-endpoint lane: one Durable Object per webhook that stores its events and delivers them in order.
//
// Every fact lives in the object's SQLite storage (store.ts): the webhook's config (with the previous secret
// during a rotation), each event with its status, place in line, ordering key and next attempt time, and every
// attempt, which is also the delivery log (log.ts). The single alarm is always armed from storage (runner.ts), so
// an eviction or restart resumes where it was: storage is the truth, save for the successes of a backlog still
// grouped in memory (at most OUTCOME_GROUP_SIZE, delivered again after a crash) and the attempts out
// (docs/ordering.md). This file is the lane's RPC surface; sending, outcomes and timing live beside it.
import { DurableObject } from "cloudflare:workers";
import { runStorageSteps } from "../../lib/storage-steps";
import { readConfig } from "../../config";
import type { Env } from "../../env";
import type { QueuedEvent } from "../../events/queued-event";
import { traceIdOf, traceparentOf } from "../../events/trace";
import { openHeaders } from "../../lib/encryption";
import { annotateSpan } from "../../lib/spans";
import { eq } from "drizzle-orm";
import { openDb } from "../../db/client";
import { webhooks } from "../../db/schema";
import { laneConfigOf, type LaneConfig, type LaneRef } from "../lane-config";
import { orderingKeyOf } from "../ordering";
import { bodyOf } from "../payload";
import { awaitingVerification, challengeEvent, VERIFICATION_EVENT_TYPE } from "../verification";
import { deliveryPage, deliveryRecords, type DeliveryQuery, type DeliveryRecord } from "./log";
import { LaneOutcomes } from "./outcomes";
import { lateForStream, longPoll, pollPosition, STREAM_STORAGE_STEPS, PollWaiters, type PollAnswer, type PollPosition } from "./poll";
import { resealKeptHeaders } from "./reseal";
import { LaneRunner } from "./runner";
import { LaneSending } from "./sending";
import { laneStats, type StatsPeriod, type WebhookStats } from "./stats";
import { LaneStore, type DeliveryStatus, type EventRow, type LaneRow, type NewEvent } from "./store";
import { testsSince } from "./store-sql";

export type { DeliveryQuery, DeliveryRecord } from "./log";
export { STAY_AWAKE_MS } from "./runner";

/** An event as a lane takes it: a queued event, or an alert (src/alerts), whose type is not an event type. */
export type LaneEvent = Omit<QueuedEvent, "type"> & { type: string };

/** The window of the per-minute limit on test events. */
const TEST_WINDOW_MS = 60_000;

/** Why a retry or recover was refused; the API turns these into errors. */
export type Refusal = "not_found" | "disabled" | "already_pending";

export class EndpointLane extends DurableObject<Env> {
  private readonly store: LaneStore;
  readonly sending: LaneSending;
  private readonly runner: LaneRunner;
  /** Long polls waiting for this polling lane's next event (poll.ts). */
  private readonly pollers = new PollWaiters();
  private streamReady = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new LaneStore(ctx.storage);
    const envOf = () => this.env;
    this.sending = new LaneSending(envOf, this.store);
    this.runner = new LaneRunner(envOf, ctx.storage, this.store, this.sending, new LaneOutcomes(envOf, this.store, this.sending.secrets));
  }

  /** Stores the events (ignoring ids it already holds) and makes sure the lane will deliver them. */
  async enqueue(config: LaneConfig, events: LaneEvent[]): Promise<{ stored: number; duplicates: number }> {
    return this.storeEvents(this.applyConfig(config), events);
  }

  /**
   * The queue consumer's hand-off: it knows only the webhook's id and config version (src/db/subscriptions.ts), so
   * a lane holding an older version (or none) reads its whole config from D1 first. A webhook D1 no longer has was
   * deleted after the consumer read its routes: nothing is stored.
   */
  async enqueueRouted(ref: LaneRef, events: LaneEvent[]): Promise<{ stored: number; duplicates: number }> {
    const held = this.store.lane();
    if (held && (held.deleted || held.config_version >= ref.version)) return this.storeEvents(held, events);
    const row = await openDb(this.env.DB).query.webhooks.findFirst({ where: eq(webhooks.id, ref.webhookId) });
    if (!row) return { stored: 0, duplicates: 0 };
    return this.storeEvents(this.applyConfig(laneConfigOf(row)), events);
  }

  private async storeEvents(lane: LaneRow, events: LaneEvent[]): Promise<{ stored: number; duplicates: number }> {
    if (lane.deleted) return { stored: 0, duplicates: 0 };
    const { orderingWindowMs } = readConfig(this.env);
    const now = Date.now();
    // A disabled webhook keeps what arrives as skipped (finished, for retention), for recover.
    const [status, finishedAt]: [DeliveryStatus, number | null] = lane.enabled ? ["pending", null] : ["skipped", now];
    annotateSpan({
      "webhooks.webhook_id": lane.webhook_id,
      "webhooks.trace_ids": [...new Set(events.map((e) => e.traceparent && traceIdOf(e.traceparent)))].join(" "),
    });
    const settings = { ordering: lane.ordering, orderingKey: lane.ordering_path };
    const rows = events.map((event): NewEvent => {
      const body = bodyOf(event);
      return {
        id: event.id,
        order_key: event.orderKey,
        type: event.type,
        body: JSON.stringify(body),
        accepted_at: event.acceptedAt,
        status,
        // Hold each event for the ordering window after acceptance, so one the queue delivers late can still
        // take its place in line; with no order to keep ("none"), it is due at once.
        next_attempt_at: event.acceptedAt + (lane.ordering === "none" ? 0 : orderingWindowMs),
        finished_at: finishedAt,
        // Every event is kept in a trace (one queued without one, or an alert, starts its own).
        traceparent: event.traceparent ?? traceparentOf(null),
        tracestate: event.tracestate,
        schemaWarning: event.schemaWarning,
        ordering_key: orderingKeyOf(settings, event.id, () => body),
        ordering_epoch: lane.ordering_epoch,
      };
    });
    const stream = this.stream(lane);
    const late = stream ? lateForStream(stream, rows) : [];
    const stored = this.store.insertEvents(rows);
    if (stream && stored > 0) {
      this.store.requeue(late);
      this.pollers.wake();
    }
    if (stored > 0) await this.runner.scheduleNext();
    return { stored, duplicates: events.length - stored };
  }

  /**
   * Takes a newer config of the webhook (from the API or the consumer); older versions are ignored. A newer one
   * (every API change, and each config POST /v1/admin/encryption/reencrypt sealed again) also seals the headers kept
   * with events under the current key, so that after a key rotation no stored value needs the old key.
   */
  async configure(config: LaneConfig): Promise<void> {
    const before = this.store.lane();
    if (this.applyConfig(config) !== before) await resealKeptHeaders(this.env, this.ctx.storage, this.store.settled());
    await this.runner.scheduleNext();
  }

  /**
   * Sends the endpoint a new verification challenge (POST /v1/webhooks/{id}/verify), first in line; a pending
   * one is dropped for it. Nothing is sent when the endpoint is verified already: its verifiedAt is returned.
   */
  async requestVerification(config: LaneConfig): Promise<{ verifiedAt: number | null } | { refused: Refusal }> {
    const lane = this.applyConfig(config);
    if (lane.deleted) return { refused: "not_found" };
    if (!lane.enabled) return { refused: "disabled" };
    if (!awaitingVerification(lane, readConfig(this.env).requireEndpointVerification)) return { verifiedAt: lane.verified_at };
    this.startChallenge();
    await this.runner.scheduleNext();
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
    // Under "key" or "none" it is also a key of its own: should verification stop being required while it is
    // pending, the keyed line sends it like any event instead of leaving it pending for ever.
    const lane = this.store.lane();
    if (lane && lane.ordering !== "endpoint") {
      challenge.ordering_key = orderingKeyOf({ ordering: "none", orderingKey: null }, challenge.id, () => null);
      challenge.ordering_epoch = lane.ordering_epoch;
    }
    this.store.dropPendingChallenges(now);
    this.store.insertEvent(challenge);
    return challenge.id;
  }

  /**
   * A page of a polling webhook's stream (poll.ts): acknowledges what lies before `cursor` (a decoded one), reads
   * on, and waits up to `waitMs` for an event when there is none. "invalid_cursor" for a cursor never given out.
   */
  async poll(
    config: LaneConfig,
    query: { after: string | undefined; limit: number; waitMs: number },
  ): Promise<PollAnswer | { refused: Refusal | "invalid_cursor" }> {
    const lane = this.store.applyConfig(config);
    const stream = this.stream(lane);
    if (lane.deleted || !stream) return { refused: "not_found" };
    const answer = await longPoll(stream, this.pollers, { ...query, now: Date.now() });
    // What it acknowledged is finished: retention's alarm (the only one a polling lane has) may be due earlier now.
    await this.runner.scheduleNext();
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
    if (!this.streamReady) runStorageSteps(this.ctx.storage, "stream", STREAM_STORAGE_STEPS);
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
    return deliveryPage(this.store.settled(), query);
  }

  /** One delivery with the body and the headers (opened: the API shows them) that were sent; undefined when the lane holds no such event. */
  async delivery(eventId: string): Promise<DeliveryRecord | undefined> {
    const row = this.store.event(eventId);
    return (
      row && {
        ...this.record(row),
        body: row.body,
        headers: row.last_headers === null ? null : await openHeaders(this.env, row.last_headers),
        tracestate: row.tracestate,
      }
    );
  }

  /** The webhook's health over the period (stats.ts), from what the lane holds. */
  async stats(period: StatsPeriod): Promise<WebhookStats> {
    const now = Date.now();
    const adaptive = this.runner.parallel.adaptive;
    const lane = this.store.lane();
    // The limit in force is written to its bucket first, so the series' newest point holds it too.
    if (lane) adaptive.record(lane, now);
    return laneStats(this.store.settled(), period, now, adaptive.current(lane));
  }

  /**
   * Delivers a stored event again: back in line behind everything pending, with a fresh retry schedule.
   * Its earlier attempts stay in the log; new ones follow them.
   */
  async retry(config: LaneConfig, eventId: string): Promise<{ delivery: DeliveryRecord } | { refused: Refusal }> {
    const lane = this.applyConfig(config);
    if (lane.deleted) return { refused: "not_found" };
    const row = this.store.event(eventId);
    if (!row) return { refused: "not_found" };
    if (!lane.enabled) return { refused: "disabled" };
    if (row.status === "pending") return { refused: "already_pending" };
    // A challenge put back at the end of the line would wait behind the events it holds back: a new one goes first.
    if (row.type === VERIFICATION_EVENT_TYPE && awaitingVerification(lane, readConfig(this.env).requireEndpointVerification)) {
      const id = this.startChallenge();
      await this.runner.scheduleNext();
      return { delivery: this.record(this.store.event(id)!) };
    }
    this.store.requeue([eventId]);
    await this.runner.scheduleNext();
    return { delivery: this.record(this.store.event(eventId)!) };
  }

  /** Puts every dropped and skipped event accepted since `since` (unix ms) back in line, in acceptance order. */
  async recover(config: LaneConfig, since: number): Promise<{ recovered: number } | { refused: Refusal }> {
    const lane = this.applyConfig(config);
    if (lane.deleted) return { refused: "not_found" };
    if (!lane.enabled) return { refused: "disabled" };
    const ids = this.store.recoverable(since);
    this.store.requeue(ids);
    await this.runner.scheduleNext();
    return { recovered: ids.length };
  }

  /**
   * Sends a test event now, outside the line (under "endpoint" it waits only for an attempt already in flight;
   * otherwise for a free slot), once, and logs it. It is not retried and does not count against the quota; a
   * disabled webhook gets it too, since a person asked for it, typically to check the endpoint before enabling it.
   * At most `perMinute` test events in any 60 s (docs/limits.md): past it, nothing is sent and the answer says when
   * the oldest one leaves the minute.
   */
  async sendTest(
    config: LaneConfig,
    event: LaneEvent,
    perMinute: number,
  ): Promise<DeliveryRecord | undefined | { retryAfterSeconds: number }> {
    const lane = this.applyConfig(config);
    if (lane.deleted) return undefined;
    const recent = testsSince(this.store.sql, event.acceptedAt - TEST_WINDOW_MS + 1);
    if (recent.count >= perMinute) {
      const frees = (recent.earliest ?? event.acceptedAt) + TEST_WINDOW_MS;
      return { retryAfterSeconds: Math.max(1, Math.ceil((frees - event.acceptedAt) / 1000)) };
    }
    const body = JSON.stringify(bodyOf(event));
    const trace = { traceparent: event.traceparent ?? traceparentOf(null), tracestate: event.tracestate ?? null };
    // A test event is stored like any other, marked as a test: in a polling webhook's stream (pending, for its
    // consumer to read like any other), or after its one attempt.
    const store = (outcome: Pick<NewEvent, "status" | "next_attempt_at" | "finished_at" | "first">) =>
      this.store.insertEvent({
        id: event.id,
        order_key: event.orderKey,
        type: event.type,
        body,
        accepted_at: event.acceptedAt,
        test: true,
        ...trace,
        ...outcome,
      });
    if (this.stream(lane)) {
      store({ status: "pending", next_attempt_at: event.acceptedAt, finished_at: null });
      this.pollers.wake();
      return this.record(this.store.event(event.id)!);
    }
    const result = await this.runner.attemptTest(lane, event.id, body, trace);
    store({
      status: result.delivered ? "delivered" : "dropped",
      next_attempt_at: result.at,
      finished_at: result.at + result.durationMs,
      first: result,
    });
    await this.runner.scheduleNext();
    return this.record(this.store.event(event.id)!);
  }

  /**
   * The most requests this object itself (slot 0) ever had out at once and how many it has out now, and how
   * many attempts of the webhook are out from any object: for the tests.
   */
  async outgoing(): Promise<{ current: number; peak: number; attemptsOut: number }> {
    return { current: this.sending.outgoing.current, peak: this.sending.outgoing.peak, attemptsOut: this.runner.parallel.attemptsOut };
  }

  override async alarm(): Promise<void> {
    await this.runner.alarm();
  }

  private record(row: EventRow): DeliveryRecord {
    return deliveryRecords(this.store.settled(), [row])[0]!;
  }
}
