// A webhook's ordering (docs/ordering.md): its three modes, their defaults and limits, and the key an event is
// ordered by. Pure, shared by the API's validation and the lane.
import { valueAt } from "../lib/endpoint-controls";

export const ORDERINGS = ["endpoint", "key", "none"] as const;
export type Ordering = (typeof ORDERINGS)[number];

/** fixed: maxInFlight requests out at most; adaptive: the lane finds the endpoint's own limit up to maxInFlight. */
export const CONCURRENCIES = ["fixed", "adaptive"] as const;
export type Concurrency = (typeof CONCURRENCIES)[number];

/**
 * Ordered batches (docs/batches.md): up to maxEvents ready events in one request, in order, waiting at most
 * maxWaitMs for it to fill. Null (the default) sends respond.io's one event per request.
 */
export interface BatchSettings {
  maxEvents: number;
  maxWaitMs: number;
}
export const MIN_BATCH_EVENTS = 2;
export const MAX_BATCH_EVENTS = 100;
export const MAX_BATCH_WAIT_MS = 10_000;

export const MIN_MAX_IN_FLIGHT = 1;
export const MAX_MAX_IN_FLIGHT = 50;
export const MAX_ORDERING_KEY_LENGTH = 200;

/**
 * Outgoing requests one Durable Object keeps waiting at once: Cloudflare waits for the response headers of at most
 * 6 outgoing connections per invocation, and a Durable Object is one I/O context. A lane sends up to this many
 * itself and hands the rest to sender objects, this many each.
 */
export const MAX_OUTGOING_PER_OBJECT = 6;

/** maxInFlight when a request does not give one: one request at a time keeps the endpoint's order. */
export function defaultMaxInFlight(ordering: Ordering): number {
  return ordering === "endpoint" ? 1 : 10;
}

/** A webhook's ordering settings as stored and handed to its lane. */
export interface OrderingSettings {
  ordering: Ordering;
  /** Dotted path in the delivered body; only with ordering "key". */
  orderingKey: string | null;
  maxInFlight: number;
  concurrency: Concurrency;
}

/** Why a combination of ordering settings is refused (the API's error codes), or null when it is valid. */
export function orderingProblem(s: OrderingSettings): {
  code: "ordering_key_required" | "ordering_key_not_allowed" | "invalid_max_in_flight" | "invalid_concurrency";
  param: string;
  message: string;
} | null {
  if (s.ordering === "key" && s.orderingKey === null) {
    return {
      code: "ordering_key_required",
      param: "orderingKey",
      message: 'orderingKey: required with ordering "key" (a dotted path in the body, such as contact.id)',
    };
  }
  if (s.ordering !== "key" && s.orderingKey !== null) {
    return {
      code: "ordering_key_not_allowed",
      param: "orderingKey",
      message: `orderingKey: only allowed with ordering "key" (this webhook's ordering is "${s.ordering}")`,
    };
  }
  if (s.ordering === "endpoint" && s.maxInFlight !== 1) {
    return {
      code: "invalid_max_in_flight",
      param: "maxInFlight",
      message:
        'maxInFlight: must be 1 with ordering "endpoint" (one request in flight keeps the order); choose ordering "key" or "none" for more',
    };
  }
  if (s.ordering === "endpoint" && s.concurrency === "adaptive") {
    return {
      code: "invalid_concurrency",
      param: "concurrency",
      message:
        'concurrency: "adaptive" needs ordering "key" or "none" (under "endpoint" one request is in flight: there is nothing to adapt)',
    };
  }
  return null;
}

/**
 * The settings after a create or a PATCH: what the request gives, else what is stored; a change of ordering
 * without a maxInFlight takes that ordering's default, one away from "key" without an orderingKey drops it, and one
 * to "endpoint" without a concurrency makes it "fixed" (the only one "endpoint" has).
 */
export function mergeOrdering(current: OrderingSettings | undefined, input: Partial<OrderingSettings>): OrderingSettings {
  const ordering = input.ordering ?? current?.ordering ?? "endpoint";
  const orderingChanged = current === undefined || ordering !== current.ordering;
  const orderingKey =
    input.orderingKey !== undefined ? input.orderingKey : ordering !== "key" && orderingChanged ? null : (current?.orderingKey ?? null);
  const maxInFlight = input.maxInFlight ?? (orderingChanged ? defaultMaxInFlight(ordering) : current!.maxInFlight);
  const concurrency = input.concurrency ?? (ordering === "endpoint" && orderingChanged ? "fixed" : (current?.concurrency ?? "fixed"));
  return { ordering, orderingKey, maxInFlight, concurrency };
}

/**
 * The ordering key events held under "endpoint": not indexed (NULL in storage, so the default mode writes no
 * index entry); when a webhook leaves "endpoint" its pending events take LINE_KEY, one key, in line order.
 */
export const LINE_KEY = "~line";
/**
 * The key shared under "key" by events with no value (or null) at the path. JSON never starts with "~" (nor "#",
 * the "none" keys' start). Printable on purpose: SQLite text with a NUL in it does not compare as it should.
 */
export const NO_VALUE_KEY = "~none";

/**
 * The key an event is ordered by under the settings in force: null under "endpoint" (the whole line is one key),
 * the JSON of the value at the path under "key", the event's own id under "none" (every event its own key).
 */
export function orderingKeyOf(
  settings: Pick<OrderingSettings, "ordering" | "orderingKey">,
  eventId: string,
  body: () => unknown,
): string | null {
  if (settings.ordering === "endpoint") return null;
  if (settings.ordering === "none") return `#${eventId}`;
  const value = valueAt(body(), settings.orderingKey ?? "");
  return value === undefined || value === null ? NO_VALUE_KEY : JSON.stringify(value);
}
