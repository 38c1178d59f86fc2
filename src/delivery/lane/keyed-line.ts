// The line of a webhook ordered by key or not at all (docs/ordering.md): which pending events may start now.
//
// Each key's head is its pending event with the lowest place in line; a key with an event in flight has none
// that may start. Events of a later ordering epoch (a change of ordering or key path) wait until every event of
// the earlier ones has finished, since keys of two settings cannot be compared. Heads ready now are read ahead
// in place-in-line order, a batch at a time, and taken from memory until a write moves a head (LaneStore.changes).
import type { EventRow, LaneStore } from "./store";

/** Ready heads read ahead at once, at least; twice maxInFlight when that is more. */
const READ_AHEAD = 32;

/**
 * The head of each key of the earliest epoch with pending events: `order_key`, and its place in line `lk`. Its two
 * parameters: the same JSON list of order keys delivered but not written yet (LaneStore.unwrittenKeys), which
 * storage still holds as pending and which are finished all the same.
 */
const HEADS = `
  SELECT order_key, MIN(line_key) AS lk FROM events INDEXED BY events_by_ordering_key
  WHERE status = 'pending' AND ordering_key IS NOT NULL AND order_key NOT IN (SELECT value FROM json_each(?))
    AND ordering_epoch = (SELECT MIN(ordering_epoch) FROM events INDEXED BY events_by_ordering_key
                          WHERE status = 'pending' AND ordering_key IS NOT NULL AND order_key NOT IN (SELECT value FROM json_each(?)))
  GROUP BY ordering_key`;

export class KeyedLine {
  private ahead: EventRow[] = [];
  private readAt = -1;

  constructor(private readonly store: LaneStore) {}

  /**
   * The next head ready at `now` whose key is not in `busy` (keys with an event in flight), or undefined.
   * Read ahead: one query per batch, not per attempt.
   */
  next(now: number, busy: ReadonlySet<string>, maxInFlight: number): EventRow | undefined {
    if (this.readAt !== this.store.changes) this.ahead = [];
    for (let round = 0; round < 2; round++) {
      while (this.ahead.length > 0) {
        const event = this.ahead.shift()!;
        if (!busy.has(event.ordering_key!) && event.next_attempt_at <= now) return event;
      }
      if (round === 1) break;
      const unwritten = JSON.stringify(this.store.unwrittenKeys());
      this.ahead = this.store.sql
        .exec<EventRow>(
          `SELECT e.* FROM (${HEADS}) h JOIN events e ON e.order_key = h.order_key
           WHERE e.next_attempt_at <= ? AND e.ordering_key NOT IN (SELECT value FROM json_each(?))
           ORDER BY h.lk LIMIT ?`,
          unwritten,
          unwritten,
          now,
          JSON.stringify([...busy]),
          Math.max(READ_AHEAD, 2 * maxInFlight),
        )
        .toArray();
      this.readAt = this.store.changes;
      if (this.ahead.length === 0) return undefined;
    }
    return undefined;
  }

  /** When the earliest head of a key not in `busy` is due (null when none is pending): what the alarm waits for. */
  nextDueAt(busy: ReadonlySet<string> = new Set()): number | null {
    const unwritten = JSON.stringify(this.store.unwrittenKeys());
    return this.store.sql
      .exec<{ due: number | null }>(
        `SELECT MIN(e.next_attempt_at) AS due FROM (${HEADS}) h JOIN events e ON e.order_key = h.order_key
         WHERE e.ordering_key NOT IN (SELECT value FROM json_each(?))`,
        unwritten,
        unwritten,
        JSON.stringify([...busy]),
      )
      .one().due;
  }
}
