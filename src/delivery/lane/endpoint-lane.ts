// The per-endpoint lane: one Durable Object per webhook that stores its events and delivers them in order.
//
// Every fact lives in the object's SQLite storage (store.ts): the webhook's config (with the previous secret
// during a rotation), each event with its status, place in line, ordering key and next attempt time, and every
// attempt, which is also the delivery log (log.ts). The single alarm is always armed from storage (runner.ts), so
// an eviction or restart resumes where it was: storage is the truth, save for the successes of a backlog still
// grouped in memory (at most OUTCOME_GROUP_SIZE, delivered again after a crash) and the attempts out
// (docs/ordering.md). This file is the lane's RPC surface; sending, outcomes and timing live beside it.
import { DurableObject } from "cloudflare:workers";
import { readConfig } from "../../config";
import type { Env } from "../../env";
import type { QueuedEvent } from "../../events/queued-event";
import type { LaneConfig } from "../lane-config";
import { orderingKeyOf } from "../ordering";
import { bodyOf } from "../payload";
import { deliveryPage, deliveryRecords, type DeliveryQuery, type DeliveryRecord } from "./log";
import { LaneOutcomes } from "./outcomes";
import { LaneRunner } from "./runner";
import { LaneSending } from "./sending";
import { laneStats, type StatsPeriod, type WebhookStats } from "./stats";
import { LaneStore, type DeliveryStatus, type EventRow } from "./store";

export type { DeliveryQuery, DeliveryRecord } from "./log";
export { STAY_AWAKE_MS } from "./runner";

/** An event as a lane takes it: a queued event, or an alert (src/alerts), whose type is not an event type. */
export type LaneEvent = Omit<QueuedEvent, "type"> & { type: string };

/** Why a retry or recover was refused; the API turns these into errors. */
export type Refusal = "not_found" | "disabled" | "already_pending";

/** The lane of a webhook: one per webhook, named by its id. */
export function laneOf(namespace: DurableObjectNamespace<EndpointLane>, webhookId: string) {
  return namespace.get(namespace.idFromName(webhookId));
}

export class EndpointLane extends DurableObject<Env> {
  private readonly store: LaneStore;
  readonly sending: LaneSending;
  private readonly runner: LaneRunner;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new LaneStore(ctx.storage);
    const envOf = () => this.env;
    this.sending = new LaneSending(envOf, this.store);
    this.runner = new LaneRunner(envOf, ctx.storage, this.store, this.sending, new LaneOutcomes(envOf, this.store));
  }

  /** Stores the events (ignoring ids it already holds) and makes sure the lane will deliver them. */
  async enqueue(config: LaneConfig, events: LaneEvent[]): Promise<{ stored: number; duplicates: number }> {
    const lane = this.store.applyConfig(config);
    if (lane.deleted) return { stored: 0, duplicates: 0 };
    const { orderingWindowMs } = readConfig(this.env);
    const now = Date.now();
    // A disabled webhook keeps what arrives as skipped (finished, for retention), for recover.
    const [status, finishedAt]: [DeliveryStatus, number | null] = lane.enabled ? ["pending", null] : ["skipped", now];
    const settings = { ordering: lane.ordering, orderingKey: lane.ordering_path };
    const stored = this.store.insertEvents(
      events.map((event) => {
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
          ordering_key: orderingKeyOf(settings, event.id, () => body),
          ordering_epoch: lane.ordering_epoch,
        };
      }),
    );
    if (stored > 0) await this.runner.scheduleNext();
    return { stored, duplicates: events.length - stored };
  }

  /** Takes a newer config of the webhook (from the API or the consumer); older versions are ignored. */
  async configure(config: LaneConfig): Promise<void> {
    this.store.flushDelivered();
    this.store.applyConfig(config);
    await this.runner.scheduleNext();
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
    await this.runner.scheduleNext();
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
    await this.runner.scheduleNext();
    return { recovered: ids.length };
  }

  /**
   * Sends a test event now, outside the line (under "endpoint" it waits only for an attempt already in flight;
   * otherwise for a free slot), once, and logs it. It is not retried and does not count against the quota; a
   * disabled webhook gets it too, since a person asked for it, typically to check the endpoint before enabling it.
   */
  async sendTest(config: LaneConfig, event: LaneEvent): Promise<DeliveryRecord | undefined> {
    this.store.flushDelivered();
    const lane = this.store.applyConfig(config);
    if (lane.deleted) return undefined;
    const body = JSON.stringify(bodyOf(event));
    const result = await this.runner.attemptTest(lane, event.id, body);
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
    return deliveryRecords(this.store.sql, [row])[0]!;
  }
}
