// Delivery under "key" and "none" (docs/ordering.md): up to maxInFlight attempts out at once (or the limit adaptive
// concurrency found, adaptive.ts), never two of one key, at most 6 from any one object (the lane itself is slot 0,
// each sender object takes 6 more).
import { MAX_OUTGOING_PER_OBJECT } from "../ordering";
import { AdaptiveConcurrency } from "./adaptive";
import { Batch, batchable, batchBody, batchId, fillBy, joins } from "./batches";
import { KeyedLine } from "./keyed-line";
import type { LaneOutcomes } from "./outcomes";
import type { LaneSending, SentAttempt } from "./sending";
import { VERIFICATION_EVENT_TYPE } from "../verification";
import type { EventRow, LaneRow, LaneStore } from "./store";

/** What a run needs from its lane's clock: when the rate limit lets the next attempt start, and taking a token. */
export interface StartGate {
  tokenAt(lane: LaneRow): number;
  took(lane: LaneRow, at: number): void;
  /** Whether the lane is back to one attempt at a time (runner.ts inLine): a run then stops starting. */
  inLine(lane: LaneRow): boolean;
  /** An adaptive webhook's endpoint asked for a pause (a Retry-After on a 429 or 503): no attempt starts before `until`. */
  pause(until: number): void;
}

/** How long a sender object that could not be reached is passed over. */
const SENDER_BACKOFF_MS = 5_000;

/** One attempt out: the keys it holds (one, or a batch's) and its slot. */
interface Held {
  keys: string[];
  slot: number;
}

export class ParallelDelivery {
  readonly line: KeyedLine;
  readonly adaptive: AdaptiveConcurrency;
  /** Attempts out: the key each holds, by order key (a test event holds a key of its own) and its slot. */
  private readonly out = new Map<string, Held>();
  private readonly busyKeys = new Set<string>();
  private readonly slotLoad: number[] = [];
  /** Sender slots that could not be reached, until when they are passed over (never slot 0: the lane itself). */
  private readonly avoided = new Map<number, number>();
  private readonly inLine: (lane: LaneRow) => boolean;
  private readonly settling = new Set<Promise<void>>();
  private waiters: ((timedOut: boolean) => void)[] = [];

  constructor(
    private readonly store: LaneStore,
    private readonly sending: LaneSending,
    private readonly outcomes: LaneOutcomes,
    private readonly gate: StartGate,
  ) {
    this.line = new KeyedLine(store);
    this.adaptive = new AdaptiveConcurrency(store.sql);
    this.inLine = (lane) => gate.inLine(lane);
  }

  /** Something changed that may let an attempt start (an attempt ended, events arrived, a config came). */
  notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake(false);
  }

  /**
   * Until the next notify (false), or until `ms` have passed when given (true). A notify clears the timer: a busy
   * lane waits once per attempt that ends, and an object holds at most 10,000 active timeouts (attempt.ts).
   */
  whenChanged(ms: number | null = null): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      if (ms === null) {
        this.waiters.push(resolve);
        return;
      }
      const timer = setTimeout(() => resolve(true), ms);
      this.waiters.push((timedOut) => {
        clearTimeout(timer);
        resolve(timedOut);
      });
    });
  }

  /** Keys with an event out. */
  get busy(): ReadonlySet<string> {
    return this.busyKeys;
  }

  /**
   * A free slot for one more attempt (the lane's own first, then sender 1, 2, …), or undefined when maxInFlight (or
   * the adaptive limit) are out.
   */
  private freeSlot(lane: LaneRow): number | undefined {
    if (this.out.size >= this.adaptive.limit(lane)) return undefined;
    const slots = Math.ceil(lane.max_in_flight / MAX_OUTGOING_PER_OBJECT);
    const now = Date.now();
    for (let slot = 0; slot < slots; slot++) {
      if ((this.avoided.get(slot) ?? 0) > now) continue;
      if ((this.slotLoad[slot] ?? 0) < MAX_OUTGOING_PER_OBJECT) return slot;
    }
    return undefined;
  }

  /** Takes a slot and the events' keys for one attempt; the returned hold gives back exactly that attempt's. */
  private take(orderKey: string, keys: string[], slot: number): Held {
    const held = { keys, slot };
    this.out.set(orderKey, held);
    for (const key of keys) this.busyKeys.add(key);
    this.slotLoad[slot] = (this.slotLoad[slot] ?? 0) + 1;
    return held;
  }

  /** Gives back an attempt's slot and key, once (a later attempt of the same event holds its own). */
  private give(orderKey: string, held: Held): void {
    if (this.out.get(orderKey) !== held) return;
    this.out.delete(orderKey);
    for (const key of held.keys) this.busyKeys.delete(key);
    this.slotLoad[held.slot]!--;
    this.notify();
  }

  /**
   * Delivers what is ready until `until` (or `maxStarts` attempts), then waits for the attempts out. Stops
   * starting when the webhook is disabled, deleted or back on "endpoint". What was due by `clock` (the time the
   * alarm was armed for) is due now.
   */
  run(clock: number, until: number, maxStarts: number, stayAwakeMs: number): Promise<void> {
    // An alarm run driven by hand while one is going joins it: one loop owns the slots.
    this.running ??= this.loop(clock, until, maxStarts, stayAwakeMs).finally(() => (this.running = undefined));
    return this.running;
  }

  private running: Promise<void> | undefined;

  /** Attempts out now (test events included). */
  get attemptsOut(): number {
    return this.out.size;
  }

  private async loop(startClock: number, until: number, maxStarts: number, stayAwakeMs: number): Promise<void> {
    let clock = startClock;
    const now = () => Math.max(Date.now(), clock);
    let started = 0;
    for (;;) {
      const lane = this.store.lane();
      const starting = !!lane && !lane.deleted && !!lane.enabled && !this.inLine(lane) && started < maxStarts && Date.now() < until;
      let waitUntil: number | null = null;
      // A batch waiting to fill waits awake (at most maxWaitMs, 10 s): an alarm would find its head due already.
      let filling = false;
      if (starting) {
        for (let slot = this.freeSlot(lane); slot !== undefined; slot = this.freeSlot(lane)) {
          const at = now();
          const tokenAt = this.gate.tokenAt(lane);
          if (tokenAt > at) {
            waitUntil = tokenAt;
            break;
          }
          let event = this.line.next(at, this.busyKeys, lane.max_in_flight);
          // Delivered events not written yet still count in their epoch: written, a later epoch may start.
          if (!event && this.store.unwrittenKeys().length > 0) {
            this.store.flushDelivered();
            event = this.line.next(at, this.busyKeys, lane.max_in_flight);
          }
          if (!event) {
            const due = this.line.nextDueAt(this.busyKeys);
            if (due !== null) waitUntil = Math.max(due, at + 1);
            break;
          }
          const batch = batchable(lane, event) ? this.gather(lane, event, at) : undefined;
          const events = batch?.events ?? [event];
          const until = batch ? fillBy(lane, batch, at) : null;
          if (until !== null) {
            this.line.putBack(events);
            waitUntil = until;
            filling = true;
            break;
          }
          this.gate.took(lane, at);
          this.start(lane, events, slot);
          started++;
        }
      }
      if (this.out.size === 0) {
        if (!starting || (waitUntil !== null && !filling && waitUntil - now() > stayAwakeMs)) break;
        if (waitUntil === null) {
          // Nothing pending: stay awake a little for the next events, which then start the moment they are
          // stored instead of after a new alarm (a retry's time is in storage, where the alarm finds it).
          if (await this.whenChanged(stayAwakeMs)) break;
          continue;
        }
      }
      const timedOut = await this.whenChanged(starting && waitUntil !== null ? Math.max(0, waitUntil - now()) : null);
      // A timer fires at or after its time (and a clock ahead of Date.now(), in a run started early, must not make this wait again).
      if (timedOut && waitUntil !== null) clock = Math.max(clock, waitUntil);
    }
    await Promise.all(this.settling);
  }

  /**
   * The batch `first` opens (batches.ts): it and other ready heads that join it and fit in MAX_BATCH_BYTES, at most one event per key (so no
   * key has two events out, and each key's next waits for the batch's outcome), in place-in-line order.
   */
  private gather(lane: LaneRow, first: EventRow, now: number): Batch {
    const batch = new Batch(first);
    const busy = new Set(this.busyKeys).add(first.ordering_key!);
    // The line hands over exactly the head it accepts, so the one the batch took is the one added.
    const takes = (e: EventRow, heldUntil: number) => joins(first, e, now, heldUntil) && batch.add(e);
    while (batch.events.length < lane.batch_max_events!) {
      const event = this.line.next(now, busy, lane.max_in_flight, takes);
      if (!event) break;
      busy.add(event.ordering_key!);
    }
    return batch;
  }

  /** Sends one event alone, or a batch's (any number of them, as one request, on a batching lane). */
  private async send(lane: LaneRow, events: EventRow[], slot: number): Promise<{ result: SentAttempt; batchId?: string }> {
    const first = events[0]!;
    if (!batchable(lane, first)) return { result: await this.sending.attemptFrom(slot, lane, first.id, first.body, first) };
    const id = await batchId(events.map((e) => e.id));
    const body = batchBody(events.map((e) => e.body));
    return { result: await this.sending.attemptFrom(slot, lane, id, body, first), batchId: id };
  }

  private start(lane: LaneRow, events: EventRow[], slot: number): void {
    const event = events[0]!;
    const held = this.take(
      event.order_key,
      events.map((e) => e.ordering_key!),
      slot,
    );
    const inflight = this.out.size;
    const settled = this.send(lane, events, slot)
      .then(async ({ result, batchId }) => {
        this.adaptive.observe(lane, inflight, result);
        // An adaptive webhook's endpoint that asks for a pause gets it whole, not only for this event.
        if (lane.concurrency === "adaptive" && result.retryAfterMs !== null)
          this.gate.pause(result.at + result.durationMs + result.retryAfterMs);
        // A sender that could not be reached is passed over for a while: the event goes again from another object.
        if (result.serviceFailure && slot > 0) this.avoided.set(slot, Date.now() + SENDER_BACKOFF_MS);
        const counted = !this.adaptive.probeRefused(lane, inflight, result);
        const quota =
          batchId === undefined
            ? this.outcomes.ofParallel(lane, event, result, counted)
            : this.outcomes.ofBatch(lane, events, result, batchId, counted);
        // A challenge's answer is judged with an HMAC (asynchronous): its outcome is kept before its key is free
        // again, else the still-pending challenge would be picked and sent a second time.
        if (event.type === VERIFICATION_EVENT_TYPE) await quota;
        for (const e of events) this.line.released(e);
        // The next event of its key may start once this outcome is kept; the quota's answer can come after.
        this.give(event.order_key, held);
        return quota;
      })
      .catch((err) => {
        for (const e of events) this.outcomes.recordingFailed(lane, e, err);
      })
      .finally(() => {
        this.give(event.order_key, held);
        this.settling.delete(settled);
      });
    this.settling.add(settled);
  }

  /**
   * Runs a test event's attempt in a slot of its own (it counts against maxInFlight and the 6 per object),
   * waiting for one to be free.
   */
  async inSlot(lane: LaneRow, eventId: string, attempt: (slot: number) => Promise<SentAttempt>): Promise<SentAttempt> {
    let slot = this.freeSlot(lane);
    while (slot === undefined) {
      await this.whenChanged();
      slot = this.freeSlot(this.store.lane() ?? lane);
    }
    const orderKey = `test:${eventId}`;
    const held = this.take(orderKey, [orderKey], slot);
    try {
      return await attempt(slot);
    } finally {
      this.give(orderKey, held);
    }
  }
}
