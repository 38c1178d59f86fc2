// Which webhooks of a workspace receive which events: read from D1 once per queue batch, cached briefly per isolate.
import { inArray } from "drizzle-orm";
import { openDb } from "./client";
import { webhooks, type WebhookRow } from "./schema";
import type { Env } from "../env";

/** A webhook change made through another isolate reaches this one's cache within this time. */
export const SUBSCRIPTION_CACHE_TTL_MS = 5_000;

const cache = new Map<string, { rows: WebhookRow[]; expires: number }>();

/** Called by the API on every webhook change, so this isolate never serves its own stale view. */
export function invalidateSubscriptions(workspaceId: string): void {
  cache.delete(workspaceId);
}

/** All webhooks (enabled or not) of the given workspaces; lanes of disabled ones record events as skipped. */
export async function webhooksOf(env: Env, workspaceIds: string[], now = Date.now()): Promise<Map<string, WebhookRow[]>> {
  const result = new Map<string, WebhookRow[]>();
  const missing: string[] = [];
  for (const id of workspaceIds) {
    const hit = cache.get(id);
    if (hit && hit.expires > now) result.set(id, hit.rows);
    else missing.push(id);
  }
  if (missing.length > 0) {
    const rows = await openDb(env.DB).select().from(webhooks).where(inArray(webhooks.workspaceId, missing));
    for (const id of missing) result.set(id, []);
    for (const row of rows) result.get(row.workspaceId)!.push(row);
    for (const id of missing) cache.set(id, { rows: result.get(id)!, expires: now + SUBSCRIPTION_CACHE_TTL_MS });
  }
  return result;
}
