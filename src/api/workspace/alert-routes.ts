// The workspace's alerts log: every operational event sent (or to be sent) to its alertUrl, read, retried and
// tested like a webhook's deliveries. Served by the workspace's alerts lane (src/alerts/send.ts).
import { createRoute, z } from "@hono/zod-openapi";
import { ALERT_TYPES, alertEvent, type AlertType } from "../../alerts/catalog";
import { alertLaneConfig } from "../../delivery/lane-config";
import { alertLaneOf } from "../../bindings";
import { readConfig } from "../../config";
import type { DeliveryRecord } from "../../delivery/lane/log";
import { limitsOf } from "../../lib/limits";
import { newRouter } from "../context";
import { ApiError, errorResponses, rateLimited, refusalError } from "../errors";
import { jsonResponse, workspaceKeyAuth } from "../openapi";
import { PageCursor, PageLimit, pagePosition } from "../paging";
import {
  decodeCursor,
  deliveryPageBody,
  DeliverySchema,
  DeliveryWithPayloadSchema,
  EventIdParam,
  sentOf,
  STATUSES,
  toDelivery,
  TraceIdQuery,
} from "../webhooks/delivery-schemas";
import { alertUrlNotSet, currentWorkspace } from "./routes";

const tags = ["Alerts"];
const security = workspaceKeyAuth;

const AlertTypeSchema = z.enum(ALERT_TYPES, {
  error: (issue) => `unknown alert type ${JSON.stringify(issue.input)}; one of ${ALERT_TYPES.join(", ")}`,
});

const AlertDeliverySchema = DeliverySchema.extend({
  type: AlertTypeSchema.openapi({ example: "webhook.disabled" }),
  test: z.boolean().openapi({ description: "Sent by POST /v1/workspace/alerts/test." }),
}).openapi("AlertDelivery");
const AlertDeliveryWithPayloadSchema = DeliveryWithPayloadSchema.extend({ type: AlertTypeSchema }).openapi("AlertDeliveryWithPayload");
const AlertListSchema = z
  .object({
    data: z.array(AlertDeliverySchema),
    nextCursor: z.string().nullable().openapi({ description: "Pass as `cursor` for the next (older) page; null on the last page." }),
  })
  .openapi("AlertDeliveryList");
const AlertQuerySchema = z.object({
  status: z
    .enum(STATUSES)
    .optional()
    .openapi({ param: { name: "status", in: "query" } }),
  type: AlertTypeSchema.optional().openapi({ param: { name: "type", in: "query" } }),
  traceId: TraceIdQuery,
  limit: PageLimit,
  cursor: PageCursor,
});

const toAlertDelivery = (record: DeliveryRecord) => ({ ...toDelivery(record), type: record.type as AlertType });

function alertNotFound(eventId: string): ApiError {
  return new ApiError("not_found", `no alert ${JSON.stringify(eventId)} in this workspace`);
}

export const alertRoutes = newRouter();

alertRoutes.openapi(
  createRoute({
    method: "get",
    path: "/alerts",
    operationId: "listAlerts",
    tags,
    security,
    summary: "List alerts",
    description:
      "The workspace's operational events as delivered to its alertUrl, newest first, with every attempt: the same log, filters and paging as a webhook's deliveries. " +
      "Kept for RETENTION_DAYS once finished.",
    request: { query: AlertQuerySchema },
    responses: { 200: jsonResponse(AlertListSchema, "A page of alerts"), ...errorResponses(400, 401) },
  }),
  async (c) => {
    const query = c.req.valid("query");
    const before = pagePosition(query.cursor, decodeCursor);
    const workspace = await currentWorkspace(c.get("db"), c.get("workspace").id);
    // Before alertUrl was ever set there is no alerts lane: nothing to read, and no object to create for it.
    if (!workspace.alertSecret) return c.json({ data: [], nextCursor: null }, 200);
    const page = await alertLaneOf(c.env, workspace.id, workspace.dataLocation ?? null).deliveries({
      status: query.status,
      type: query.type,
      traceId: query.traceId,
      limit: query.limit,
      before,
    });
    return c.json(deliveryPageBody(page, toAlertDelivery), 200);
  },
);

alertRoutes.openapi(
  createRoute({
    method: "get",
    path: "/alerts/{eventId}",
    operationId: "getAlert",
    tags,
    security,
    summary: "Get an alert",
    description: "One alert with its attempts, the JSON body sent and the headers of its latest attempt.",
    request: { params: EventIdParam },
    responses: { 200: jsonResponse(AlertDeliveryWithPayloadSchema, "The alert"), ...errorResponses(401, 404) },
  }),
  async (c) => {
    const { eventId } = c.req.valid("param");
    const workspace = await currentWorkspace(c.get("db"), c.get("workspace").id);
    const record = workspace.alertSecret
      ? await alertLaneOf(c.env, workspace.id, workspace.dataLocation ?? null).delivery(eventId)
      : undefined;
    if (!record) throw alertNotFound(eventId);
    return c.json({ ...toAlertDelivery(record), ...sentOf(record) }, 200);
  },
);

alertRoutes.openapi(
  createRoute({
    method: "post",
    path: "/alerts/{eventId}/retry",
    operationId: "retryAlert",
    tags,
    security,
    summary: "Retry an alert",
    description:
      "Sends the alert again (same `webhook-id`), behind any pending one. 409 while it is pending or the workspace has no alertUrl.",
    request: { params: EventIdParam },
    responses: { 202: jsonResponse(AlertDeliverySchema, "The alert, pending again"), ...errorResponses(401, 404, 409) },
  }),
  async (c) => {
    const { eventId } = c.req.valid("param");
    const workspace = await currentWorkspace(c.get("db"), c.get("workspace").id);
    const config = alertLaneConfig(workspace);
    if (!config) throw alertNotFound(eventId);
    const outcome = await alertLaneOf(c.env, workspace.id, workspace.dataLocation ?? null).retry(config, eventId);
    if ("delivery" in outcome) return c.json(toAlertDelivery(outcome.delivery), 202);
    throw refusalError(outcome.refused, { notFound: alertNotFound(eventId), disabled: alertUrlNotSet(), pending: "alert" });
  },
);

alertRoutes.openapi(
  createRoute({
    method: "post",
    path: "/alerts/test",
    operationId: "sendTestAlert",
    tags,
    security,
    summary: "Send a test alert",
    description:
      "Sends an `alert.test` event to the alertUrl now, signed like every alert, once (not retried), and answers with the attempt. It appears in the log with `test: true`. " +
      "With REQUIRE_ENDPOINT_VERIFICATION on, an alertUrl not verified yet gets nothing: 409 `endpoint_unverified`. " +
      "At most `limits.testEventsPerMinute` test alerts in any minute: past it, 429 `rate_limited` with `Retry-After`.",
    responses: { 200: jsonResponse(AlertDeliverySchema, "The test alert and its attempt"), ...errorResponses(401, 409, 429) },
  }),
  async (c) => {
    const workspace = await currentWorkspace(c.get("db"), c.get("workspace").id);
    const config = alertLaneConfig(workspace);
    if (!config?.enabled) throw alertUrlNotSet();
    // Nothing but the challenge goes to an alertUrl that has not verified (docs/signatures.md).
    if (readConfig(c.env).requireEndpointVerification && config.verifiedAt === null) {
      throw new ApiError("endpoint_unverified", "the alertUrl has not answered its verification challenge yet; see alertUrlVerifiedAt");
    }
    const now = Date.now();
    const event = await alertEvent({
      workspaceId: workspace.id,
      type: "alert.test",
      key: `test\n${crypto.randomUUID()}`,
      at: now,
      data: { message: "A test alert: your alertUrl receives this workspace's operational events." },
    });
    const { testEventsPerMinute } = limitsOf(workspace.limits);
    const record = await alertLaneOf(c.env, workspace.id, workspace.dataLocation ?? null).sendTest(config, event, testEventsPerMinute);
    if (!record) throw alertUrlNotSet();
    if ("retryAfterSeconds" in record) {
      throw rateLimited(
        `the alertUrl was sent ${testEventsPerMinute} test alerts in the last minute, its limit (testEventsPerMinute)`,
        record.retryAfterSeconds,
      );
    }
    return c.json(toAlertDelivery(record), 200);
  },
);
