// Operator routes behind ADMIN_TOKEN: create workspaces and issue or revoke their API keys.
import { createRoute, z } from "@hono/zod-openapi";
import { and, asc, eq, isNull } from "drizzle-orm";
import type { Db } from "../../db/client";
import { apiKeys, workspaces } from "../../db/schema";
import { newId } from "../../lib/ids";
import { newApiKey } from "../../lib/secrets";
import { newRouter } from "../context";
import { ApiError, errorResponses } from "../errors";
import { adminTokenAuth, jsonBody, jsonResponse } from "../openapi";
import { ApiKeySchema, NotificationEmail, toApiKey } from "../workspace/schemas";
import { forgetKey } from "../key-cache";

const tags = ["Admin"];
const security = adminTokenAuth;

const CreateWorkspaceSchema = z
  .strictObject({
    name: z.string().trim().min(1, { error: "must not be empty" }).max(200),
    notificationEmail: NotificationEmail.optional(),
  })
  .openapi("CreateWorkspace");

const CreatedWorkspaceSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    notificationEmail: z.string().nullable(),
    apiKey: z.string().openapi({ description: "The workspace's first API key. Shown once; only its hash is stored." }),
  })
  .openapi("CreatedWorkspace");

const CreatedKeySchema = z
  .object({
    id: z.string(),
    apiKey: z.string().openapi({ description: "Shown once; only its hash is stored.", example: "whk_3vQ9xk2L…" }),
    prefix: z.string(),
  })
  .openapi("CreatedApiKey");

const WorkspaceIdParam = z.object({ id: z.string().openapi({ param: { name: "id", in: "path" } }) });
const KeyParams = WorkspaceIdParam.extend({ keyId: z.string().openapi({ param: { name: "keyId", in: "path" } }) });

async function issueKey(db: Db, workspaceId: string, now: Date) {
  const key = await newApiKey();
  const id = newId("key");
  await db.insert(apiKeys).values({ id, workspaceId, keyHash: key.hash, prefix: key.prefix, createdAt: now });
  return { id, apiKey: key.apiKey, prefix: key.prefix };
}

async function assertWorkspace(db: Db, id: string) {
  const found = await db.query.workspaces.findFirst({ where: eq(workspaces.id, id), columns: { id: true } });
  if (!found) throw new ApiError("not_found", `no workspace ${JSON.stringify(id)}`);
}

export const adminRoutes = newRouter();

adminRoutes.openapi(
  createRoute({
    method: "post",
    path: "/workspaces",
    tags,
    security,
    summary: "Create a workspace",
    description: "Creates a workspace and its first API key.",
    request: { body: jsonBody(CreateWorkspaceSchema) },
    responses: { 201: jsonResponse(CreatedWorkspaceSchema, "The workspace and its first key"), ...errorResponses(400, 401, 413, 415) },
  }),
  async (c) => {
    const input = c.req.valid("json");
    const db = c.get("db");
    const now = new Date();
    const id = newId("ws");
    await db.insert(workspaces).values({ id, name: input.name, notificationEmail: input.notificationEmail ?? null, createdAt: now, updatedAt: now });
    const key = await issueKey(db, id, now);
    return c.json({ id, name: input.name, notificationEmail: input.notificationEmail ?? null, apiKey: key.apiKey }, 201);
  },
);

adminRoutes.openapi(
  createRoute({
    method: "post",
    path: "/workspaces/{id}/keys",
    tags,
    security,
    summary: "Issue an API key",
    request: { params: WorkspaceIdParam },
    responses: { 201: jsonResponse(CreatedKeySchema, "The new key"), ...errorResponses(401, 404) },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const db = c.get("db");
    await assertWorkspace(db, id);
    return c.json(await issueKey(db, id, new Date()), 201);
  },
);

adminRoutes.openapi(
  createRoute({
    method: "get",
    path: "/workspaces/{id}/keys",
    tags,
    security,
    summary: "List a workspace's API keys",
    description: "Prefixes and usage times only; keys themselves are never stored.",
    request: { params: WorkspaceIdParam },
    responses: { 200: jsonResponse(z.object({ data: z.array(ApiKeySchema) }), "The keys, oldest first"), ...errorResponses(401, 404) },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const db = c.get("db");
    await assertWorkspace(db, id);
    const rows = await db.select().from(apiKeys).where(eq(apiKeys.workspaceId, id)).orderBy(asc(apiKeys.createdAt), asc(apiKeys.id));
    return c.json({ data: rows.map(toApiKey) }, 200);
  },
);

adminRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/workspaces/{id}/keys/{keyId}",
    tags,
    security,
    summary: "Revoke an API key",
    description:
      "The key stops working at once in the isolate that served this call, and everywhere within 30 seconds (keys are cached per isolate). " +
      "Revoking an already revoked key answers 204 again.",
    request: { params: KeyParams },
    responses: { 204: { description: "Revoked" }, ...errorResponses(401, 404) },
  }),
  async (c) => {
    const { id, keyId } = c.req.valid("param");
    const db = c.get("db");
    const key = await db.query.apiKeys.findFirst({ where: and(eq(apiKeys.id, keyId), eq(apiKeys.workspaceId, id)) });
    if (!key) throw new ApiError("not_found", `no key ${JSON.stringify(keyId)} in workspace ${JSON.stringify(id)}`);
    await db
      .update(apiKeys)
      .set({ revokedAt: new Date() })
      .where(and(eq(apiKeys.id, keyId), isNull(apiKeys.revokedAt)));
    // At once in this isolate; other isolates drop their cached copy within KEY_CACHE_TTL_MS.
    forgetKey(keyId);
    return c.body(null, 204);
  },
);
