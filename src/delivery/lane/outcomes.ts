// What a lane does with an attempt's outcome: records it (successes of a backlog grouped under the default
// ordering), schedules the retry or drops the event, and hands a failure to the workspace's quota, turning
// itself off when the quota says so.
import { readConfig } from "../../config";
import { openDb } from "../../db/client";
import type { DisabledReason } from "../../db/schema";
import { disableWebhook, markAlertUrlVerified, markVerified } from "../../db/webhooks";
import type { Env } from "../../env";
import { quotaOf } from "../../bindings";
import { signingSecrets } from "../../lib/rotation";
import type { LaneSecrets } from "./secrets";
import type { SentAttempt } from "./sending";
import { nextAttemptAt } from "../schedule";
import { challengeIn, judgeChallenge, VERIFICATION_EVENT_TYPE } from "../verification";
import { OUTCOME_GROUP_SIZE, type DeliveryStatus, type EventRow, type LaneRow, type LaneStore } from "./store";

export class LaneOutcomes {
  constructor(
    /** The lane's env, read at each use (a test swaps it on a live instance, as a restart with new vars would). */
    private readonly envOf: () => Env,
    private readonly store: LaneStore,
    private readonly secrets: LaneSecrets,
  ) {}

  /** A failed attempt's next state: pending until the next retry, or dropped after the schedule's last. */
  private failedState(lane: LaneRow, event: EventRow, result: SentAttempt, endedAt: number) {
    // The webhook's own schedule, if it has one, as the lane holds it now: a change applies from the next retry.
    const delays = lane.retry_delays ? (JSON.parse(lane.retry_delays) as number[]) : readConfig(this.envOf()).retryDelaysSeconds;
    const next = nextAttemptAt(event.round_attempts + 1, endedAt, delays, result.retryAfterMs);
    return next === null
      ? { status: "dropped" as DeliveryStatus, finishedAt: endedAt, nextAttemptAt: event.next_attempt_at }
      : { status: "pending" as DeliveryStatus, finishedAt: null, nextAttemptAt: next };
  }

  /** The outcome of the line's head (the default ordering, or a verification challenge under any). */
  async ofHead(lane: LaneRow, event: EventRow, sent: SentAttempt): Promise<void> {
    const challenge = event.type === VERIFICATION_EVENT_TYPE;
    // Either secret in force when the answer came verifies it (a rotation's previous one during its grace).
    const secrets = async () => signingSecrets((await this.secrets.of(lane)).keys, sent.at + sent.durationMs);
    const result = challenge ? await judgeChallenge(sent, challengeIn(event.body), await secrets()) : sent;
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
    if (!this.store.recordOutcome(event, result, this.failedState(lane, event, result, endedAt))) return;
    // A challenge's failures count against nothing: an endpoint that has not verified was never sent an event.
    if (!challenge) await this.countFailure(lane, event, result, endedAt);
  }

  /**
   * The endpoint answered the challenge `event`: recorded at once (not grouped: what it holds back goes next), then
   * in D1, retried by the alarm until it is done (a failure only delays the webhook object's verifiedAt: the lane
   * holds the truth). Only if the lane still has the URL the challenge went to.
   */
  private async recordVerified(lane: LaneRow, event: EventRow, result: SentAttempt, endedAt: number): Promise<void> {
    this.store.flushDelivered();
    const recorded = this.store.recordOutcome(event, result, {
      status: "delivered",
      finishedAt: endedAt,
      nextAttemptAt: event.next_attempt_at,
    });
    if (!recorded || this.store.lane()?.url !== lane.url) return;
    this.store.recordVerified(endedAt);
    await this.syncVerified();
  }

  async syncVerified(): Promise<void> {
    const lane = this.store.lane();
    if (!lane?.verified_sync_pending || lane.verified_at === null) return;
    try {
      const db = openDb(this.envOf().DB);
      const at = new Date(lane.verified_at);
      // An alerts lane's endpoint is its workspace's alertUrl.
      if (lane.kind === "alerts") await markAlertUrlVerified(db, lane.workspace_id, lane.url, at);
      else await markVerified(db, lane.webhook_id, lane.url, at);
      this.store.markVerifiedSynced();
    } catch (err) {
      console.error(`lane ${lane.webhook_id}: could not record its verification in D1 yet:`, err);
    }
  }

  /**
   * The outcome of an attempt under "key" or "none". A success is kept with the others of its group, like the
   * line's (the next event of its key may start meanwhile: the keyed line counts it finished); a failure is
   * written at once. One that ends after a disable is still recorded: delivered if it was, kept skipped (for
   * recover) if not, and a failure still counts against the quota. Returns the quota's part, which the caller
   * may await after giving the slot back.
   */
  ofParallel(event: EventRow, result: SentAttempt): Promise<void> | undefined {
    const endedAt = result.at + result.durationMs;
    const lane = this.store.lane();
    if (!lane || lane.deleted) return undefined;
    // While enabled, storage holds the event as pending (a disable writes the group before it skips the rest).
    if (result.delivered && lane.enabled) {
      if (this.store.deferDelivered(event, result, endedAt) >= OUTCOME_GROUP_SIZE) this.store.flushDelivered();
      return undefined;
    }
    const now = this.store.sql
      .exec<{ status: DeliveryStatus; finished_at: number | null }>("SELECT status, finished_at FROM events WHERE id = ?", event.id)
      .toArray()[0];
    if (!now || (now.status !== "pending" && now.status !== "skipped")) return undefined;
    const from = now.status;
    const state = result.delivered
      ? { status: "delivered" as DeliveryStatus, finishedAt: endedAt, nextAttemptAt: event.next_attempt_at }
      : from === "skipped"
        ? { status: "skipped" as DeliveryStatus, finishedAt: now.finished_at, nextAttemptAt: event.next_attempt_at }
        : this.failedState(lane, event, result, endedAt);
    if (!this.store.recordOutcome(event, result, state, from) || result.delivered) return undefined;
    return this.countFailure(lane, event, result, endedAt);
  }

  private async countFailure(lane: LaneRow, event: EventRow, result: SentAttempt, endedAt: number): Promise<void> {
    // An alerts lane's failures count against no quota and never turn it off (a 410 included): the
    // workspace's alertUrl is changed or cleared by a person, and an alert about alerts would be a loop.
    if (lane.kind === "alerts") return;
    // The quota decides, and owns the email it owes when it says so; the lane only turns itself off.
    const verdict = await quotaOf(this.envOf().WORKSPACE_QUOTA, lane.workspace_id, lane.data_location).recordFailure({
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

  async syncDisable(): Promise<void> {
    const lane = this.store.lane();
    if (!lane?.d1_sync_pending) return;
    try {
      await disableWebhook(openDb(this.envOf().DB), lane.webhook_id, lane.disabled_reason ?? "manual", new Date(lane.config_version));
      this.store.markSynced();
    } catch (err) {
      console.error(`lane ${lane.webhook_id}: could not record its disable in D1 yet:`, err);
    }
  }
}
