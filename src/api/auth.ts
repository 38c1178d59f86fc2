// Bearer authentication: workspace API keys (looked up by hash, through an in-isolate cache) and the operator's ADMIN_TOKEN.
// A credential that fails costs as little as possible: a malformed one is refused before it is hashed, an unknown one
// is remembered for a while (key-cache.ts), and each address's failures are limited (PUBLIC_LIMITER, ADMIN_LIMITER).
import { and, eq, isNull } from "drizzle-orm";
import type { Context, MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { HTTPException } from "hono/http-exception";
import type { Db } from "../db/client";
import { apiKeys, workspaces, type WorkspaceRow } from "../db/schema";
import { adminTokenOf } from "../config";
import type { Env } from "../env";
import { clientAddress } from "../lib/rate-limit";
import { hashApiKey, looksLikeApiKey, POLL_TOKEN_PREFIX, timingSafeEqualStrings } from "../lib/secrets";
import type { AppEnv } from "./context";
import { errorBody } from "./errors";
import { adminFailures, tooManyFailures, unknownCredentials } from "./failed-credentials";
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
  if (!looksLikeApiKey(apiKey)) return undefined;
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

/**
 * findActiveKey through the isolate's cache (key-cache.ts): most requests read no D1 at all. A key D1 does not know
 * counts against its address, and an address over the limit is answered 429 before D1 is asked (a thrown response).
 */
async function activeKey(c: Context<AppEnv>, apiKey: string): Promise<ActiveKey | undefined> {
  if (!looksLikeApiKey(apiKey)) return undefined;
  const hash = await hashApiKey(apiKey);
  const cached = cachedKey(hash);
  if (cached) return cached.found;
  const address = clientAddress(c.req);
  const blocked = unknownCredentials.blocked(address);
  if (blocked !== undefined) throw new HTTPException(429, { res: tooManyFailures(c, blocked, "unknown API keys") });
  const found = await findActiveKeyByHash(c.get("db"), hash);
  cacheKey(hash, found);
  if (!found) {
    const wait = await unknownCredentials.failed(c.env, address);
    if (wait !== undefined) throw new HTTPException(429, { res: tooManyFailures(c, wait, "unknown API keys") });
  }
  return found;
}

const bearerWorkspaceKey = bearer(async (token, c) => {
  const db = c.get("db");
  const found = await activeKey(c, token);
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

/**
 * Guards the operator routes with the ADMIN_TOKEN secret, compared in constant time. A token that is unset or too
 * short makes them answer 500 misconfigured (config.ts). An address over ADMIN_LIMITER is refused before its token
 * is compared, so it learns nothing about its guesses until its period ends.
 */
export const requireAdminToken: MiddlewareHandler<AppEnv> = async (c, next) => {
  const expected = adminTokenOf(c.env);
  const address = clientAddress(c.req);
  const blocked = adminFailures.blocked(address);
  if (blocked !== undefined) return tooManyFailures(c, blocked, "a wrong ADMIN_TOKEN");
  const header = c.req.header("authorization");
  const token = header === undefined ? undefined : /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
  if (token !== undefined && (await timingSafeEqualStrings(token, expected))) return next();
  const wait = await adminFailures.failed(c.env, address);
  if (wait !== undefined) return tooManyFailures(c, wait, "a wrong ADMIN_TOKEN");
  const send = 'send "Authorization: Bearer <ADMIN_TOKEN>"';
  const [message, challenge] =
    header === undefined
      ? [`missing Authorization header; ${send}`, 'Bearer realm=""']
      : token === undefined
        ? [`malformed Authorization header; ${send}`, 'Bearer error="invalid_request"']
        : ["invalid ADMIN_TOKEN", 'Bearer error="invalid_token"'];
  return c.json(errorBody("unauthorized", message), 401, { "WWW-Authenticate": challenge });
};
