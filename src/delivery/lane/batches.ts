// Ordered batches (docs/batches.md): which ready events go together in one request, its body and its id, and how
// long a batch that is not full may wait to fill.
import { MAX_EVENT_BYTES } from "../../events/ingest";
import { VERIFICATION_EVENT_TYPE } from "../verification";
import { byLineKey, type EventRow, type LaneRow } from "./schema";

export const BATCH_ID_PREFIX = "bat_";

/**
 * A batch's body stops short of maxEvents before it would pass this many bytes: what common receivers take by
 * default (Express's and many frameworks' 1 MB body limit); an event is at most 120 KB, so one always fits.
 */
export const MAX_BATCH_BYTES = 1_000_000;

const utf8 = new TextEncoder();

/**
 * A batch being formed: its events, in order, and the size of its body so far (each event's bytes counted once).
 * The first event always goes in; another only while the body stays within MAX_BATCH_BYTES.
 */
export class Batch {
  readonly events: EventRow[];
  /** The body's bytes: `{"events":[]}`, each event's, and the commas between them. */
  private bytes: number;

  constructor(first: EventRow) {
    this.events = [first];
    this.bytes = '{"events":[]}'.length + utf8.encode(first.body).byteLength;
  }

  /** Adds `event` when the body stays within MAX_BATCH_BYTES with it (and a comma); false, and nothing added, otherwise. */
  add(event: EventRow): boolean {
    const bytes = this.bytes + 1 + utf8.encode(event.body).byteLength;
    if (bytes > MAX_BATCH_BYTES) return false;
    this.events.push(event);
    this.bytes = bytes;
    return true;
  }

  /** Whether an event of the largest size accepted (MAX_EVENT_BYTES) could still join. */
  get roomForAny(): boolean {
    return this.bytes + 1 + MAX_EVENT_BYTES <= MAX_BATCH_BYTES;
  }
}

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
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", utf8.encode(eventIds.join(","))));
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
 * Until when `batch`, not full, waits for more (its first event's due time plus maxWaitMs), or null when it goes
 * now: full (maxEvents, or too many bytes for an event of the largest size to join), a retry (sent as it failed),
 * or no wait set.
 */
export function fillBy(lane: LaneRow, batch: Batch, now: number): number | null {
  const first = batch.events[0]!;
  const wait = lane.batch_max_wait_ms ?? 0;
  if (wait === 0 || batch.events.length >= (lane.batch_max_events ?? 0) || first.round_attempts > 0 || !batch.roomForAny) return null;
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
export function batchInLine(sql: SqlStorage, head: EventRow, max: number, now: number, held: ReadonlyMap<string, number>): Batch {
  const firstPlace = sql.exec<EventRow>(FIRST_PLACE_FROM, head.line_key, max).toArray();
  const requeued = sql.exec<EventRow>(REQUEUED_FROM, head.line_key, max).toArray();
  const batch = new Batch(head);
  for (const event of [...firstPlace, ...requeued].sort(byLineKey)) {
    if (event.order_key === head.order_key) continue;
    if (batch.events.length >= max || !joins(head, event, now, held.get(event.order_key) ?? 0) || !batch.add(event)) break;
  }
  return batch;
}
