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
import type { EventState } from "./record-attempt";
import { OUTCOME_GROUP_SIZE, type EventRow, type LaneRow, type LaneStore } from "./store";

export class LaneOutcomes {
  constructor(
    /** The lane's env, read at each use (a test swaps it on a live instance, as a restart with new vars would). */
    private readonly envOf: () => Env,
    private readonly store: LaneStore,
    private readonly secrets: LaneSecrets,
  ) {}

  /**
   * A failed attempt's next state: pending until the next retry, or dropped after the schedule's last. A failure of
   * the service's own (a sender object that could not be reached) leaves the event due at once, its round unchanged.
   */
  private failedState(lane: LaneRow, event: EventRow, result: SentAttempt, endedAt: number): EventState {
    if (result.serviceFailure) return { status: "pending", finishedAt: null, nextAttemptAt: endedAt, roundAttempts: event.round_attempts };
    const next = nextAttemptAt(event.round_attempts + 1, endedAt, this.delays(lane), result.retryAfterMs);
    return next === null
      ? { status: "dropped", finishedAt: endedAt, nextAttemptAt: event.next_attempt_at }
      : { status: "pending", finishedAt: null, nextAttemptAt: next };
  }

  /** The webhook's own schedule, if it has one, as the lane holds it now: a change applies from the next retry. */
  private delays(lane: LaneRow): number[] {
    return lane.retry_delays ? (JSON.parse(lane.retry_delays) as number[]) : readConfig(this.envOf()).retryDelaysSeconds;
  }

  /**
   * A success, kept with the others of its group (store.ts OUTCOME_GROUP_SIZE) while the lane's config is the one
   * the attempt started under (`lane`) and enabled: storage then holds the event as pending, and while a backlog
   * lasts the next request goes out without waiting for this one's commit. Otherwise (a config, a disable or an
   * enable came while the request was out) it is written at once: delivered whatever became of the event.
   */
  private delivered(lane: LaneRow, event: EventRow, result: SentAttempt, endedAt: number): void {
    if (this.store.lane() === lane && lane.enabled) {
      if (this.store.deferDelivered(event, result, endedAt) >= OUTCOME_GROUP_SIZE) this.store.flushDelivered();
      return;
    }
    this.store.flushDelivered();
    this.store.recordOutcome(event, result, { status: "delivered", finishedAt: endedAt, nextAttemptAt: event.next_attempt_at });
  }

  /**
   * The outcome of the line's head (the default ordering, or a verification challenge under any), from the
   * attempt started under `lane`. A failure is written at once, after the successes before it, since retries, the
   * quota and a disable act on it; one of an event a disable skipped meanwhile is logged and leaves it skipped.
   */
  async ofHead(lane: LaneRow, event: EventRow, sent: SentAttempt): Promise<void> {
    const challenge = event.type === VERIFICATION_EVENT_TYPE;
    // Either secret in force when the answer came verifies it (a rotation's previous one during its grace).
    const secrets = async () => signingSecrets((await this.secrets.of(lane)).keys, sent.at + sent.durationMs);
    const result = challenge ? await judgeChallenge(sent, challengeIn(event.body), await secrets()) : sent;
    const endedAt = result.at + result.durationMs;
    if (challenge && result.delivered) return this.recordVerified(lane, event, result, endedAt);
    if (result.delivered) return this.delivered(lane, event, result, endedAt);
    this.store.flushDelivered();
    if (!this.store.recordOutcome(event, result, this.failedState(lane, event, result, endedAt))) return;
    // A challenge's failures count against nothing: an endpoint that has not verified was never sent an event.
    if (!challenge) await this.countFailure(lane, event, result, endedAt);
  }

  /**
   * The outcome of an attempt under "key" or "none", started under `lane`: as the line's (the next event of its
   * key may start once it returns: a kept success counts as finished). A failure of the service's own (a sender
   * object that could not be reached) is logged as such, counts against nothing, and leaves the event due at once
   * with its retry schedule where it was. Returns the quota's part, which the caller may await after giving the
   * slot back. `counted` false: a failure that is retried as usual but not reported to the quota (an adaptive
   * webhook's probe refused, docs/ordering.md).
   */
  ofParallel(lane: LaneRow, event: EventRow, result: SentAttempt, counted = true): Promise<void> | undefined {
    if (event.type === VERIFICATION_EVENT_TYPE) return this.ofHead(lane, event, result);
    const endedAt = result.at + result.durationMs;
    if (this.store.lane()?.deleted) return undefined;
    if (result.delivered) {
      this.delivered(lane, event, result, endedAt);
      return undefined;
    }
    if (!this.store.recordOutcome(event, result, this.failedState(lane, event, result, endedAt)) || result.serviceFailure || !counted)
      return undefined;
    return this.countFailure(lane, event, result, endedAt);
  }

  /**
   * The outcome of a batch (batches.ts) sent as `batchId`, started under `lane`, under any ordering: a 2xx delivered
   * every event in it (written at once, in one transaction: a crash repeats at most the batch); anything else failed
   * every one, each to its next retry, which the batch's events share: it is retried as one. One failed request is
   * one failure for the quota, reported as the batch (`counted` false: not reported, as in ofParallel). A failure of
   * the service's own leaves them due at once, counted nowhere. Returns the quota's part, as ofParallel does.
   */
  ofBatch(lane: LaneRow, events: readonly EventRow[], result: SentAttempt, batchId: string, counted = true): Promise<void> | undefined {
    const endedAt = result.at + result.durationMs;
    if (this.store.lane()?.deleted) return undefined;
    if (result.delivered) {
      for (const event of events) this.delivered(lane, event, result, endedAt);
      this.store.flushDelivered();
      return undefined;
    }
    this.store.flushDelivered();
    let recorded = false;
    for (const event of events)
      recorded = this.store.recordOutcome(event, result, this.failedState(lane, event, result, endedAt)) || recorded;
    if (!recorded || result.serviceFailure || !counted || !events[0]) return undefined;
    return this.countFailure(lane, { ...events[0], id: batchId }, result, endedAt);
  }

  /**
   * The outcome of an attempt of `event` could not be written (a storage error): it is not tried again at once (it
   * would be, over and over: storage still says it is due) but on the webhook's schedule, as if it had failed;
   * held in memory until then, and the time written when storage takes it. Its outcome is lost, as after a crash.
   */
  recordingFailed(lane: LaneRow, event: EventRow, err: unknown): void {
    const now = Date.now();
    const delays = this.delays(lane);
    const at = nextAttemptAt(event.round_attempts + 1, now, delays, null) ?? now + delays.at(-1)! * 1000;
    console.error(
      `lane ${lane.webhook_id}: recording an attempt of ${event.id} failed; tried again at ${new Date(at).toISOString()}:`,
      err,
    );
    this.store.held.set(event.order_key, at);
    try {
      this.store.sql.exec("UPDATE events SET next_attempt_at = ? WHERE order_key = ? AND status = 'pending'", at, event.order_key);
    } catch (again) {
      console.error(`lane ${lane.webhook_id}: its retry time is held in memory only:`, again);
    }
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

  private async countFailure(lane: LaneRow, event: EventRow, result: SentAttempt, endedAt: number): Promise<void> {
    // An alerts lane's failures count against no quota and never turn it off (a 410 included): the
    // workspace's alertUrl is changed or cleared by a person, and an alert about alerts would be a loop.
    if (lane.kind === "alerts") return;
    // Turned off by an auto-disable since the attempt started (the 31st failure or a 410 of another attempt out):
    // that disable was the one notice; this failure counts nothing (the quota also refuses it, by config version).
    const current = this.store.lane();
    if (current && !current.enabled && current.disabled_reason !== "manual" && current.config_version > lane.config_version) return;
    // The quota decides, and owns the email it owes when it says so; the lane only turns itself off.
    const verdict = await quotaOf(this.envOf().WORKSPACE_QUOTA, lane.workspace_id, lane.data_location).recordFailure({
      webhookId: lane.webhook_id,
      workspaceId: lane.workspace_id,
      url: lane.url,
      eventId: event.id,
      at: endedAt,
      configVersion: lane.config_version,
      statusCode: result.statusCode,
      error: result.error,
    });
    // A repeated disable applies only to a lane still on the config it ended (an enable since starts a new one).
    const now = this.store.lane();
    if (verdict.disable && now?.enabled && (!verdict.repeated || now.config_version === lane.config_version)) {
      await this.disable(verdict.disable, endedAt);
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
