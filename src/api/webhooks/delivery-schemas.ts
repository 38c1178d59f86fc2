// Schemas of the delivery log and the delivery actions (retry, recover, test), and the log's public shape.
import { z } from "@hono/zod-openapi";
import type { DeliveryRecord } from "../../delivery/lane/log";
import { EVENT_TYPES } from "../../events/catalog";
import { PageCursor, PageLimit } from "../paging";
import { VERIFICATION_EVENT_TYPE } from "../../delivery/verification";

export const STATUSES = ["pending", "delivered", "dropped", "skipped"] as const;

const EventType = z.enum(EVENT_TYPES, {
  error: (issue) => `unknown event type ${JSON.stringify(issue.input)}; see GET /v1/event-types`,
});

export const AttemptSchema = z
  .object({
    at: z.iso.datetime().openapi({ description: "When the request started." }),
    statusCode: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "The endpoint's HTTP status; null when none came (timeout, connection error).", example: 503 }),
    durationMs: z.number().int().openapi({ example: 212 }),
    error: z
      .string()
      .nullable()
      .openapi({ description: "Why the attempt failed; null when it succeeded.", example: "endpoint answered HTTP 503" }),
    responseBody: z.string().nullable().openapi({ description: "The first 1 KiB of the endpoint's response body." }),
  })
  .openapi("Attempt");

export const DeliverySchema = z
  .object({
    eventId: z
      .string()
      .openapi({ example: "evt_01jd8x6m3q7v9c2k4n5p6r7s8t", description: "Also the `webhook-id` header the endpoint got." }),
    type: z.union([EventType, z.literal(VERIFICATION_EVENT_TYPE)]).openapi({
      example: "message.received",
      description: "The event type; `endpoint.verification` for an endpoint's verification challenge (docs/signatures.md).",
    }),
    status: z.enum(STATUSES).openapi({
      description:
        "pending: in line or waiting for a retry; delivered: a 2xx came back; dropped: every attempt failed; skipped: the webhook was disabled before it was delivered.",
    }),
    test: z.boolean().openapi({ description: "Sent by POST /v1/webhooks/{id}/test." }),
    createdAt: z.iso.datetime().openapi({ description: "When the event was accepted." }),
    deliveredAt: z.iso.datetime().nullable(),
    nextAttemptAt: z.iso.datetime().nullable().openapi({ description: "When a pending delivery's next attempt is due." }),
    attempts: z.array(AttemptSchema).openapi({ description: "Every attempt, oldest first." }),
    traceId: z
      .string()
      .nullable()
      .openapi({
        description:
          "The W3C trace id of the event: from the `traceparent` it was sent with, or started by the service. Every attempt sent `traceparent` with it (and a new span id). " +
          "Find deliveries by it with `?traceId=`.",
        example: "4bf92f3577b34da6a3ce929d0e0e4736",
      }),
    schemaWarning: z.string().nullable().openapi({
      description:
        "With EVENT_VALIDATION=warn: what in the event's data did not match its type's schema when it was accepted; null otherwise.",
      example: "data.contact.id: Invalid input: expected number, received undefined (contact.updated schema, GET /v1/event-types)",
    }),
  })
  .openapi("Delivery");

export const DeliveryWithPayloadSchema = DeliverySchema.extend({
  payload: z.record(z.string(), z.unknown()).openapi({ description: "The JSON body the endpoint received (or will receive)." }),
  headers: z
    .record(z.string(), z.string())
    .nullable()
    .openapi({
      description:
        "The headers of the latest attempt as sent, names lowercased, signatures included (`content-type`, `user-agent`, the webhook's own `headers`, " +
        "`webhook-id`, `webhook-timestamp`, `webhook-signature`, `x-webhook-signature`, `traceparent`, and `tracestate` when the event has one); null before the first attempt.",
      example: { "content-type": "application/json", "webhook-id": "evt_01jd8x6m3q7v9c2k4n5p6r7s8t", "webhook-timestamp": "1732183200" },
    }),
  tracestate: z
    .string()
    .nullable()
    .openapi({
      description:
        "The W3C `tracestate` the event was sent with (beside a valid `traceparent`), as kept: every attempt, retries included, sends it unchanged " +
        "beside its own `traceparent`. Null when none came.",
      example: "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7",
    }),
  withheldHeaders: z
    .array(z.string())
    .optional()
    .openapi({
      description:
        "A webhook's delivery: the names among the webhook's stored `headers` that are reserved (stored before the rule) and so are never sent; " +
        "its attempts go out without them (docs/security.md). Usually empty.",
      example: [],
    }),
}).openapi("DeliveryWithPayload");

export const DeliveryListSchema = z
  .object({
    data: z.array(DeliverySchema),
    nextCursor: z.string().nullable().openapi({ description: "Pass as `cursor` for the next (older) page; null on the last page." }),
  })
  .openapi("DeliveryList");

/** `?traceId=`: only the deliveries of one W3C trace (the log's `traceId`). */
export const TraceIdQuery = z
  .string()
  .regex(/^[0-9a-f]{32}$/, { error: "must be a W3C trace id: 32 lowercase hex digits" })
  .optional()
  .openapi({
    param: { name: "traceId", in: "query" },
    description: "Only the deliveries of events in this trace.",
    example: "4bf92f3577b34da6a3ce929d0e0e4736",
  });

export const DeliveryQuerySchema = z.object({
  status: z
    .enum(STATUSES)
    .optional()
    .openapi({ param: { name: "status", in: "query" } }),
  type: EventType.optional().openapi({ param: { name: "type", in: "query" } }),
  traceId: TraceIdQuery,
  limit: PageLimit,
  cursor: PageCursor,
});

export const EventIdParam = z.object({
  eventId: z.string().openapi({ param: { name: "eventId", in: "path" }, example: "evt_01jd8x6m3q7v9c2k4n5p6r7s8t" }),
});

export const DeliveryParams = z.object({
  id: z.string().openapi({ param: { name: "id", in: "path" }, example: "wh_01jd8x6m3q7v9c2k4n5p6r7s8t" }),
  eventId: z.string().openapi({ param: { name: "eventId", in: "path" }, example: "evt_01jd8x6m3q7v9c2k4n5p6r7s8t" }),
});

export const RecoverSchema = z
  .strictObject({
    since: z.iso
      .datetime({ offset: true, error: "must be an ISO 8601 date-time such as 2026-11-21T10:00:00Z" })
      .openapi({ description: "Re-queue dropped and skipped events accepted at or after this time.", example: "2026-11-21T09:00:00Z" }),
  })
  .openapi("Recover");

export const RecoverResultSchema = z
  .object({ recovered: z.number().int().openapi({ description: "How many events were put back in line.", example: 42 }) })
  .openapi("RecoverResult");

export const TestEventSchema = z
  .strictObject({
    type: EventType.optional().openapi({ description: "Which event to send a sample of; defaults to the webhook's first event type." }),
  })
  .openapi("TestEvent");

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function toDelivery(record: DeliveryRecord): z.infer<typeof DeliverySchema> {
  return {
    eventId: record.eventId,
    type: record.type as z.infer<typeof EventType>,
    status: record.status,
    test: record.test,
    createdAt: iso(record.acceptedAt)!,
    deliveredAt: record.status === "delivered" ? iso(record.finishedAt) : null,
    nextAttemptAt: iso(record.nextAttemptAt),
    attempts: record.attempts.map((a) => ({ ...a, at: iso(a.at)! })),
    traceId: record.traceId,
    schemaWarning: record.schemaWarning,
  };
}

/** A page of the delivery log as the API answers it (a webhook's deliveries, the workspace's alerts): `data` and `nextCursor`. */
export function deliveryPageBody<T>(page: { data: DeliveryRecord[]; more: boolean }, shape: (record: DeliveryRecord) => T) {
  const last = page.data.at(-1);
  return { data: page.data.map(shape), nextCursor: page.more && last ? encodeCursor(last.orderKey) : null };
}

/** What a delivery read alone adds: the exact body sent and the headers of its latest attempt. */
export function sentOf(record: DeliveryRecord): {
  payload: Record<string, unknown>;
  headers: Record<string, string> | null;
  tracestate: string | null;
} {
  return {
    payload: JSON.parse(record.body!) as Record<string, unknown>,
    headers: record.headers ?? null,
    tracestate: record.tracestate ?? null,
  };
}

/** Cursors are opaque to clients: the order key of the last delivery of a page, base64url-encoded. */
export function encodeCursor(orderKey: string): string {
  return new TextEncoder().encode(orderKey).toBase64({ alphabet: "base64url", omitPadding: true });
}

export function decodeCursor(cursor: string): string | undefined {
  try {
    const key = new TextDecoder().decode(Uint8Array.fromBase64(cursor, { alphabet: "base64url" }));
    return /^[0-9A-Z]{26}$/.test(key) ? key : undefined;
  } catch {
    return undefined;
  }
}
