// The caller's own workspace: read it and set its notification address.
import { createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { workspaces } from "../../db/schema";
import { newRouter } from "../context";
import { forgetWorkspace } from "../key-cache";
import { errorResponses } from "../errors";
import { jsonBody, jsonResponse, workspaceKeyAuth } from "../openapi";
import { NotificationEmail, toWorkspace, WorkspaceSchema } from "./schemas";

const tags = ["Workspace"];
const security = workspaceKeyAuth;

const UpdateWorkspaceSchema = z.strictObject({ notificationEmail: NotificationEmail }).openapi("UpdateWorkspace");

export const workspaceRoutes = newRouter();

workspaceRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags,
    security,
    summary: "Get the caller's workspace",
    responses: { 200: jsonResponse(WorkspaceSchema, "The workspace"), ...errorResponses(401) },
  }),
  // Read fresh: the workspace on the context may be a cached copy (key-cache.ts) from another isolate's past.
  async (c) => {
    const row = await c.get("db").query.workspaces.findFirst({ where: eq(workspaces.id, c.get("workspace").id) });
    return c.json(toWorkspace(row ?? c.get("workspace")), 200);
  },
);

workspaceRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/",
    tags,
    security,
    summary: "Set the notification email",
    description: "Sets (or, with null, clears) the address that is told when a webhook is disabled automatically.",
    request: { body: jsonBody(UpdateWorkspaceSchema) },
    responses: { 200: jsonResponse(WorkspaceSchema, "The updated workspace"), ...errorResponses(400, 401, 413, 415) },
  }),
  async (c) => {
    const { notificationEmail } = c.req.valid("json");
    const [row] = await c
      .get("db")
      .update(workspaces)
      .set({ notificationEmail, updatedAt: new Date() })
      .where(eq(workspaces.id, c.get("workspace").id))
      .returning();
    forgetWorkspace(row!.id);
    return c.json(toWorkspace(row!), 200);
  },
);
