// GET /v1/quota: the caller's workspace's shared failure quota, as the lanes see it.
import { createRoute, z } from "@hono/zod-openapi";
import { quotaOf } from "../bindings";
import { newRouter } from "./context";
import { errorResponses } from "./errors";
import { jsonResponse, workspaceKeyAuth } from "./openapi";

const QuotaSchema = z
  .object({
    limit: z
      .number()
      .int()
      .openapi({ example: 30, description: "More failed attempts than this within the window disable the webhook that failed." }),
    windowSeconds: z.number().openapi({ example: 1800 }),
    failures: z
      .number()
      .int()
      .openapi({ example: 4, description: "Failed attempts of all the workspace's webhooks inside the window now." }),
  })
  .openapi("Quota");

export const quotaRoutes = newRouter();

quotaRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    operationId: "getQuota",
    tags: ["Workspace"],
    security: workspaceKeyAuth,
    summary: "Get the failure quota",
    description: "The workspace's sliding window of failed delivery attempts, shared by all its webhooks.",
    responses: { 200: jsonResponse(QuotaSchema, "The quota"), ...errorResponses(401) },
  }),
  async (c) => {
    return c.json(await quotaOf(c.env.WORKSPACE_QUOTA, c.get("workspace").id, c.get("workspace").dataLocation ?? null).status(), 200);
  },
);
