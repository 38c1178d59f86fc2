// The OpenAPI 3.1 `webhooks` section: one entry per event type describing the POST a receiver gets (envelope,
// the type's data at the top level, headers, what its answer means), built from the same schemas as validation,
// and a `batch` entry: what a webhook with `batch` set receives instead (docs/batches.md).
import { z, type OpenAPIHono } from "@hono/zod-openapi";
import { EVENT_CATALOG, type EventType } from "../events/catalog";
import { EXAMPLE_TIME, sampleData } from "../events/samples";
import { EVENT_DATA_SCHEMAS } from "../events/schemas";

/** `message.received` -> `MessageReceivedDelivery`: the component name of a type's body. */
export function deliveryComponentName(type: EventType): string {
  return `${type.replace(/(^|\.)([a-z])/g, (_, __, c: string) => c.toUpperCase())}Delivery`;
}

const EXAMPLE_EVENT_ID = "evt_01jd8x6m3q7v9c2k4n5p6r7s8t";

const envelope = (type: EventType) => ({
  event_type: z.literal(type).openapi({ description: "The event type; always the one this webhook entry describes." }),
  event_id: z.string().openapi({
    description: "The event id: the same on every attempt, and the `webhook-id` header. Deduplicate on it.",
    example: EXAMPLE_EVENT_ID,
  }),
  timestamp: z
    .number()
    .int()
    .openapi({ description: "When it happened (the producer's `occurredAt`, else acceptance), unix milliseconds.", example: EXAMPLE_TIME }),
});

const DeliveryHeaders = z.object({
  "webhook-id": z.string().openapi({
    description: "The event id, the same on every retry ([Standard Webhooks](https://www.standardwebhooks.com/)).",
    example: EXAMPLE_EVENT_ID,
  }),
  "webhook-timestamp": z
    .string()
    .regex(/^[0-9]+$/)
    .openapi({ description: "Unix seconds of this attempt; part of what `webhook-signature` signs.", example: "1795255200" }),
  "webhook-signature": z
    .string()
    .regex(/^v1a?,[A-Za-z0-9+/]+=*( v1a?,[A-Za-z0-9+/]+=*)*$/)
    .openapi({
      description:
        "A space-separated list of signatures; accept the delivery if any one verifies. `v1,<base64>`: HMAC-SHA256 of `webhook-id.webhook-timestamp.body` " +
        "keyed with the base64-decoded part of the webhook's `whsec_` secret (two `v1` entries during a secret rotation). `v1a,<base64>`: an Ed25519 signature " +
        "of the same string (asymmetric signing). Entries of a scheme you do not know are ignored.",
      example: "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
    }),
  "x-webhook-signature": z.string().openapi({
    description: "respond.io's scheme: base64 HMAC-SHA256 of the raw body keyed with the secret string as shown.",
    example: "3t0vjdM0wXH3DGpZsw8EcA1vHwBsDXxPHcbyHvbZB4c=",
  }),
  traceparent: z
    .string()
    .regex(/^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/)
    .openapi({
      description:
        "W3C Trace Context: the trace id the producer sent the event with (or one the service started), and a new span id for this attempt (each retry has its own).",
      example: "00-4bf92f3577b34da6a3ce929d0e0e4736-b7ad6b7169203331-01",
    }),
  tracestate: z.string().optional().openapi({
    description:
      "W3C Trace Context vendor state: the producer's `tracestate`, sent unchanged with every attempt when the event was sent with one beside a valid `traceparent`.",
    example: "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7",
  }),
  "content-type": z.literal("application/json"),
  "user-agent": z.string().openapi({ example: "EdgeWebhooks/1.0 (+https://github.com/edge-webhooks)" }),
});

const ANSWERS = {
  "2XX": {
    description:
      "Delivered: any 2xx within DELIVERY_TIMEOUT_MS (5 s). The body is not read beyond its first 1 KiB, kept in the delivery log.",
  },
  "410": { description: "Gone: the webhook is disabled at once (no retries)." },
  default: {
    description:
      "Anything else (another status, a redirect, which is never followed, a timeout, a dropped connection) is a failed attempt: retried after 30, 60 and 90 s " +
      "(or the webhook's own schedule; a 429 or 503 with Retry-After is honoured), and counted against the workspace's failure quota.",
  },
};

const EXAMPLE_BATCH_ID = "bat_4f1c2a9e8b7d6c5e4f3a2b1c0d9e8f7a";

/** A batch's headers: a single delivery's, computed over the batch body, with the batch's own id. */
const BatchDeliveryHeaders = DeliveryHeaders.extend({
  "webhook-id": z
    .string()
    .regex(/^bat_[0-9a-f]{32}$/)
    .openapi({
      description:
        "The batch's own id (`bat_` and 32 hex digits), the same on every retry of this batch; what the signatures sign with. Each event " +
        "in `events` keeps its own `event_id`: deduplicate on those.",
      example: EXAMPLE_BATCH_ID,
    }),
  traceparent: DeliveryHeaders.shape.traceparent.openapi({
    description: "W3C Trace Context of the batch's first event (its trace id, a new span id for this attempt).",
  }),
});

const BATCH_ANSWERS = {
  "2XX": { description: "Every event in the batch is delivered: any 2xx within DELIVERY_TIMEOUT_MS (5 s)." },
  "410": { description: "Gone: the webhook is disabled at once (no retries)." },
  default: {
    description:
      "Anything else fails every event in the batch. The batch is retried as one, same events and same `webhook-id`, on the webhook's " +
      "schedule, and counts as one failure against the workspace's failure quota.",
  },
};

/** The batch entry: `{"events": [...]}` whose elements are the bodies `deliveries` describe, in acceptance order. */
function registerBatchDelivery(app: Pick<OpenAPIHono, "openAPIRegistry">, deliveries: z.ZodType[]): void {
  const [first, second, ...rest] = deliveries;
  if (!first || !second) throw new Error("a batch needs at least two delivery bodies to choose from");
  const body = z
    .object({
      events: z
        .array(z.union([first, second, ...rest]))
        .min(1)
        .openapi({
          description:
            "The events, oldest first (acceptance order), each element byte-for-byte the body a single delivery of that event would carry.",
        }),
    })
    .openapi("BatchDelivery", {
      description:
        'What an endpoint receives from a webhook with `batch` set: `{"events":[` + the single-delivery bodies joined with `,` + `]}`. ' +
        "The signatures are computed over these bytes, exactly as for one event.",
      example: {
        events: [
          {
            event_type: "contact.created",
            event_id: EXAMPLE_EVENT_ID,
            timestamp: EXAMPLE_TIME,
            ...sampleData("contact.created", EXAMPLE_TIME),
          },
        ],
      },
    });
  app.openAPIRegistry.registerWebhook({
    method: "post",
    path: "batch",
    operationId: "deliverBatch",
    tags: ["Deliveries"],
    security: [],
    summary: "A batch of events",
    description:
      "Sent instead of single deliveries to a webhook with `batch` set (docs/batches.md): up to `maxEvents` ready events in one request, in " +
      "order, signed like one delivery. Every request to such a webhook has this body, even with one event in it (a test event too); only " +
      "verification challenges come alone, as a single delivery.",
    request: { headers: BatchDeliveryHeaders, body: { required: true, content: { "application/json": { schema: body } } } },
    responses: BATCH_ANSWERS,
  });
}

/** Registers a `webhooks` entry per event type, then the batch entry, on the API's OpenAPI registry. */
export function registerDeliveryWebhooks(app: Pick<OpenAPIHono, "openAPIRegistry">): void {
  const deliveries: z.ZodType[] = [];
  for (const info of EVENT_CATALOG) {
    const body = EVENT_DATA_SCHEMAS[info.type].extend(envelope(info.type)).openapi(deliveryComponentName(info.type), {
      description: `What an endpoint subscribed to \`${info.type}\` receives: the envelope, then the event's data at the top level. Extra keys may appear.`,
      example: { event_type: info.type, event_id: EXAMPLE_EVENT_ID, timestamp: EXAMPLE_TIME, ...sampleData(info.type, EXAMPLE_TIME) },
    });
    deliveries.push(body);
    app.openAPIRegistry.registerWebhook({
      method: "post",
      path: info.type,
      // camelCase like the API's own: deliverMessageReceived, deliverContactTagUpdated, …
      operationId: `deliver${info.type.replace(/(?:^|\.)(\w)/g, (_, c: string) => c.toUpperCase())}`,
      tags: ["Deliveries"],
      // Not a call to this API: the service calls the receiver, which checks the signature headers instead.
      security: [],
      summary: info.name,
      description: `${info.description} Sent to every enabled webhook subscribed to \`${info.type}\`, in acceptance order, signed, and retried on failure.`,
      request: { headers: DeliveryHeaders, body: { required: true, content: { "application/json": { schema: body } } } },
      responses: ANSWERS,
    });
  }
  registerBatchDelivery(app, deliveries);
}
