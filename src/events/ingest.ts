// Turning accepted input into queued events: ids (idempotent when the producer gives one), order keys, sizes.
import { monotonicFactory } from "ulidx";
import { derivedEventId, newId, pooledRandom } from "../lib/ids";
import type { EventType } from "./catalog";
import type { QueuedEvent } from "./queued-event";

/** Cloudflare Queues take messages up to 128 KB; an event's serialized message must fit with room to spare. */
export const MAX_EVENT_BYTES = 120_000;
/** One sendBatch call carries at most 100 messages and 256 KB. */
const MAX_SEND_BATCH_BYTES = 240_000;
const MAX_SEND_BATCH_COUNT = 100;

const orderKey = monotonicFactory(pooledRandom);

export interface EventInput {
  type: EventType;
  data: Record<string, unknown>;
  id?: string | undefined;
  occurredAt?: string | undefined;
}

/**
 * The event id: `evt_` + its order key `key` (a ULID) in lower case, random without one, or, with an idempotency
 * key, derived from workspace and key, so sending the same key again yields the same id and every lane stores it
 * once. A lane finds an event whose id comes from its order key by primary key, with no index entry written for it
 * (lane/store-sql.ts, withId); any other id it indexes.
 */
export async function eventIdFor(workspaceId: string, idempotencyKey: string | undefined, key?: string): Promise<string> {
  if (idempotencyKey !== undefined) return derivedEventId(workspaceId, idempotencyKey);
  return key === undefined ? newId("evt") : `evt_${key.toLowerCase()}`;
}

/** What ingestion adds to an event beside its input: its trace (trace.ts keptTraceOf), and with EVENT_VALIDATION=warn what did not match. */
export interface EventExtras {
  traceparent?: string | undefined;
  tracestate?: string | undefined;
  schemaWarning?: string | undefined;
}

export async function toQueuedEvent(
  workspaceId: string,
  input: EventInput,
  acceptedAt: number,
  extras: EventExtras = {},
): Promise<QueuedEvent> {
  const key = orderKey(acceptedAt);
  return {
    id: await eventIdFor(workspaceId, input.id, key),
    workspaceId,
    type: input.type,
    data: input.data,
    occurredAt: input.occurredAt ? Date.parse(input.occurredAt) : acceptedAt,
    acceptedAt,
    orderKey: key,
    ...(extras.traceparent !== undefined ? { traceparent: extras.traceparent } : {}),
    ...(extras.tracestate !== undefined ? { tracestate: extras.tracestate } : {}),
    ...(extras.schemaWarning !== undefined ? { schemaWarning: extras.schemaWarning } : {}),
  };
}

export function messageBytes(event: QueuedEvent): number {
  return new TextEncoder().encode(JSON.stringify(event)).byteLength;
}

/**
 * Splits messages into sendBatch calls within the Queue's count and size limits, keeping their order.
 * `bytes[i]` is the already measured size of `events[i]`.
 */
export function sendBatches(events: QueuedEvent[], bytes: number[]): QueuedEvent[][] {
  const batches: QueuedEvent[][] = [];
  let current: QueuedEvent[] = [];
  let size = 0;
  for (const [i, event] of events.entries()) {
    const eventBytes = bytes[i]!;
    if (current.length > 0 && (current.length >= MAX_SEND_BATCH_COUNT || size + eventBytes > MAX_SEND_BATCH_BYTES)) {
      batches.push(current);
      current = [];
      size = 0;
    }
    current.push(event);
    size += eventBytes;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
