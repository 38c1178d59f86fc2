// The message an accepted event travels as, from the ingestion route through the queue to the lanes, and the
// check a consumer makes before trusting one.
import { nestsDeeperThan } from "../lib/json-depth";
import { EVENT_TYPES, type EventType } from "./catalog";
import { parseTraceparent, tracestateOf } from "./trace";

/**
 * How deeply `data` may nest (objects and arrays together). The queue and the lanes' RPC copy messages with
 * structured clone, which overflows the stack somewhere past a thousand levels: a limit at the door keeps every
 * accepted event deliverable, with room to spare for any real payload.
 */
export const MAX_DATA_DEPTH = 64;

export interface QueuedEvent {
  /** Event id, `evt_…`; also the `webhook-id` every receiver sees. */
  id: string;
  workspaceId: string;
  type: EventType;
  data: Record<string, unknown>;
  /** Unix ms when the producer says it happened (`occurredAt`), else acceptance time. */
  occurredAt: number;
  /** Unix ms when the API accepted it. */
  acceptedAt: number;
  /** Sorts in acceptance order (a monotonic ULID); the lane delivers in this order. */
  orderKey: string;
  /** The W3C traceparent it was accepted with, or the one the service started (version 00); see trace.ts. */
  traceparent?: string | undefined;
  /** The W3C tracestate that came with that traceparent (tracestateOf); each attempt sends it unchanged. */
  tracestate?: string | undefined;
  /** With EVENT_VALIDATION=warn: what in `data` did not match its type's schema (the delivery log shows it). */
  schemaWarning?: string | undefined;
}

export class MalformedMessage extends Error {
  override name = "MalformedMessage";
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * The queued event a message body holds, or MalformedMessage saying what is wrong with it: what the API writes,
 * checked field by field, so one message the lanes could not store or copy never reaches them.
 */
export function readQueuedEvent(body: unknown): QueuedEvent {
  if (!isObject(body))
    throw new MalformedMessage(
      `the message body is ${body === null ? "null" : Array.isArray(body) ? "an array" : typeof body}, not an event`,
    );
  const { id, workspaceId, type, data, occurredAt, acceptedAt, orderKey, traceparent, tracestate, schemaWarning } = body;
  const wrong = (field: string, what: string) => new MalformedMessage(`the event's ${field} is not ${what}`);
  if (typeof id !== "string" || !/^evt_[0-9a-z]{1,64}$/.test(id)) throw wrong("id", "an event id");
  if (typeof workspaceId !== "string" || workspaceId === "") throw wrong("workspaceId", "a workspace id");
  if (typeof type !== "string" || !(EVENT_TYPES as readonly string[]).includes(type)) throw wrong("type", "a known event type");
  if (!isObject(data)) throw wrong("data", "an object");
  if (nestsDeeperThan(data, MAX_DATA_DEPTH)) throw new MalformedMessage(`the event's data nests deeper than ${MAX_DATA_DEPTH} levels`);
  if (typeof occurredAt !== "number" || !Number.isFinite(occurredAt)) throw wrong("occurredAt", "a time");
  if (typeof acceptedAt !== "number" || !Number.isFinite(acceptedAt)) throw wrong("acceptedAt", "a time");
  if (typeof orderKey !== "string" || !/^[0-9A-Z]{26}$/.test(orderKey)) throw wrong("orderKey", "an order key");
  if (traceparent !== undefined && (typeof traceparent !== "string" || parseTraceparent(traceparent) === null))
    throw wrong("traceparent", "a traceparent");
  // Only beside the traceparent it came with, and already normalised: what the API writes.
  if (tracestate !== undefined && (traceparent === undefined || typeof tracestate !== "string" || tracestateOf(tracestate) !== tracestate))
    throw wrong("tracestate", "a tracestate beside its traceparent");
  if (schemaWarning !== undefined && typeof schemaWarning !== "string") throw wrong("schemaWarning", "a string");
  return { id, workspaceId, type: type as EventType, data, occurredAt, acceptedAt, orderKey, traceparent, tracestate, schemaWarning };
}
