// The workspace's limits as the webhook routes apply them (src/lib/limits.ts holds the limits themselves): how many
// webhooks it may have, and how large one webhook's configuration may be. A refusal changes nothing.
import { and, count, eq, lte, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { webhooks, type WebhookRow } from "../../db/schema";
import { configProblem, limitsOf, type LimitOverrides, type SizedConfig } from "../../lib/limits";
import { ApiError } from "../errors";

/** How many webhooks (push and poll) the workspace has now. */
export async function webhookCount(db: Db, workspaceId: string): Promise<number> {
  const [row] = await db.select({ n: count() }).from(webhooks).where(eq(webhooks.workspaceId, workspaceId));
  return row?.n ?? 0;
}

export function webhookLimitReached(limit: number): ApiError {
  return new ApiError(
    "limit_reached",
    `this workspace has reached its limit of ${limit} webhooks (limit "webhooks"); delete one, or ask the operator to raise the limit`,
    undefined,
    { param: "webhooks" },
  );
}

/** Refuses a new webhook when the workspace already has as many as its limit allows (checked before writing). */
export async function assertRoomForWebhook(db: Db, workspaceId: string, overrides: LimitOverrides | null | undefined): Promise<void> {
  const { webhooks: limit } = limitsOf(overrides);
  if ((await webhookCount(db, workspaceId)) >= limit) throw webhookLimitReached(limit);
}

/**
 * Creates at once can all pass the check above. D1 writes one at a time and SQLite numbers rows (rowid) in the order
 * they were inserted, so each new row counts the workspace's rows inserted up to and including itself: the ones
 * within the limit stay, and every later one takes itself back out and is refused. Exactly the limit remains.
 */
export async function undoIfOverLimit(db: Db, row: WebhookRow, overrides: LimitOverrides | null | undefined): Promise<void> {
  const { webhooks: limit } = limitsOf(overrides);
  const mine = db.select({ rowid: sql<number>`rowid` }).from(webhooks).where(eq(webhooks.id, row.id));
  const [rank] = await db
    .select({ n: count() })
    .from(webhooks)
    .where(and(eq(webhooks.workspaceId, row.workspaceId), lte(sql`rowid`, sql`(${mine})`)));
  if ((rank?.n ?? 0) <= limit) return;
  await db.delete(webhooks).where(and(eq(webhooks.id, row.id), eq(webhooks.workspaceId, row.workspaceId)));
  throw webhookLimitReached(limit);
}

/** Refuses a configuration over the workspace's size limits: 400 limit_reached (whole) or invalid_filter (one value). */
export function assertConfigFits(config: SizedConfig, overrides: LimitOverrides | null | undefined): void {
  const problem = configProblem(config, limitsOf(overrides));
  if (!problem) return;
  if (problem.limit === "filterValueLength") throw new ApiError("invalid_filter", problem.message, undefined, { param: problem.param });
  throw new ApiError("limit_reached", problem.message, 400, { param: problem.param });
}
