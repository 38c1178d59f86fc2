// A lane's alarm and timing: the single alarm armed from storage, one run at a time delivering what is due
// (in line under the default ordering, or by key through ParallelDelivery), and the rate limit's token bucket.
import { readConfig, retentionMs } from "../../config";
import type { Env } from "../../env";
import { awaitingVerification, maySend } from "../verification";
import type { LaneOutcomes } from "./outcomes";
import { batchable, batchBody, batchId, batching, batchInLine, fillBy } from "./batches";
import { ParallelDelivery, type StartGate } from "./parallel";
import { oldestFinishedAt, purgeExpired } from "./retention";
import type { LaneSending, SentAttempt, StoredTrace } from "./sending";
import { nextAlarmAt, type EventRow, type LaneRow, type LaneStore } from "./store";

/** An alarm run delivers at most this many events before yielding (it re-arms at once if more are due). */
const MAX_ATTEMPTS_PER_ALARM = 500;
/**
 * The same under "key" and "none": a run ends by letting every attempt out finish, its slots idle meanwhile, so
 * with many in flight it yields less often (the time bound still holds).
 */
const MAX_PARALLEL_ATTEMPTS_PER_ALARM = 2_000;
const MAX_ALARM_RUN_MS = 30_000;
/**
 * When the next stored event is held only a little longer by its ordering window or the rate limit's next
 * token (not by a retry's delay), the run waits for it awake instead of ending and re-arming the alarm: a lane fed a few events per
 * queue batch then wakes once per batch, not once per event (each wake-up is a billed request and a
 * setAlarm row). It costs the wait as duration, which is cheaper at this bound.
 */
export const STAY_AWAKE_MS = 1_000;

/**
 * Whether the lane delivers its line one attempt at a time: under "endpoint", and under any ordering while its
 * endpoint awaits verification (the challenge goes first and alone; verification.ts).
 */
export function inLine(lane: LaneRow, requireVerification: boolean): boolean {
  return lane.ordering === "endpoint" || awaitingVerification(lane, requireVerification);
}

/**
 * The event the alarm waits for: the line's head when it may be sent (in line), else the earliest due head of a
 * key; none for a polling lane (its consumer reads).
 */
export function dueHead(
  store: LaneStore,
  parallel: Pick<ParallelDelivery, "line">,
  requireVerification: boolean,
): Pick<EventRow, "next_attempt_at"> | undefined {
  const lane = store.lane();
  if (!lane?.enabled || lane.delivery === "poll") return undefined;
  if (inLine(lane, requireVerification)) {
    const head = store.head();
    if (!head || !maySend(lane, head, requireVerification)) return undefined;
    return { next_attempt_at: Math.max(head.next_attempt_at, store.held.get(head.order_key) ?? 0) };
  }
  const due = parallel.line.nextDueAt();
  return due === null ? undefined : { next_attempt_at: due };
}

export class LaneRunner implements StartGate {
  /** True while an alarm run is delivering; it re-arms the alarm itself when it ends. */
  private delivering = false;
  /** The attempt in flight under "endpoint", if any: every attempt waits for the one before it. */
  private inFlight: Promise<unknown> = Promise.resolve();
  /**
   * The rate limit's token bucket (one token): when the next attempt may start. In memory only: after a restart
   * the bucket starts full, so at most one attempt comes early.
   */
  private nextTokenAt = 0;
  /**
   * The time the alarm was last armed for: a run treats what was due by then as due (a run can start early
   * when driven by hand; the runtime itself fires an alarm at or after its time, when Date.now() is enough).
   */
  private armedFor: number | null = null;
  /**
   * Whether the lane is fed steadily: its last events came within STAY_AWAKE_MS of its line emptying. Such a run,
   * its line empty, waits awake up to STAY_AWAKE_MS for the next events (a queue batch or more a second) instead of
   * ending, arming the alarm for retention, and having the next batch arm it again: two setAlarm rows per batch,
   * most of what a lane fed a few events per batch wrote beside its events. A wait that times out ends it; a lane
   * fed now and then (one event per fan-out round, say) ends its run at once, as before.
   */
  private steady = false;
  /** When the last run ended with its line empty, until something arrives (scheduleNext measures the gap). */
  private emptiedAt: number | null = null;
  readonly parallel: ParallelDelivery;

  constructor(
    /** The lane's env, read at each use (a test swaps it on a live instance, as a restart with new vars would). */
    private readonly envOf: () => Env,
    private readonly storage: DurableObjectStorage,
    private readonly store: LaneStore,
    private readonly sending: LaneSending,
    private readonly outcomes: LaneOutcomes,
  ) {
    this.parallel = new ParallelDelivery(store, sending, outcomes, this);
  }

  /**
   * Until when an adaptive webhook's endpoint asked for a pause (Retry-After). In memory only: after a restart the
   * event that was answered so still waits its Retry-After (its retry time is stored), the others go.
   */
  private pausedUntil = 0;

  /** When the rate limit (and an adaptive webhook's pause) lets the next attempt start; 0 when neither holds it. */
  tokenAt(lane: LaneRow): number {
    const token = lane.rate_limit_per_second ? this.nextTokenAt : 0;
    return lane.concurrency === "adaptive" ? Math.max(token, this.pausedUntil) : token;
  }

  pause(until: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, until);
  }

  inLine(lane: LaneRow): boolean {
    return inLine(lane, readConfig(this.envOf()).requireEndpointVerification);
  }

  /** Under "key" and "none" the rate limit spaces attempt starts (several are out at once). */
  took(lane: LaneRow, at: number): void {
    if (lane.rate_limit_per_second) this.nextTokenAt = Math.max(at, this.nextTokenAt) + 1000 / lane.rate_limit_per_second;
  }

  async alarm(): Promise<void> {
    this.delivering = true;
    let emptied = false;
    try {
      await this.outcomes.syncDisable();
      await this.outcomes.syncVerified();
      // An alarm fires at or after the time it was armed for; whatever was due by then is due now. Only at
      // the start: what an attempt of this run reschedules is due when its own time comes.
      const clock = Math.max(Date.now(), this.armedFor ?? 0);
      purgeExpired(this.storage, clock, retentionMs(readConfig(this.envOf())));
      const lane = this.store.lane();
      const { requireEndpointVerification } = readConfig(this.envOf());
      if (lane && lane.delivery !== "poll" && !inLine(lane, requireEndpointVerification)) {
        await this.parallel.run(clock, Date.now() + MAX_ALARM_RUN_MS, MAX_PARALLEL_ATTEMPTS_PER_ALARM, STAY_AWAKE_MS);
      } else {
        emptied = await this.deliverInLine(clock);
      }
    } finally {
      // What this run delivered is recorded before it ends (its last outcomes may still be in a group).
      this.store.flushDelivered();
      this.delivering = false;
    }
    await this.scheduleNext();
    this.emptiedAt = emptied ? Date.now() : null;
  }

  /**
   * The default ordering (and any while the endpoint awaits verification): the line's head, one attempt at a time.
   * True when it ended because its line was empty.
   */
  private async deliverInLine(startClock: number): Promise<boolean> {
    let clock = startClock;
    const started = Date.now();
    const { requireEndpointVerification } = readConfig(this.envOf());
    for (let n = 0; n < MAX_ATTEMPTS_PER_ALARM && Date.now() - started < MAX_ALARM_RUN_MS; n++) {
      const lane = this.store.lane();
      // A polling lane never attempts: its consumer reads (poll.ts).
      if (!lane || lane.deleted || !lane.enabled || lane.delivery === "poll" || !inLine(lane, requireEndpointVerification)) break;
      const head = this.store.head();
      const now = Math.max(Date.now(), clock);
      if (!head) {
        // A lane fed steadily waits awake for its next events (see `steady`), what it delivered written first.
        if (!this.steady) return true;
        this.store.flushDelivered();
        this.steady = !(await this.parallel.whenChanged(STAY_AWAKE_MS));
        if (!this.steady) return true;
        continue;
      }
      if (!maySend(lane, head, requireEndpointVerification)) break;
      const startAt = Math.max(head.next_attempt_at, this.store.held.get(head.order_key) ?? 0, this.tokenAt(lane));
      if (startAt > now) {
        // A retry always waits on the alarm (its schedule is in storage, where a restart finds it).
        if (head.round_attempts > 0 || startAt - now > STAY_AWAKE_MS || (this.store.held.get(head.order_key) ?? 0) > now) break;
        // Storage is the truth while the lane waits: what it delivered so far is written first.
        this.store.flushDelivered();
        await new Promise((resolve) => setTimeout(resolve, startAt - now));
        // A timer fires at or after its time (and a test's frozen clock must not make this wait again).
        clock = startAt;
        continue;
      }
      if (batchable(lane, head)) {
        const sent = await this.sendBatchInLine(lane, head, now);
        if (sent === "stop") break;
        if (sent === "waited") clock = Math.max(clock, Date.now());
        else clock = 0;
        continue;
      }
      const result = await this.exclusive(() => this.sending.attempt(lane, head.id, head.body, head, head));
      try {
        await this.outcomes.ofHead(lane, head, result);
      } catch (err) {
        // Held until its retry, not tried again at once (storage still says it is due); the run ends, so a
        // failing storage does not see more attempts pile up behind it.
        this.outcomes.recordingFailed(lane, head, err);
        break;
      }
      clock = 0;
    }
    return false;
  }

  /**
   * The batch the head opens (batches.ts), sent as one request once it is full or has waited its maxWaitMs (awake:
   * at most 10 s, woken by every event stored meanwhile), and its outcome recorded. "waited" when it is not full yet
   * and the wait was cut short or ran out (the loop forms it again), "stop" when its outcome could not be written.
   */
  private async sendBatchInLine(lane: LaneRow, head: EventRow, now: number): Promise<"sent" | "waited" | "stop"> {
    // Storage is the truth the batch is read from: the successes grouped so far are written first.
    this.store.flushDelivered();
    const batch = batchInLine(this.store.sql, head, lane.batch_max_events!, now, this.store.held);
    const { events } = batch;
    const until = fillBy(lane, batch, now);
    if (until !== null) {
      await this.parallel.whenChanged(until - now);
      return "waited";
    }
    const id = await batchId(events.map((e) => e.id));
    const body = batchBody(events.map((e) => e.body));
    const result = await this.exclusive(() => this.sending.attempt(lane, id, body, events[0]!));
    try {
      await this.outcomes.ofBatch(lane, events, result, id);
    } catch (err) {
      for (const event of events) this.outcomes.recordingFailed(lane, event, err);
      return "stop";
    }
    if (result.delivered) this.store.passedInLine(events);
    return "sent";
  }

  /**
   * A test event's one attempt: after the attempt in flight under "endpoint"; in a slot of its own otherwise
   * (it counts against maxInFlight and the 6 per object).
   */
  async attemptTest(lane: LaneRow, testId: string, testBody: string, trace: StoredTrace): Promise<SentAttempt> {
    // A batching webhook's endpoint gets its test as it gets every event: a batch (of one).
    const eventId = batching(lane) ? await batchId([testId]) : testId;
    const body = batching(lane) ? batchBody([testBody]) : testBody;
    if (inLine(lane, readConfig(this.envOf()).requireEndpointVerification))
      return this.exclusive(() => this.sending.attempt(lane, eventId, body, trace));
    return this.parallel.inSlot(lane, eventId, (slot) => this.sending.attemptFrom(slot, lane, eventId, body, trace));
  }

  /** Arms the single alarm for what storage says is due next, or clears it when nothing is. */
  async scheduleNext(): Promise<void> {
    this.parallel.notify();
    if (this.delivering) return;
    // The first events (or change) since the line emptied: soon enough, and the next empty line is waited out.
    if (this.emptiedAt !== null) this.steady = Date.now() - this.emptiedAt < STAY_AWAKE_MS;
    this.emptiedAt = null;
    const lane = this.store.lane();
    const due = nextAlarmAt({
      lane,
      head: dueHead(this.store, this.parallel, readConfig(this.envOf()).requireEndpointVerification),
      oldestFinishedAt: oldestFinishedAt(this.store.sql),
      retentionMs: retentionMs(readConfig(this.envOf())),
      now: Date.now(),
      tokenAt: lane ? this.tokenAt(lane) : 0,
    });
    this.armedFor = due;
    if (due === null) {
      await this.storage.deleteAlarm();
      return;
    }
    if ((await this.storage.getAlarm()) !== due) await this.storage.setAlarm(due);
  }

  /**
   * Runs the attempt `task` after the attempt in flight (if any) has ended. The rate limit's next token is
   * counted from when its answer came (a clock read after I/O, so never early): attempts start at least 1/rate s
   * apart at the endpoint, whatever the Worker's own clock said when this one started.
   */
  private exclusive(task: () => Promise<SentAttempt>): Promise<SentAttempt> {
    const timed = async () => {
      const result = await task();
      const lane = this.store.lane();
      if (lane?.rate_limit_per_second) this.nextTokenAt = Date.now() + 1000 / lane.rate_limit_per_second;
      return result;
    };
    const run = this.inFlight.then(timed, timed);
    this.inFlight = run.catch(() => {});
    return run;
  }
}
