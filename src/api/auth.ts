// Bearer authentication: workspace API keys (looked up by hash, through an in-isolate cache) and the operator's ADMIN_TOKEN.
import { and, eq, isNull } from "drizzle-orm";
import type { Context, MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import type { Db } from "../db/client";
import { apiKeys, workspaces, type WorkspaceRow } from "../db/schema";
import type { Env } from "../env";
import { hashApiKey, POLL_TOKEN_PREFIX, timingSafeEqualStrings } from "../lib/secrets";
import type { AppEnv } from "./context";
import { errorBody } from "./errors";
import { cachedKey, cacheKey, type ActiveKey } from "./key-cache";
import { pollTokenAuth } from "./poll-auth";

/** last_used_at is refreshed at most this often, so authentication writes D1 at most once a minute per key. */
const LAST_USED_RESOLUTION_MS = 60_000;

function unauthorized(message: string) {
  return (c: Context) => c.json(errorBody("unauthorized", message), 401);
}

function bearer(verifyToken: (token: string, c: Context<AppEnv>) => Promise<boolean>, what: string): MiddlewareHandler<AppEnv> {
  return bearerAuth<AppEnv>({
    verifyToken,
    noAuthenticationHeader: { message: unauthorized(`missing Authorization header; send "Authorization: Bearer <${what}>"`) },
    invalidAuthenticationHeader: { message: unauthorized(`malformed Authorization header; send "Authorization: Bearer <${what}>"`) },
    invalidToken: { message: unauthorized(`invalid or revoked ${what}`) },
  });
}

/** The unrevoked key with this value, and its workspace, from D1 (sign-in uses it as is: always fresh). */
export async function findActiveKey(db: Db, apiKey: string): Promise<ActiveKey | undefined> {
  return findActiveKeyByHash(db, await hashApiKey(apiKey));
}

async function findActiveKeyByHash(db: Db, hash: string): Promise<ActiveKey | undefined> {
  const [found] = await db
    .select({ key: apiKeys, workspace: workspaces })
    .from(apiKeys)
    .innerJoin(workspaces, eq(workspaces.id, apiKeys.workspaceId))
    .where(and(eq(apiKeys.keyHash, hash), isNull(apiKeys.revokedAt)))
    .limit(1);
  return found;
}

/** findActiveKey through the isolate's cache (key-cache.ts): most requests read no D1 at all. */
async function activeKey(db: Db, apiKey: string): Promise<ActiveKey | undefined> {
  const hash = await hashApiKey(apiKey);
  const cached = cachedKey(hash);
  if (cached) return cached.found;
  const found = await findActiveKeyByHash(db, hash);
  cacheKey(hash, found);
  return found;
}

const bearerWorkspaceKey = bearer(async (token, c) => {
  const db = c.get("db");
  const found = await activeKey(db, token);
  if (!found) return false;
  c.set("workspace", found.workspace);
  const now = Date.now();
  if (!found.key.lastUsedAt || now - found.key.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    // The cached copy too, so the next minute's requests do not write it again.
    found.key.lastUsedAt = new Date(now);
    c.executionCtx.waitUntil(
      db
        .update(apiKeys)
        .set({ lastUsedAt: new Date(now) })
        .where(eq(apiKeys.id, found.key.id))
        .run(),
    );
  }
  return true;
}, "api key");

// The settings pages call this API in-process for the workspace whose session they verified. They pass bindings
// made here, which this module alone remembers (by identity, in a WeakMap): an HTTP request only ever comes with
// the runtime's own bindings, so no outside caller can claim a workspace this way. Nothing is written to the
// real bindings object, which may be shared between requests.
const actingFor = new WeakMap<object, WorkspaceRow>();

/** Bindings for an in-process API call on behalf of `workspace`, which the caller has already authenticated. */
export function bindingsActingFor(env: Env, workspace: WorkspaceRow): Env {
  const acting = Object.create(env) as Env;
  actingFor.set(acting, workspace);
  return acting;
}

/** Authenticates a workspace API key (or, for its one route, a poll token) and puts its workspace on the context. */
export const requireWorkspaceKey: MiddlewareHandler<AppEnv> = async (c, next) => {
  const workspace = actingFor.get(c.env);
  if (workspace) {
    c.set("workspace", workspace);
    return next();
  }
  const token = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("authorization") ?? "")?.[1];
  if (token?.startsWith(POLL_TOKEN_PREFIX)) return pollTokenAuth(c, next, token);
  return bearerWorkspaceKey(c, next);
};

/** Guards the operator routes with the ADMIN_TOKEN secret; without the secret they refuse everyone. */
export const requireAdminToken = bearer(async (token, c) => {
  const expected = c.env.ADMIN_TOKEN;
  if (!expected) return false;
  return timingSafeEqualStrings(token, expected);
}, "ADMIN_TOKEN");
