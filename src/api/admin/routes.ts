// Operator routes behind ADMIN_TOKEN: create workspaces, issue or revoke their API keys, mint portal links.
import { createRoute, z } from "@hono/zod-openapi";
import { and, asc, eq, isNull } from "drizzle-orm";
import type { Db } from "../../db/client";
import { apiKeys, workspaces } from "../../db/schema";
import { newId } from "../../lib/ids";
import { newApiKey } from "../../lib/secrets";
import { newRouter } from "../context";
import { ApiError, errorResponses } from "../errors";
import { adminTokenAuth, jsonBody, jsonResponse, optionalJsonBody } from "../openapi";
import { ApiKeySchema, DataLocation, NotificationEmail, toApiKey } from "../workspace/schemas";
import { forgetKey } from "../key-cache";
import { readConfig } from "../../config";
import { mintPortalLink } from "../../db/portal-links";
import { addressChange, sendConfirmation } from "../../notification-email/confirmation";

const tags = ["Admin"];
const security = adminTokenAuth;

const CreateWorkspaceSchema = z
  .strictObject({
    name: z.string().trim().min(1, { error: "must not be empty" }).max(200),
    notificationEmail: NotificationEmail.optional(),
    dataLocation: DataLocation.optional(),
  })
  .openapi("CreateWorkspace");

const CreatedWorkspaceSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    notificationEmail: z.string().nullable(),
    notificationEmailStatus: z
      .enum(["none", "pending"])
      .openapi({ description: "pending while the address has not confirmed (it was sent a confirmation message); none without one." }),
    dataLocation: DataLocation,
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

export const WorkspaceIdParam = z.object({ id: z.string().openapi({ param: { name: "id", in: "path" } }) });
const KeyParams = WorkspaceIdParam.extend({ keyId: z.string().openapi({ param: { name: "keyId", in: "path" } }) });

async function issueKey(db: Db, workspaceId: string, now: Date) {
  const key = await newApiKey();
  const id = newId("key");
  await db.insert(apiKeys).values({ id, workspaceId, keyHash: key.hash, prefix: key.prefix, createdAt: now });
  return { id, apiKey: key.apiKey, prefix: key.prefix };
}

export function workspaceNotFound(id: string): ApiError {
  return new ApiError("not_found", `no workspace ${JSON.stringify(id)}`);
}

async function assertWorkspace(db: Db, id: string) {
  const found = await db.query.workspaces.findFirst({ where: eq(workspaces.id, id), columns: { id: true } });
  if (!found) throw workspaceNotFound(id);
}

export const adminRoutes = newRouter();

adminRoutes.openapi(
  createRoute({
    method: "post",
    path: "/workspaces",
    operationId: "createWorkspace",
    tags,
    security,
    summary: "Create a workspace",
    description:
      "Creates a workspace and its first API key. A notificationEmail is sent one confirmation message and receives nothing else until it is confirmed. " +
      "`dataLocation` is fixed here for good.",
    request: { body: jsonBody(CreateWorkspaceSchema) },
    responses: { 201: jsonResponse(CreatedWorkspaceSchema, "The workspace and its first key"), ...errorResponses(400, 401, 413, 415) },
  }),
  async (c) => {
    const input = c.req.valid("json");
    const db = c.get("db");
    const now = new Date();
    const id = newId("ws");
    const address = input.notificationEmail ?? null;
    const dataLocation = input.dataLocation ?? null;
    // A new workspace's address starts unconfirmed: it is sent one confirmation message and nothing else until then.
    const { columns, confirmation } = await addressChange(address, undefined, now.getTime());
    await db.insert(workspaces).values({ id, name: input.name, ...columns, dataLocation, createdAt: now, updatedAt: now });
    const key = await issueKey(db, id, now);
    if (address && confirmation) await sendConfirmation(c.env, c.req.url, address, confirmation);
    const notificationEmailStatus = address ? ("pending" as const) : ("none" as const);
    return c.json({ id, name: input.name, notificationEmail: address, notificationEmailStatus, dataLocation, apiKey: key.apiKey }, 201);
  },
);

adminRoutes.openapi(
  createRoute({
    method: "post",
    path: "/workspaces/{id}/keys",
    operationId: "createApiKey",
    tags,
    security,
    summary: "Issue an API key",
    description: "A new key for the workspace (`whk_…`), shown once in this answer; only its prefix is stored besides its hash.",
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
    operationId: "listApiKeys",
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
    operationId: "revokeApiKey",
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

const PortalLinkSchema = z
  .strictObject({
    ttlSeconds: z
      .number({ error: "must be a whole number of seconds" })
      .int({ error: "must be a whole number of seconds" })
      .min(60, { error: "must be at least 60 seconds" })
      .max(3600, { error: "must be at most 3600 seconds" })
      .optional()
      .openapi({ description: "How long the link may be used, 60 to 3600 seconds (default 600).", example: 600 }),
  })
  .openapi("CreatePortalLink");

const CreatedPortalLinkSchema = z
  .object({
    url: z.string().openapi({
      description:
        "Opens the workspace's settings pages, once, with no API key. The first request that carries it spends it, whatever it is answered " +
        "(a 429 of the sign-in rate limit included), and answers a page whose Continue button signs in by POST with a second one-time token " +
        "that is never in a URL: a request log holding this URL holds a spent token. After its first use or its expiry it leads to the sign-in page.",
      example: "https://webhooks.example.com/settings/portal/3vQ9xk2L…",
    }),
    expiresAt: z.iso.datetime(),
  })
  .openapi("CreatedPortalLink");

const DEFAULT_PORTAL_LINK_SECONDS = 600;

adminRoutes.openapi(
  createRoute({
    method: "post",
    path: "/workspaces/{id}/portal-links",
    operationId: "createPortalLink",
    tags,
    security,
    summary: "Mint a portal link",
    description:
      "A one-time, short-lived link that signs its opener into that workspace's settings pages without an API key, for a platform that " +
      "gives its customers these pages (in an iframe too, with PORTAL_FRAME_ANCESTORS). The session it opens ends on sign-out or after 12 hours, like any other.",
    request: { params: WorkspaceIdParam, body: optionalJsonBody(PortalLinkSchema) },
    responses: { 201: jsonResponse(CreatedPortalLinkSchema, "The link"), ...errorResponses(400, 401, 404, 413, 415) },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const db = c.get("db");
    await assertWorkspace(db, id);
    const ttlSeconds = c.req.valid("json").ttlSeconds ?? DEFAULT_PORTAL_LINK_SECONDS;
    const { token, expiresAt } = await mintPortalLink(db, id, Date.now(), ttlSeconds * 1000);
    const base = readConfig(c.env).publicUrl ?? new URL(c.req.url).origin;
    return c.json({ url: `${base}/settings/portal/${token}`, expiresAt: expiresAt.toISOString() }, 201);
  },
);
