// Schemas of a webhook's endpoint controls: they validate (each rule with its own error code) and document.
import { z } from "@hono/zod-openapi";
import {
  FILTER_PATH,
  HEADER_NAME,
  headerValueProblem,
  changesRequest,
  isReservedHeader,
  RESERVED_HEADER_LIST,
  MAX_FILTER_CHOICES,
  MAX_FILTER_ENTRIES,
  MAX_FILTER_PATH_LENGTH,
  MAX_HEADER_VALUE_LENGTH,
  MAX_HEADERS,
  MAX_RATE_LIMIT_PER_SECOND,
  MAX_RETRY_DELAY_SECONDS,
  MAX_RETRY_DELAYS,
} from "../../lib/endpoint-controls";
import {
  CONCURRENCIES,
  MAX_BATCH_EVENTS,
  MAX_BATCH_WAIT_MS,
  MIN_BATCH_EVENTS,
  MAX_MAX_IN_FLIGHT,
  MAX_ORDERING_KEY_LENGTH,
  MIN_MAX_IN_FLIGHT,
  ORDERINGS,
} from "../../delivery/ordering";
import type { ErrorCode } from "../errors";

/** A rule broken with its own error code (see validationError). */
function fail(ctx: z.RefinementCtx, code: ErrorCode, message: string, path: PropertyKey[] = []) {
  ctx.addIssue({ code: "custom", message, path, params: { code } });
}

export const RateLimitPerSecond = z
  .number({ error: "must be a whole number of attempts per second, or null" })
  .int({ error: "must be a whole number of attempts per second, or null" })
  .min(1, { error: "must be at least 1 (or null for no limit)" })
  .max(MAX_RATE_LIMIT_PER_SECOND, { error: `must be at most ${MAX_RATE_LIMIT_PER_SECOND}` })
  .nullable()
  .openapi({
    description:
      'The webhook starts at most this many attempts per second (with ordering "endpoint" still one in flight); a burst waits, in order. null = no limit.',
    example: 5,
  });

export const RetryDelaysSeconds = z
  .array(
    z
      .number({ error: "each delay must be a whole number of seconds" })
      .int({ error: "each delay must be a whole number of seconds" })
      .min(1, { error: "each delay must be at least 1 second" })
      .max(MAX_RETRY_DELAY_SECONDS, { error: `each delay must be at most ${MAX_RETRY_DELAY_SECONDS} seconds (a day)` }),
    { error: "must be a list of delays in seconds, or null" },
  )
  .min(1, { error: "must hold at least one delay (or be null for the service's schedule)" })
  .max(MAX_RETRY_DELAYS, { error: `must hold at most ${MAX_RETRY_DELAYS} delays` })
  .nullable()
  .openapi({
    description:
      "This webhook's retry schedule: the wait before retry 1, 2, … after a failed attempt; after the last one fails the event is dropped. " +
      "null = the service's RETRY_DELAYS_SECONDS (30, 60, 90).",
    example: [60, 300, 900, 3600],
  });

/**
 * A `__proto__` key, which JSON may hold but a zod record silently drops (it names the prototype): refused with
 * `code`, so a filter or a header is never lost without a word.
 */
function refuseProtoKey<T extends z.ZodType>(schema: T, code: ErrorCode, what: string) {
  return z.preprocess((value, ctx) => {
    if (value !== null && typeof value === "object" && Object.hasOwn(value, "__proto__")) {
      ctx.addIssue({ code: "custom", message: `__proto__ is not a valid ${what}`, path: ["__proto__"], params: { code } });
    }
    return value;
  }, schema);
}

export const Headers = refuseProtoKey(
  z
    .record(z.string(), z.string({ error: "header values must be strings" }), { error: "must be an object of header names to values" })
    .superRefine((headers, ctx) => {
      const names = Object.keys(headers);
      if (names.length > MAX_HEADERS) fail(ctx, "invalid_header", `must hold at most ${MAX_HEADERS} headers, got ${names.length}`);
      const seen = new Set<string>();
      for (const [name, value] of Object.entries(headers)) {
        if (!HEADER_NAME.test(name)) fail(ctx, "invalid_header", `${JSON.stringify(name)} is not a valid header name`, [name]);
        else if (changesRequest(name))
          fail(ctx, "reserved_header", `${name} changes how the request is made or framed, so it cannot be set`, [name]);
        else if (isReservedHeader(name)) fail(ctx, "reserved_header", `${name} is set by the service and cannot be replaced`, [name]);
        else if (seen.has(name.toLowerCase())) fail(ctx, "invalid_header", `${name} is given twice (header names ignore case)`, [name]);
        seen.add(name.toLowerCase());
        const problem = headerValueProblem(value);
        if (value.length > MAX_HEADER_VALUE_LENGTH)
          fail(ctx, "invalid_header", `must be at most ${MAX_HEADER_VALUE_LENGTH} characters`, [name]);
        else if (problem) fail(ctx, "invalid_header_value", problem, [name]);
      }
    }),
  "invalid_header",
  "header name",
).openapi({
  description:
    `Sent with every attempt and test event, at most ${MAX_HEADERS}, each value arriving byte for byte as stored. ` +
    `Reserved names, refused in any case with reserved_header (the service's own, or ones that change how the request is made): ${RESERVED_HEADER_LIST.join(", ")}. ` +
    "A value must be visible ASCII, with spaces or tabs only between visible characters (or empty), else invalid_header_value.",
  example: { Authorization: "Bearer crm-token", "X-Api-Key": "k_123" },
});

const FilterScalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const Filter = refuseProtoKey(
  z
    .record(z.string(), z.unknown(), { error: "must be an object of dotted paths to values" })
    .superRefine((filter, ctx) => {
      const paths = Object.keys(filter);
      if (paths.length > MAX_FILTER_ENTRIES)
        fail(ctx, "invalid_filter", `must hold at most ${MAX_FILTER_ENTRIES} paths, got ${paths.length}`);
      for (const [path, value] of Object.entries(filter)) {
        if (path.length > MAX_FILTER_PATH_LENGTH || !FILTER_PATH.test(path)) {
          fail(ctx, "invalid_filter", `${JSON.stringify(path.slice(0, 50))} is not a dotted path such as message.traffic`, [path]);
        } else if (Array.isArray(value)) {
          if (value.length === 0 || value.length > MAX_FILTER_CHOICES || !value.every((v) => FilterScalar.safeParse(v).success)) {
            fail(ctx, "invalid_filter", `a list must hold 1 to ${MAX_FILTER_CHOICES} strings, numbers, booleans or nulls`, [path]);
          }
        } else if (!FilterScalar.safeParse(value).success) {
          fail(ctx, "invalid_filter", "must be a string, number, boolean or null, or a list of them", [path]);
        }
      }
    })
    .transform((filter) => filter as Record<string, z.infer<typeof FilterScalar> | z.infer<typeof FilterScalar>[]>),
  "invalid_filter",
  "filter path",
).openapi({
  description:
    `Deliver only events whose body has, at every dotted path, that value or one of the listed ones (at most ${MAX_FILTER_ENTRIES} paths). ` +
    "Events that do not match are neither sent nor stored for this webhook. {} = every event of the subscribed types.",
  example: { "message.traffic": "incoming", "channel.source": ["whatsapp", "telegram"] },
});

export const Ordering = z.enum(ORDERINGS, { error: 'must be "endpoint", "key" or "none"' }).openapi({
  description:
    'How deliveries are ordered (docs/ordering.md). "endpoint" (default): one request in flight, every event in order of acceptance. ' +
    '"key": events with the same value at orderingKey one at a time in order of acceptance, different keys in parallel (up to maxInFlight). ' +
    '"none": no order kept and no ordering window; up to maxInFlight requests at once, a retrying event holds nothing back.',
  example: "key",
});

export const OrderingKey = z
  .string({ error: "must be a dotted path in the delivered body, such as contact.id, or null" })
  .max(MAX_ORDERING_KEY_LENGTH, { error: `must be at most ${MAX_ORDERING_KEY_LENGTH} characters` })
  .regex(FILTER_PATH, { error: "must be a dotted path in the delivered body, such as contact.id" })
  .nullable()
  .openapi({
    description:
      'With ordering "key" (and only then): the dotted path in the delivered body whose value orders events, e.g. contact.id or conversation.id. ' +
      "Events without a value there (or null) share one key.",
    example: "contact.id",
  });

export const MaxInFlight = z
  .number({ error: `must be a whole number from ${MIN_MAX_IN_FLIGHT} to ${MAX_MAX_IN_FLIGHT}` })
  .int({ error: `must be a whole number from ${MIN_MAX_IN_FLIGHT} to ${MAX_MAX_IN_FLIGHT}` })
  .min(MIN_MAX_IN_FLIGHT, { error: `must be at least ${MIN_MAX_IN_FLIGHT}` })
  .max(MAX_MAX_IN_FLIGHT, { error: `must be at most ${MAX_MAX_IN_FLIGHT}` })
  .openapi({
    description:
      'Requests in flight at once for this webhook, 1-50: must be 1 with ordering "endpoint"; default 1 with "endpoint", 10 otherwise.',
    example: 20,
  });

export const Concurrency = z.enum(CONCURRENCIES, { error: 'must be "fixed" or "adaptive"' }).openapi({
  description:
    '"fixed" (default): up to maxInFlight requests at once. "adaptive": maxInFlight is the ceiling and the service finds the ' +
    "endpoint's own limit: it starts low, adds requests while answers are 2xx and latency stays near the lowest seen, and cuts " +
    "them at once on 429, 503, 504, timeouts and connection errors; a Retry-After on a 429 or 503 pauses the whole webhook " +
    'that long. Refused with ordering "endpoint" (one request in flight: nothing to adapt). See docs/ordering.md.',
  example: "adaptive",
});

const BATCH_EVENTS = `must be a whole number from ${MIN_BATCH_EVENTS} to ${MAX_BATCH_EVENTS}`;
const BATCH_WAIT = `must be a whole number of milliseconds from 0 to ${MAX_BATCH_WAIT_MS}`;

export const Batch = z
  .strictObject(
    {
      maxEvents: z
        .number({ error: BATCH_EVENTS })
        .int({ error: BATCH_EVENTS })
        .min(MIN_BATCH_EVENTS, { error: BATCH_EVENTS })
        .max(MAX_BATCH_EVENTS, { error: BATCH_EVENTS })
        .openapi({ description: "Events per request at most.", example: 50 }),
      maxWaitMs: z
        .number({ error: BATCH_WAIT })
        .int({ error: BATCH_WAIT })
        .min(0, { error: BATCH_WAIT })
        .max(MAX_BATCH_WAIT_MS, { error: BATCH_WAIT })
        .default(0)
        .openapi({
          description:
            "How long the oldest ready event may wait for its batch to fill (default 0: whatever is ready goes at once; a backlog fills batches by itself).",
          example: 200,
        }),
    },
    { error: 'must be {"maxEvents": 2-100, "maxWaitMs": 0-10000} or null' },
  )
  .nullable()
  .openapi({
    description:
      'Ordered batches (docs/batches.md): up to maxEvents ready events in one POST whose body is {"events": [...]} in order, each ' +
      "element the exact body a single delivery carries. The request's webhook-id is the batch's own (`bat_…`); a 2xx delivers every " +
      "event in it, anything else fails every one, and the batch is retried as one and counts as one failure. null (default): one " +
      "event per request. Push webhooks only.",
    example: { maxEvents: 50, maxWaitMs: 200 },
  });
