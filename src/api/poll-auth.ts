// A polling webhook's own token (`whpoll_…`): it authenticates GET /v1/webhooks/{id}/poll of that webhook and
// is refused everywhere else, so a consumer holding it can read one stream and change nothing. A token that is
// malformed is refused before it is hashed, an unknown one is remembered (key-cache.ts) and counted against its
// address (PUBLIC_LIMITER), and a valid one's D1 read also brings the webhook, which the poll route then uses.
import { eq } from "drizzle-orm";
import type { Context, Next } from "hono";
import { webhooks, workspaces } from "../db/schema";
import { clientAddress } from "../lib/rate-limit";
import { hashApiKey, looksLikePollToken } from "../lib/secrets";
import type { AppEnv } from "./context";
import { errorBody } from "./errors";
import { tooManyFailures, unknownCredentials } from "./failed-credentials";
import { recentMiss, rememberMiss } from "./key-cache";

const POLL_PATH = /^\/v1\/webhooks\/([^/]+)\/poll$/;

const unauthorized = (c: Context<AppEnv>) => c.json(errorBody("unauthorized", "invalid or rotated poll token"), 401);

/**
 * Authenticates `token`, a poll token, for this request: only its own webhook's poll route. Valid tokens are read
 * from D1 each time (never cached), so a rotation stops the old token at once everywhere (docs/polling.md).
 */
export async function pollTokenAuth(c: Context<AppEnv>, next: Next, token: string) {
  const match = c.req.method === "GET" ? POLL_PATH.exec(c.req.path) : null;
  if (!match) {
    return c.json(
      errorBody("forbidden", "a poll token reads its webhook's stream (GET /v1/webhooks/{id}/poll) and nothing else; use an API key"),
      403,
    );
  }
  if (!looksLikePollToken(token)) return unauthorized(c);
  const hash = await hashApiKey(token);
  if (recentMiss(hash)) return unauthorized(c);
  const address = clientAddress(c.req);
  const blocked = unknownCredentials.blocked(address);
  if (blocked !== undefined) return tooManyFailures(c, blocked, "unknown poll tokens");
  const [found] = await c
    .get("db")
    .select({ webhook: webhooks, workspace: workspaces })
    .from(webhooks)
    .innerJoin(workspaces, eq(workspaces.id, webhooks.workspaceId))
    .where(eq(webhooks.pollTokenHash, hash))
    .limit(1);
  if (!found) {
    rememberMiss(hash);
    const wait = await unknownCredentials.failed(c.env, address);
    return wait === undefined ? unauthorized(c) : tooManyFailures(c, wait, "unknown poll tokens");
  }
  // The path as routed (hono has decoded what it could); a webhook id never needs escaping, so no decoding here.
  if (found.webhook.id !== match[1]) {
    return c.json(errorBody("forbidden", `this poll token reads webhook ${found.webhook.id} only`), 403);
  }
  c.set("workspace", found.workspace);
  c.set("pollWebhook", found.webhook);
  return next();
}
