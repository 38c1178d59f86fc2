// A webhook's health at a glance: attempts, success rate, latency and a delivered/failed series over a
// period, computed by its lane from the delivery log (src/delivery/lane/stats.ts).
import { createRoute, z } from "@hono/zod-openapi";
import { allowed, initialAdaptiveState } from "../../delivery/adaptive-limit";
import { STATS_PERIODS } from "../../delivery/lane/stats";
import { newRouter } from "../context";
import { errorResponses } from "../errors";
import { jsonResponse, workspaceKeyAuth } from "../openapi";
import { findWebhook, webhookLane } from "./lookup";
import { WebhookIdParam } from "./schemas";

export const StatsQuerySchema = z.object({
  period: z
    .enum(STATS_PERIODS, { error: `must be one of ${STATS_PERIODS.join(", ")}` })
    .default("24h")
    .openapi({ param: { name: "period", in: "query" }, example: "24h" }),
});

const count = (description: string) => z.number().int().openapi({ description });

export const StatsSchema = z
  .object({
    period: z.enum(STATS_PERIODS),
    attempts: count("Attempts started in the period (delivered + failed). Test events are not counted."),
    delivered: count("Attempts in the period that succeeded: a 2xx and no error."),
    failed: count("Attempts in the period that failed (any other status, a timeout, a connection error, a redirect, a refused URL)."),
    dropped: count("Events that became `dropped` in the period (their last retry failed) and still are."),
    successRate: z
      .number()
      .min(0)
      .max(1)
      .nullable()
      .openapi({ description: "delivered / attempts; null when there were no attempts.", example: 0.98 }),
    latencyMs: z
      .object({
        p50: z.number().int().openapi({ example: 120 }),
        p95: z.number().int().openapi({ example: 840 }),
      })
      .nullable()
      .openapi({
        description: "Nearest-rank percentiles of the attempts' durations in the period, failed ones included; null when there were none.",
      }),
    series: z
      .array(
        z.object({
          start: z.iso.datetime().openapi({ description: "When the bucket starts." }),
          delivered: z.number().int(),
          failed: z.number().int(),
          concurrencyLimit: z
            .number()
            .nullable()
            .openapi({
              description:
                "An adaptive webhook's limit of requests at once in the bucket (the mean of what it used, 5 minutes at a time); " +
                "null for a fixed webhook and where none was recorded.",
              example: 8,
            }),
        }),
      )
      .openapi({
        description:
          "Fixed buckets aligned in UTC, oldest first, every one present: 12 × 5 min for 1h, 24 × 1 h for 24h, 28 × 6 h for 7d. " +
          "The newest holds the present, so the period is those buckets (up to now).",
      }),
    concurrencyLimit: z.number().int().nullable().openapi({
      description:
        'With `concurrency: "adaptive"`: the requests at once the webhook sends now (at most maxInFlight); null for a fixed webhook.',
      example: 8,
    }),
    position: z
      .object({
        acknowledgedAt: z.iso.datetime().nullable().openapi({ description: "When its consumer last acknowledged events; null if never." }),
        acknowledgedEventId: z.string().nullable().openapi({ description: "The last event acknowledged, while the log still holds it." }),
        waiting: z.number().int().openapi({ description: "Events in the stream not acknowledged yet." }),
      })
      .nullable()
      .openapi({ description: "A polling webhook's consumer position (it has no attempts); null for a push webhook." }),
  })
  .openapi("WebhookStats");

export const statsRoutes = newRouter();

statsRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{id}/stats",
    operationId: "getWebhookStats",
    tags: ["Deliveries"],
    security: workspaceKeyAuth,
    summary: "Get a webhook's delivery stats",
    description:
      "How the endpoint has been doing over `period` (`1h`, `24h` (default) or `7d`): attempts, delivered, failed, dropped, success rate, " +
      "p50/p95 latency and a delivered/failed series, from the delivery log (so never further back than RETENTION_DAYS). Test events are left out.",
    request: { params: WebhookIdParam, query: StatsQuerySchema },
    responses: { 200: jsonResponse(StatsSchema, "The webhook's stats"), ...errorResponses(400, 401, 404) },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const { period } = c.req.valid("query");
    const webhook = await findWebhook(c.get("db"), c.get("workspace").id, id);
    const lane = webhookLane(c.env, webhook);
    const [stats, position] = await Promise.all([lane.stats(period), webhook.delivery === "poll" ? lane.pollPosition() : undefined]);
    const at = position?.acknowledgedAt;
    // The webhook's setting decides; a lane not told of it yet (no event so far) would start at the lowest limit.
    const concurrencyLimit =
      webhook.concurrency === "adaptive"
        ? (stats.concurrencyLimit ?? allowed(initialAdaptiveState(webhook.maxInFlight), webhook.maxInFlight))
        : null;
    return c.json(
      { ...stats, concurrencyLimit, position: position ? { ...position, acknowledgedAt: at ? new Date(at).toISOString() : null } : null },
      200,
    );
  },
);
