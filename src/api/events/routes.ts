// Ingestion: POST /v1/events and /v1/events/batch validate, assign ids and hand events to the queue.
import { createRoute, z } from "@hono/zod-openapi";
import { readConfig, type EventValidation } from "../../config";
import { EVENT_TYPES } from "../../events/catalog";
import { MAX_EVENT_BYTES, messageBytes, sendBatches, toQueuedEvent, type EventExtras, type EventInput } from "../../events/ingest";
import { MAX_DATA_DEPTH, type QueuedEvent } from "../../events/queued-event";
import { checkEventData } from "../../events/schemas";
import { keptTraceOf, traceIdOf } from "../../events/trace";
import { annotateSpan } from "../../lib/spans";
import { nestsDeeperThan } from "../../lib/json-depth";
import { newRouter } from "../context";
import { ApiError, errorResponses, rateLimited } from "../errors";
import { eventsRetryAfterSeconds } from "../../lib/rate-limit";
import { jsonBody, jsonResponse, TraceContextHeaders, workspaceKeyAuth } from "../openapi";

const tags = ["Events"];
export const MAX_BATCH_EVENTS = 100;

/**
 * A JSON object, passed through as parsed: a zod record would copy it key by key, and assigning a `__proto__` key
 * sets the copy's prototype instead of keeping the key, so the producer's key was lost. JSON.parse already made
 * every key an own data property; nothing here reads or assigns one.
 */
const EventData = z.custom<Record<string, unknown>>((value) => value !== null && typeof value === "object" && !Array.isArray(value), {
  error: "must be a JSON object",
  params: { code: "invalid_data" },
});

const EventInputSchema = z
  .strictObject({
    type: z
      .enum(EVENT_TYPES, { error: (issue) => `unknown event type ${JSON.stringify(issue.input)}; see GET /v1/event-types` })
      .openapi({ example: "message.received" }),
    data: EventData.openapi({
      type: "object",
      additionalProperties: true,
      description:
        `The event's fields; they appear at the top level of what the endpoint receives, every key as sent (\`__proto__\` and \`constructor\` included). ` +
        `At most ${MAX_DATA_DEPTH} levels of objects and arrays (\`data_too_deep\`).`,
      example: { contact: { id: 1234, firstName: "Ana" }, message: { type: "text", text: "Hi!" } },
    }),
    id: z
      .string()
      .regex(/^[A-Za-z0-9._:~-]{1,200}$/, { error: "must be 1-200 characters of A-Z a-z 0-9 . _ : ~ -" })
      .optional()
      .openapi({
        description: "Idempotency key: the same key within 24 h is accepted again and delivered once.",
        example: "msg-8842-received",
      }),
    occurredAt: z.iso
      .datetime({ offset: true, error: "must be an ISO 8601 date-time such as 2026-11-21T10:00:00Z" })
      .optional()
      .openapi({ description: "When it happened; the body's `timestamp`. Defaults to acceptance time." }),
  })
  .openapi("EventInput");

const BatchSchema = z
  .strictObject({
    events: z
      .array(EventInputSchema)
      .min(1, { error: "must hold at least one event" })
      .max(MAX_BATCH_EVENTS, { error: `must hold at most ${MAX_BATCH_EVENTS} events; split larger batches` }),
  })
  .openapi("EventBatch");

/** Refuses `data` nested deeper than the pipeline carries, before anything is queued. */
function checkDepth(input: EventInput, param: string): void {
  if (nestsDeeperThan(input.data, MAX_DATA_DEPTH)) {
    throw new ApiError("data_too_deep", `${param} may nest objects and arrays at most ${MAX_DATA_DEPTH} levels deep`, undefined, { param });
  }
}

/**
 * What EVENT_VALIDATION makes of the event's data: nothing (off, or a match); refused with the failing path
 * (enforce); or accepted with a note of what did not match, kept with the event for its delivery log (warn).
 */
function checkSchema(mode: EventValidation, input: EventInput, prefix: string): string | undefined {
  if (mode === "off") return undefined;
  const mismatch = checkEventData(input.type, input.data);
  if (mismatch === null) return undefined;
  if (mode === "enforce") {
    throw new ApiError("data_does_not_match_schema", `${prefix}${mismatch.message}`, undefined, { param: `${prefix}${mismatch.path}` });
  }
  return mismatch.message;
}

/** The event's message size, refusing one too large for the queue. */
function checkSize(event: QueuedEvent, param: string): number {
  const bytes = messageBytes(event);
  if (bytes > MAX_EVENT_BYTES) {
    throw new ApiError("event_too_large", `an event may be at most ${MAX_EVENT_BYTES} bytes of JSON, this one is ${bytes}`, undefined, {
      param,
    });
  }
  return bytes;
}

export const eventRoutes = newRouter();

eventRoutes.openapi(
  createRoute({
    method: "post",
    path: "/",
    operationId: "sendEvent",
    tags,
    security: workspaceKeyAuth,
    summary: "Send an event",
    description:
      "Accepts one event for delivery to every enabled webhook of the workspace subscribed to its type, in acceptance order. " +
      "With EVENT_VALIDATION=enforce, `data` that does not match its type's schema (GET /v1/event-types) is refused with " +
      "`400 data_does_not_match_schema` and `param` the failing path (`data.contact.id`); with `warn` it is accepted and its delivery log says what did not match.",
    request: { body: jsonBody(EventInputSchema), headers: TraceContextHeaders },
    responses: {
      202: jsonResponse(z.object({ id: z.string().openapi({ example: "evt_01jd8x6m3q7v9c2k4n5p6r7s8t" }) }), "Accepted"),
      ...errorResponses(400, 401, 413, 415, 429),
    },
  }),
  async (c) => {
    const input = c.req.valid("json");
    checkDepth(input, "data");
    const extras: EventExtras = {
      ...keptTraceOf(c.req.header("traceparent"), c.req.header("tracestate")),
      schemaWarning: checkSchema(readConfig(c.env).eventValidation, input, ""),
    };
    const event = await toQueuedEvent(c.get("workspace").id, input, Date.now(), extras);
    checkSize(event, "data");
    annotateSpan({ "webhooks.trace_id": traceIdOf(extras.traceparent!), "webhooks.event_id": event.id });
    await c.env.EVENTS_QUEUE.send(event);
    return c.json({ id: event.id }, 202);
  },
);

eventRoutes.openapi(
  createRoute({
    method: "post",
    path: "/batch",
    operationId: "sendEvents",
    tags,
    security: workspaceKeyAuth,
    summary: "Send up to 100 events",
    description:
      "Each batch also counts its events against the workspace's limit of batched events (INGEST_EVENTS_LIMITER, 10,000 per 10 s by " +
      "default): past it, 429 `rate_limited` with `Retry-After`. " +
      "All or nothing: one invalid event refuses the batch (with EVENT_VALIDATION=enforce, `param` names it: `events[3].data.contact.id`). " +
      "Events are accepted in array order; all of them carry the request's trace.",
    request: { body: jsonBody(BatchSchema), headers: TraceContextHeaders },
    responses: {
      202: jsonResponse(z.object({ ids: z.array(z.string()) }), "Accepted, ids in request order"),
      ...errorResponses(400, 401, 413, 415, 429),
    },
  }),
  async (c) => {
    const workspaceId = c.get("workspace").id;
    const acceptedAt = Date.now();
    const inputs = c.req.valid("json").events;
    // Events, not only requests: a batch carries up to 100, and the queue every workspace shares takes 5,000 a second.
    const wait = await eventsRetryAfterSeconds(c.env, workspaceId, inputs.length);
    if (wait !== undefined)
      throw rateLimited("this workspace sends more events in batches than its limit allows (INGEST_EVENTS_LIMITER)", wait);
    inputs.forEach((input, i) => checkDepth(input, `events[${i}].data`));
    const mode = readConfig(c.env).eventValidation;
    const warnings = inputs.map((input, i) => checkSchema(mode, input, `events[${i}].`));
    // One request, one trace: every event of the batch carries it (and its tracestate).
    const trace = keptTraceOf(c.req.header("traceparent"), c.req.header("tracestate"));
    const events: QueuedEvent[] = [];
    for (const [i, input] of inputs.entries())
      events.push(await toQueuedEvent(workspaceId, input, acceptedAt, { ...trace, schemaWarning: warnings[i] }));
    const sizes = events.map((event, i) => checkSize(event, `events[${i}].data`));
    annotateSpan({ "webhooks.trace_id": traceIdOf(trace.traceparent), "webhooks.events": events.length });
    for (const batch of sendBatches(events, sizes)) await c.env.EVENTS_QUEUE.sendBatch(batch.map((body) => ({ body })));
    return c.json({ ids: events.map((e) => e.id) }, 202);
  },
);
