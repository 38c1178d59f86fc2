// Webhook queries shared by the API, the queue consumer and the lanes.
import { and, eq, isNull } from "drizzle-orm";
import type { Db } from "./client";
import { webhooks, workspaces, type DisabledReason, type WebhookRow } from "./schema";

/** Turns a webhook off for a reason; returns the updated row, or undefined if it no longer exists. */
export async function disableWebhook(db: Db, id: string, reason: DisabledReason, at: Date): Promise<WebhookRow | undefined> {
  const [row] = await db
    .update(webhooks)
    .set({ enabled: false, disabledReason: reason, disabledAt: at, updatedAt: at })
    .where(eq(webhooks.id, id))
    .returning();
  return row;
}

export async function enableWebhook(db: Db, workspaceId: string, id: string, at: Date): Promise<WebhookRow | undefined> {
  const [row] = await db
    .update(webhooks)
    .set({ enabled: true, disabledReason: null, disabledAt: null, updatedAt: at })
    .where(and(eq(webhooks.id, id), eq(webhooks.workspaceId, workspaceId)))
    .returning();
  return row;
}

/**
 * Records that the endpoint at `url` answered its challenge at `at`; only while the webhook still has that URL and
 * no verification. Not a config change (updatedAt stays): the lane, which found it, already holds it.
 */
export async function markVerified(db: Db, id: string, url: string, at: Date): Promise<void> {
  await db
    .update(webhooks)
    .set({ verifiedAt: at })
    .where(and(eq(webhooks.id, id), eq(webhooks.url, url), isNull(webhooks.verifiedAt)));
}

/** markVerified for a workspace's alertUrl (the alerts lane's endpoint): only while it is still `url`, unverified. */
export async function markAlertUrlVerified(db: Db, workspaceId: string, url: string, at: Date): Promise<void> {
  await db
    .update(workspaces)
    .set({ alertUrlVerifiedAt: at })
    .where(and(eq(workspaces.id, workspaceId), eq(workspaces.alertUrl, url), isNull(workspaces.alertUrlVerifiedAt)));
}
