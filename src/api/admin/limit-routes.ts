// The operator's view of a workspace's limits (docs/limits.md): read a workspace with its limits and usage, and
// raise or lower any of them. A lowered limit refuses what is new and leaves what exists alone.
import { createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { workspaces } from "../../db/schema";
import { LIMIT_NAMES, LIMITS, mergeOverrides, type LimitName } from "../../lib/limits";
import { newRouter } from "../context";
import { errorResponses } from "../errors";
import { forgetWorkspace } from "../key-cache";
import { adminTokenAuth, jsonBody, jsonResponse } from "../openapi";
import { withUsage } from "../workspace/routes";
import { WorkspaceWithUsageSchema } from "../workspace/schemas";
import { WorkspaceIdParam, workspaceNotFound } from "./routes";

const tags = ["Admin"];
const security = adminTokenAuth;

/** One limit as the operator sets it: a whole number in its range, or null for the default. */
const limitValue = (name: LimitName) =>
  z
    .number({ error: `must be a whole number from ${LIMITS[name].min} to ${LIMITS[name].max}, or null for the default` })
    .int({ error: `must be a whole number from ${LIMITS[name].min} to ${LIMITS[name].max}, or null for the default` })
    .min(LIMITS[name].min, { error: `must be at least ${LIMITS[name].min}` })
    .max(LIMITS[name].max, { error: `must be at most ${LIMITS[name].max}` })
    .nullable()
    .optional()
    .openapi({ description: `${LIMITS[name].meaning}; default ${LIMITS[name].default}, null returns to it` });

const UpdateWorkspaceLimitsSchema = z
  .strictObject({
    limits: z
      .strictObject(
        Object.fromEntries(LIMIT_NAMES.map((name) => [name, limitValue(name)])) as Record<LimitName, ReturnType<typeof limitValue>>,
      )
      .openapi({ example: { webhooks: 500 } }),
  })
  .openapi("UpdateWorkspaceLimits");

export const adminLimitRoutes = newRouter();

adminLimitRoutes.openapi(
  createRoute({
    method: "get",
    path: "/workspaces/{id}",
    operationId: "getWorkspaceAsAdmin",
    tags,
    security,
    summary: "Get a workspace",
    description: "The workspace as its own key reads it (GET /v1/workspace), with its limits and usage.",
    request: { params: WorkspaceIdParam },
    responses: { 200: jsonResponse(WorkspaceWithUsageSchema, "The workspace, its limits and its usage"), ...errorResponses(401, 404) },
  }),
  async (c) => {
    const db = c.get("db");
    const { id } = c.req.valid("param");
    const row = await db.query.workspaces.findFirst({ where: eq(workspaces.id, id) });
    if (!row) throw workspaceNotFound(id);
    return c.json(await withUsage(db, row), 200);
  },
);

adminLimitRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/workspaces/{id}",
    operationId: "updateWorkspaceLimits",
    tags,
    security,
    summary: "Change a workspace's limits",
    description:
      "Raises or lowers any of the workspace's limits (docs/limits.md); limits left out keep their value and null returns one to " +
      "its default. A lowered limit refuses new webhooks, configurations and test events over it and leaves existing webhooks alone.",
    request: { params: WorkspaceIdParam, body: jsonBody(UpdateWorkspaceLimitsSchema) },
    responses: {
      200: jsonResponse(WorkspaceWithUsageSchema, "The workspace with its new limits"),
      ...errorResponses(400, 401, 404, 413, 415),
    },
  }),
  async (c) => {
    const db = c.get("db");
    const { id } = c.req.valid("param");
    const { limits } = c.req.valid("json");
    const current = await db.query.workspaces.findFirst({ where: eq(workspaces.id, id) });
    if (!current) throw workspaceNotFound(id);
    const [row] = await db
      .update(workspaces)
      .set({ limits: mergeOverrides(current.limits, limits), updatedAt: new Date(Math.max(Date.now(), current.updatedAt.getTime() + 1)) })
      .where(eq(workspaces.id, id))
      .returning();
    // This isolate's cached copy of the workspace goes at once; others' within the key cache's lifetime.
    forgetWorkspace(id);
    // Deleted between the read and the write: as unknown as one that never was.
    if (!row) throw workspaceNotFound(id);
    return c.json(await withUsage(db, row), 200);
  },
);
