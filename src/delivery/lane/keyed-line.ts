// The line of a webhook ordered by key or not at all (docs/ordering.md): which pending events may start now.
//
// Each key's head is its pending event with the lowest place in line; a key with an event in flight has none
// that may start. Events of a later ordering epoch (a change of ordering or key path) wait until every event of
// the earlier ones has finished, since keys of two settings cannot be compared. The heads are a table of their
// own (schema.ts key_heads, kept by triggers as events are stored and finished), so finding the next ones reads
// a few rows whatever the backlog: heads ready now are read ahead in place-in-line order, a batch at a time, and
// taken from memory until a write moves a head (LaneStore.changes).
import { byLineKey } from "./schema";
import type { EventRow, LaneStore } from "./store";

/** Ready heads read ahead at once, at least; twice maxInFlight when that is more. */
const READ_AHEAD = 32;

/** The earliest epoch with a pending event (the only one whose heads may start), or null when none is pending. */
const EARLIEST_EPOCH = "SELECT MIN(epoch) AS epoch FROM key_heads";

/** Heads of the epoch due by a time, in place-in-line order (the index's order: rows read stop at the LIMIT). */
const HEADS_IN_LINE = `
  SELECT e.* FROM key_heads h INDEXED BY key_heads_in_line JOIN events e ON e.order_key = h.order_key
  WHERE h.epoch = ? AND h.due <= ? ORDER BY h.line_key LIMIT ?`;

/** Heads of the epoch by due time, earliest first. */
const HEADS_BY_DUE = `
  SELECT order_key, ordering_key, due FROM key_heads INDEXED BY key_heads_by_due WHERE epoch = ? ORDER BY due LIMIT ?`;

/** A key's next pending event after a place in line: one step of the pending index. */
const NEXT_OF_KEY = `
  SELECT * FROM events INDEXED BY events_by_ordering_key
  WHERE ordering_epoch = ? AND ordering_key = ? AND status = 'pending' AND line_key > ? ORDER BY line_key LIMIT 1`;

export class KeyedLine {
  private ahead: EventRow[] = [];
  private readAt = -1;
  private aheadEpoch: number | null = null;

  constructor(private readonly store: LaneStore) {}

  /**
   * The next head ready at `now` whose key is not in `busy` (keys with an event in flight) and that `accept`
   * takes, or undefined: the first head `accept` answers true for is the one returned (a batch adds it as it
   * accepts it, parallel.ts gather). Read ahead: one query per batch, not per attempt.
   */
  next(
    now: number,
    busy: ReadonlySet<string>,
    maxInFlight: number,
    accept: (event: EventRow, heldUntil: number) => boolean = () => true,
  ): EventRow | undefined {
    if (this.readAt !== this.store.changes) this.ahead = [];
    for (let round = 0; round < 2; round++) {
      const unwritten = new Set(this.store.unwrittenKeys());
      // Those that may not start are dropped (read again later); those that may but are not accepted stay.
      for (let i = 0; i < this.ahead.length; ) {
        const event = this.ahead[i]!;
        if (busy.has(event.ordering_key!) || unwritten.has(event.order_key) || this.dueAt(event) > now) this.ahead.splice(i, 1);
        else if (accept(event, this.store.held.get(event.order_key) ?? 0)) return this.ahead.splice(i, 1)[0];
        else i++;
      }
      // Heads ready but none accepted: reading again would give the same ones.
      if (round === 1 || this.ahead.length > 0) break;
      this.ahead = this.read(now, busy, Math.max(READ_AHEAD, 2 * maxInFlight));
      this.readAt = this.store.changes;
      if (this.ahead.length === 0) return undefined;
    }
    return undefined;
  }

  /** Heads taken by next() that did not start after all (a batch waiting to fill): back in their places. */
  putBack(events: readonly EventRow[]): void {
    if (this.readAt !== this.store.changes) return;
    this.ahead = [...events, ...this.ahead].sort(byLineKey);
  }

  /**
   * The attempt of `event` ended and its outcome is kept (written, or grouped in memory): if that left its key a
   * next event, it joins those read ahead in its place, so a busy key goes on without waiting for the next read.
   */
  released(event: EventRow): void {
    if (this.readAt !== this.store.changes || this.ahead.length === 0 || event.ordering_epoch !== this.aheadEpoch) return;
    const next = this.nextOf(this.aheadEpoch, event.ordering_key!);
    if (!next || this.ahead.some((e) => e.order_key === next.order_key)) return;
    const at = this.ahead.findIndex((e) => e.line_key > next.line_key);
    this.ahead.splice(at < 0 ? this.ahead.length : at, 0, next);
  }

  /** When the earliest head of a key not in `busy` is due (null when none is pending): what the alarm waits for. */
  nextDueAt(busy: ReadonlySet<string> = new Set()): number | null {
    const epoch = this.epoch();
    if (epoch === null) return null;
    const unwritten = this.store.unwrittenEvents();
    const skip = new Set(unwritten.map((e) => e.order_key));
    const heads = this.store.sql
      .exec<{ order_key: string; ordering_key: string; due: number }>(HEADS_BY_DUE, epoch, busy.size + skip.size + this.store.held.size + 1)
      .toArray();
    let due: number | null = null;
    const earliest = (at: number) => (due = due === null ? at : Math.min(due, at));
    for (const head of heads) {
      if (busy.has(head.ordering_key) || skip.has(head.order_key)) continue;
      earliest(Math.max(head.due, this.store.held.get(head.order_key) ?? 0));
    }
    for (const next of this.nextOfUnwritten(epoch, busy)) earliest(this.dueAt(next));
    return due;
  }

  /** When `event` may start: its due time, or later while a failed recording holds it (LaneStore.hold). */
  private dueAt(event: EventRow): number {
    return Math.max(event.next_attempt_at, this.store.held.get(event.order_key) ?? 0);
  }

  private epoch(): number | null {
    return this.store.sql.exec<{ epoch: number | null }>(EARLIEST_EPOCH).one().epoch;
  }

  /**
   * Up to `want` heads of the earliest epoch ready at `now`, in place-in-line order: those of the table (past the
   * busy keys and the delivered heads not written yet, which storage still holds as pending) and, for each key
   * whose head is such a delivered one, the event after it.
   */
  private read(now: number, busy: ReadonlySet<string>, want: number): EventRow[] {
    const epoch = this.epoch();
    this.aheadEpoch = epoch;
    if (epoch === null) return [];
    const skip = new Set(this.store.unwrittenKeys());
    const limit = want + busy.size + skip.size + this.store.held.size;
    const heads = this.store.sql.exec<EventRow>(HEADS_IN_LINE, epoch, now, limit).toArray();
    const ready = heads.filter((e) => !busy.has(e.ordering_key!) && !skip.has(e.order_key) && this.dueAt(e) <= now);
    for (const next of this.nextOfUnwritten(epoch, busy)) if (this.dueAt(next) <= now) ready.push(next);
    return ready.sort(byLineKey);
  }

  /** For each key not in `busy` whose head was delivered but is not written yet: its next pending event. */
  private nextOfUnwritten(epoch: number, busy: ReadonlySet<string>): EventRow[] {
    const keys = new Set<string>();
    for (const e of this.store.unwrittenEvents()) if (e.ordering_epoch === epoch && e.ordering_key !== null) keys.add(e.ordering_key);
    const found: EventRow[] = [];
    for (const key of keys) {
      if (busy.has(key)) continue;
      const next = this.nextOf(epoch, key);
      if (next) found.push(next);
    }
    return found;
  }

  /**
   * The next event of `key` in `epoch` that may start: after the last of its delivered events not written yet,
   * else its head. Undefined when it has none pending.
   */
  private nextOf(epoch: number, key: string): EventRow | undefined {
    const last = this.store
      .unwrittenEvents()
      .filter((e) => e.ordering_key === key && e.ordering_epoch === epoch)
      .at(-1);
    return this.store.sql.exec<EventRow>(NEXT_OF_KEY, epoch, key, last?.line_key ?? "").toArray()[0];
  }
}
