// A polling webhook's own token (`whpoll_…`): it authenticates GET /v1/webhooks/{id}/poll of that webhook and
// is refused everywhere else, so a consumer holding it can read one stream and change nothing.
import { eq } from "drizzle-orm";
import type { Context, Next } from "hono";
import { webhooks, workspaces } from "../db/schema";
import { hashApiKey } from "../lib/secrets";
import type { AppEnv } from "./context";
import { errorBody } from "./errors";

const POLL_PATH = /^\/v1\/webhooks\/([^/]+)\/poll$/;

/** Authenticates `token`, a poll token, for this request: only its own webhook's poll route. */
export async function pollTokenAuth(c: Context<AppEnv>, next: Next, token: string) {
  const match = c.req.method === "GET" ? POLL_PATH.exec(c.req.path) : null;
  if (!match) {
    return c.json(
      errorBody("forbidden", "a poll token reads its webhook's stream (GET /v1/webhooks/{id}/poll) and nothing else; use an API key"),
      403,
    );
  }
  const [found] = await c
    .get("db")
    .select({ webhookId: webhooks.id, workspace: workspaces })
    .from(webhooks)
    .innerJoin(workspaces, eq(workspaces.id, webhooks.workspaceId))
    .where(eq(webhooks.pollTokenHash, await hashApiKey(token)))
    .limit(1);
  if (!found) return c.json(errorBody("unauthorized", "invalid or rotated poll token"), 401);
  if (found.webhookId !== decodeURIComponent(match[1]!)) {
    return c.json(errorBody("forbidden", `this poll token reads webhook ${found.webhookId} only`), 403);
  }
  c.set("workspace", found.workspace);
  return next();
}
