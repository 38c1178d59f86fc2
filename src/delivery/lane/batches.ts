// Ordered batches (docs/batches.md): which ready events go together in one request, its body and its id, and how
// long a batch that is not full may wait to fill.
import { MAX_EVENT_BYTES } from "../../events/ingest";
import { VERIFICATION_EVENT_TYPE } from "../verification";
import type { EventRow, LaneRow } from "./schema";

export const BATCH_ID_PREFIX = "bat_";

/**
 * A batch's body stops short of maxEvents before it would pass this many bytes: what common receivers take by
 * default (Express's and many frameworks' 1 MB body limit); an event is at most 120 KB, so one always fits.
 */
export const MAX_BATCH_BYTES = 1_000_000;

const utf8 = new TextEncoder();

/** What an event adds to a batch's body: its bytes and a comma. */
export const bytesIn = (event: Pick<EventRow, "body">) => utf8.encode(event.body).byteLength + 1;

/** The bytes of a batch body around its events. */
export const BATCH_FRAME_BYTES = '{"events":[]}'.length;

/** Whether the lane sends its events in batches (every request then has the batch body, even one of one event). */
export function batching(lane: LaneRow): boolean {
  return (lane.batch_max_events ?? 0) > 1;
}

/** Whether `event` goes in a batch on a batching lane: every event but a verification challenge (sent alone, as the protocol says). */
export function batchable(lane: LaneRow, event: EventRow): boolean {
  return batching(lane) && event.type !== VERIFICATION_EVENT_TYPE;
}

/** A batch's body: each event's exact body, in order (a receiver verifies one signature over all of it). */
export function batchBody(bodies: readonly string[]): string {
  return `{"events":[${bodies.join(",")}]}`;
}

/**
 * A batch's own id (its `webhook-id`), from its events' ids: a retry of the same batch carries the same id, so a
 * receiver that dedupes on webhook-id sees a repeat as one.
 */
export async function batchId(eventIds: readonly string[]): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(eventIds.join(","))));
  return BATCH_ID_PREFIX + Array.from(digest.subarray(0, 16), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Whether `event` may join the batch that `first` opens at `now`. A batch holds events of one state: first
 * attempts due now, or the events of one failed batch, which failed together and so share their round and retry
 * time (a batch is retried as one; the events behind it go in the next).
 */
export function joins(first: EventRow, event: EventRow, now: number, heldUntil: number): boolean {
  if (event.type === VERIFICATION_EVENT_TYPE || heldUntil > now) return false;
  if (first.round_attempts > 0) return event.round_attempts === first.round_attempts && event.next_attempt_at === first.next_attempt_at;
  return event.round_attempts === 0 && event.next_attempt_at <= now;
}

/**
 * Until when a batch of `events` that is not full waits for more (its first event's due time plus maxWaitMs), or
 * null when it goes now: full (maxEvents, or too many bytes for an event of the largest size to join), a retry
 * (sent as it failed), or no wait set.
 */
export function fillBy(lane: LaneRow, events: readonly EventRow[], now: number): number | null {
  const first = events[0];
  const wait = lane.batch_max_wait_ms ?? 0;
  if (!first || wait === 0 || events.length >= (lane.batch_max_events ?? 0) || first.round_attempts > 0) return null;
  if (events.reduce((sum, e) => sum + bytesIn(e), BATCH_FRAME_BYTES) + MAX_EVENT_BYTES > MAX_BATCH_BYTES) return null;
  const at = first.next_attempt_at + wait;
  return at > now ? at : null;
}

/** Pending events in their first place from a place in line on, in line order (the clustered table). */
const FIRST_PLACE_FROM = `
  SELECT * FROM events WHERE order_key >= ? AND status = 'pending' AND line_key = order_key ORDER BY order_key LIMIT ?`;

/** Pending events put back in line from a place in line on (their small index). */
const REQUEUED_FROM = `
  SELECT * FROM events INDEXED BY events_requeued
  WHERE status = 'pending' AND line_key <> order_key AND line_key >= ? ORDER BY line_key LIMIT ?`;

/**
 * The batch the line's head opens under the default ordering: the head and the events right behind it in line
 * that join it (`joins`), at most `max` and MAX_BATCH_BYTES. Reads at most 2 × max rows, whatever the backlog. Storage must hold every
 * outcome (the caller flushes the grouped successes first).
 */
export function batchInLine(sql: SqlStorage, head: EventRow, max: number, now: number, held: ReadonlyMap<string, number>): EventRow[] {
  const firstPlace = sql.exec<EventRow>(FIRST_PLACE_FROM, head.line_key, max).toArray();
  const requeued = sql.exec<EventRow>(REQUEUED_FROM, head.line_key, max).toArray();
  const inLine = [...firstPlace, ...requeued].sort((a, b) => (a.line_key < b.line_key ? -1 : a.line_key > b.line_key ? 1 : 0));
  const batch = [head];
  let bytes = BATCH_FRAME_BYTES + bytesIn(head);
  for (const event of inLine) {
    if (event.order_key === head.order_key) continue;
    if (batch.length >= max || !joins(head, event, now, held.get(event.order_key) ?? 0)) break;
    bytes += bytesIn(event);
    if (bytes > MAX_BATCH_BYTES) break;
    batch.push(event);
  }
  return batch;
}
