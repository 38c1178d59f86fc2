// Finding a caller's webhook and telling its lane about changes: shared by the settings and delivery routes.
import { and, eq } from "drizzle-orm";
import type { Db } from "../../db/client";
import { webhooks, type WebhookRow } from "../../db/schema";
import { laneConfigOf } from "../../delivery/lane-config";
import { laneOf } from "../../bindings";
import { invalidateSubscriptions } from "../../db/subscriptions";
import type { Env } from "../../env";
import { ApiError } from "../errors";

export function webhookNotFound(id: string): ApiError {
  return new ApiError("not_found", `no webhook ${JSON.stringify(id)} in this workspace`);
}

/** The webhook, if it belongs to the workspace; another workspace's webhook is as unknown as a missing one. */
export async function findWebhook(db: Db, workspaceId: string, id: string): Promise<WebhookRow> {
  const row = await db.query.webhooks.findFirst({ where: and(eq(webhooks.id, id), eq(webhooks.workspaceId, workspaceId)) });
  if (!row) throw webhookNotFound(id);
  return row;
}

/** The webhook's lane, in its workspace's jurisdiction. */
export function webhookLane(env: Env, row: WebhookRow) {
  return laneOf(env.ENDPOINT_LANE, row.id, row.dataLocation ?? null);
}

/** Tells the webhook's lane (and this isolate's consumer cache) about a change, so it applies at once. */
export async function propagate(env: Env, row: WebhookRow): Promise<void> {
  invalidateSubscriptions(row.workspaceId);
  await webhookLane(env, row).configure(laneConfigOf(row));
}
