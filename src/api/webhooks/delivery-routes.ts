// The delivery log and what can be done with it: list and read deliveries, retry one, recover what was
// dropped or skipped, send a test event. All of it is served by the webhook's lane (its Durable Object).
import { createRoute } from "@hono/zod-openapi";
import { readConfig } from "../../config";
import { laneConfigOf } from "../../delivery/lane-config";
import type { Refusal } from "../../delivery/lane/endpoint-lane";
import { toQueuedEvent } from "../../events/ingest";
import { sampleData } from "../../events/samples";
import { keptTraceOf } from "../../events/trace";
import { newRouter } from "../context";
import { pagePosition } from "../paging";
import { ApiError, errorResponses, rateLimited, refusalError } from "../errors";
import { limitsOf } from "../../lib/limits";
import { jsonBody, jsonResponse, optionalJsonBody, TraceContextHeaders, workspaceKeyAuth } from "../openapi";
import {
  decodeCursor,
  DeliveryListSchema,
  DeliveryParams,
  DeliveryQuerySchema,
  DeliverySchema,
  DeliveryWithPayloadSchema,
  deliveryPageBody,
  sentOf,
  RecoverResultSchema,
  RecoverSchema,
  TestEventSchema,
  toDelivery,
} from "./delivery-schemas";
import { openHeaders } from "../../lib/encryption";
import { isReservedHeader } from "../../lib/endpoint-controls";
import { findWebhook, webhookLane, webhookNotFound } from "./lookup";
import { WebhookIdParam } from "./schemas";

const tags = ["Deliveries"];
const security = workspaceKeyAuth;

export const deliveryRoutes = newRouter();

function deliveryNotFound(eventId: string): ApiError {
  return new ApiError("not_found", `no delivery of event ${JSON.stringify(eventId)} to this webhook`);
}

/** The error for a lane's refusal; `notFound` is what was missing (the delivery, or the webhook itself). */
function refused(refusal: Refusal, notFound: ApiError): ApiError {
  const disabled = new ApiError("webhook_disabled", "the webhook is disabled; enable it first, then retry or recover");
  return refusalError(refusal, { notFound, disabled, pending: "delivery" });
}

deliveryRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{id}/deliveries",
    operationId: "listDeliveries",
    tags,
    security,
    summary: "List deliveries",
    description:
      "The webhook's delivery log, newest event first: every event it was sent (or will be sent), with all attempts. " +
      "Filter by `status`, `type` and `traceId`; page with `limit` (1-100, default 50) and `cursor`. " +
      "Finished deliveries are kept for RETENTION_DAYS (default 30).",
    request: { params: WebhookIdParam, query: DeliveryQuerySchema },
    responses: { 200: jsonResponse(DeliveryListSchema, "A page of deliveries"), ...errorResponses(400, 401, 404) },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const query = c.req.valid("query");
    const before = pagePosition(query.cursor, decodeCursor);
    const webhook = await findWebhook(c.get("db"), c.get("workspace").id, id);
    const page = await webhookLane(c.env, webhook).deliveries({
      status: query.status,
      type: query.type,
      traceId: query.traceId,
      limit: query.limit,
      before,
    });
    return c.json(deliveryPageBody(page, toDelivery), 200);
  },
);

deliveryRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{id}/deliveries/{eventId}",
    operationId: "getDelivery",
    tags,
    security,
    summary: "Get a delivery",
    description:
      "One delivery with its attempts, the exact JSON body the endpoint received and the headers of its latest attempt as sent, and which of " +
      "the webhook's stored headers are withheld (reserved names are never sent).",
    request: { params: DeliveryParams },
    responses: { 200: jsonResponse(DeliveryWithPayloadSchema, "The delivery"), ...errorResponses(401, 404) },
  }),
  async (c) => {
    const { id, eventId } = c.req.valid("param");
    const webhook = await findWebhook(c.get("db"), c.get("workspace").id, id);
    const record = await webhookLane(c.env, webhook).delivery(eventId);
    if (!record) throw deliveryNotFound(eventId);
    const withheldHeaders = Object.keys(await openHeaders(c.env, webhook.headers)).filter(isReservedHeader);
    return c.json({ ...toDelivery(record), ...sentOf(record), withheldHeaders }, 200);
  },
);

deliveryRoutes.openapi(
  createRoute({
    method: "post",
    path: "/{id}/deliveries/{eventId}/retry",
    operationId: "retryDelivery",
    tags,
    security,
    summary: "Retry a delivery",
    description:
      "Delivers the event again, whatever became of it (delivered, dropped, skipped): it goes back in line behind every pending event, " +
      "with the same `webhook-id` and a fresh retry schedule; the new attempts are added to its log. " +
      "Answers 409 while the delivery is still pending or the webhook is disabled.",
    request: { params: DeliveryParams },
    responses: { 202: jsonResponse(DeliverySchema, "The delivery, pending again"), ...errorResponses(401, 404, 409) },
  }),
  async (c) => {
    const { id, eventId } = c.req.valid("param");
    const webhook = await findWebhook(c.get("db"), c.get("workspace").id, id);
    const outcome = await webhookLane(c.env, webhook).retry(laneConfigOf(webhook), eventId);
    if ("refused" in outcome) throw refused(outcome.refused, deliveryNotFound(eventId));
    return c.json(toDelivery(outcome.delivery), 202);
  },
);

deliveryRoutes.openapi(
  createRoute({
    method: "post",
    path: "/{id}/recover",
    operationId: "recoverDeliveries",
    tags,
    security,
    summary: "Recover dropped and skipped events",
    description:
      "Puts every `dropped` and `skipped` event accepted since `since` back in line, in the order they were accepted, behind what is pending, " +
      "with a fresh retry schedule each. Typically after a webhook was disabled and enabled again. Test events are not recovered. " +
      "Answers 409 while the webhook is disabled.",
    request: { params: WebhookIdParam, body: jsonBody(RecoverSchema) },
    responses: {
      202: jsonResponse(RecoverResultSchema, "How many events were re-queued"),
      ...errorResponses(400, 401, 404, 409, 413, 415),
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const { since } = c.req.valid("json");
    const webhook = await findWebhook(c.get("db"), c.get("workspace").id, id);
    const outcome = await webhookLane(c.env, webhook).recover(laneConfigOf(webhook), Date.parse(since));
    if ("refused" in outcome) throw refused(outcome.refused, webhookNotFound(id));
    return c.json(outcome, 202);
  },
);

deliveryRoutes.openapi(
  createRoute({
    method: "post",
    path: "/{id}/test",
    operationId: "sendTestEvent",
    tags,
    security,
    summary: "Send a test event",
    description:
      "Sends a realistic sample of an event type (respond.io's shapes) to the endpoint now, signed like any event, and answers with the attempt. " +
      "It does not wait in line (only for an attempt already in flight), is tried once, does not count against the failure quota, " +
      "and reaches a disabled webhook too, so an endpoint can be checked before enabling it. It ignores the webhook's `filter` " +
      "(it is sent whatever the filter says) and carries its custom `headers`. It appears in the log with `test: true`, " +
      "in the trace of the request's `traceparent` (or a new one), with its `tracestate`. " +
      "With REQUIRE_ENDPOINT_VERIFICATION on, an endpoint not verified yet gets nothing: 409 `endpoint_unverified`. " +
      "At most `limits.testEventsPerMinute` test events per webhook in any minute (default 10): past it, 429 `rate_limited` with `Retry-After`.",
    request: { params: WebhookIdParam, body: optionalJsonBody(TestEventSchema), headers: TraceContextHeaders },
    responses: {
      200: jsonResponse(DeliverySchema, "The test delivery and its attempt"),
      ...errorResponses(400, 401, 404, 409, 413, 415, 429),
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const workspaceId = c.get("workspace").id;
    const webhook = await findWebhook(c.get("db"), workspaceId, id);
    // Nothing but the challenge goes to an endpoint that has not verified (docs/signatures.md).
    if (readConfig(c.env).requireEndpointVerification && webhook.verifiedAt === null) {
      throw new ApiError(
        "endpoint_unverified",
        "the endpoint has not answered its verification challenge yet; see POST /v1/webhooks/{id}/verify",
      );
    }
    const type = c.req.valid("json").type ?? webhook.events[0]!;
    const now = Date.now();
    const event = await toQueuedEvent(
      workspaceId,
      { type, data: sampleData(type, now) },
      now,
      keptTraceOf(c.req.header("traceparent"), c.req.header("tracestate")),
    );
    const { testEventsPerMinute } = limitsOf(c.get("workspace").limits);
    const record = await webhookLane(c.env, webhook).sendTest(laneConfigOf(webhook), event, testEventsPerMinute);
    if (!record) throw webhookNotFound(id);
    if ("retryAfterSeconds" in record) {
      throw rateLimited(
        `this webhook was sent ${testEventsPerMinute} test events in the last minute, its limit (testEventsPerMinute)`,
        record.retryAfterSeconds,
      );
    }
    return c.json(toDelivery(record), 200);
  },
);
