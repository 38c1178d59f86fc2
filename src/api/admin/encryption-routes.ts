// The operator's re-encryption after a change of ENCRYPTION_KEYS: seals again, with the first key, what D1 holds under
// another (and, through each re-sealed row's lane, what the lane holds), a few rows per call.
import { createRoute, z } from "@hono/zod-openapi";
import { and, eq, or, sql, type SQL } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import type { Db } from "../../db/client";
import { webhooks, workspaces } from "../../db/schema";
import type { Env } from "../../env";
import { currentKeyPrefix, reseal, type Sealed } from "../../lib/encryption";
import { newRouter } from "../context";
import { errorResponses } from "../errors";
import { adminTokenAuth, jsonResponse } from "../openapi";
import { propagate } from "../webhooks/lookup";
import { nextVersion, propagateWorkspace } from "../workspace/propagate";

/** Rows sealed again per call: each is one D1 write and one call to its lane, well within one request's limits. */
export const RESEAL_STEP = 20;

const WEBHOOK_SEALED = [webhooks.secret, webhooks.previousSecret, webhooks.signingKey, webhooks.previousSigningKey, webhooks.headers];
const WORKSPACE_SEALED = [
  workspaces.alertSecret,
  workspaces.alertPreviousSecret,
  workspaces.alertSigningKey,
  workspaces.alertPreviousSigningKey,
];

/** Per column, 1 when it holds a value not sealed with the current key (null: no value, 0). */
const staleFlags = (columns: SQLiteColumn[], prefix: string) =>
  columns.map((column) => sql`coalesce(substr(${column}, 1, ${prefix.length}) <> ${prefix}, 0)`);

const anyStale = (columns: SQLiteColumn[], prefix: string): SQL => or(...staleFlags(columns, prefix).map((flag) => sql`${flag} = 1`))!;

/** How many stored values (D1 columns) are still under another key than the current one, or in clear. */
async function remaining(db: Db, prefix: string): Promise<number> {
  const total = (columns: SQLiteColumn[]) => sql<number>`coalesce(sum(${sql.join(staleFlags(columns, prefix), sql` + `)}), 0)`;
  const [hooks] = await db.select({ n: total(WEBHOOK_SEALED) }).from(webhooks);
  const [spaces] = await db.select({ n: total(WORKSPACE_SEALED) }).from(workspaces);
  return Number(hooks?.n ?? 0) + Number(spaces?.n ?? 0);
}

const resealNullable = (env: Env, value: Sealed | null) => (value === null ? null : reseal(env, value));

/**
 * Seals up to `limit` rows again: webhooks first, then workspaces' alert columns. Each write bumps the row's version
 * and only happens if nobody changed the row since it was read (a change in between leaves it for the next call); the
 * lane then gets the row's config, which it stores and which makes it seal its events' headers again too. A lane
 * that cannot be reached gets the row's old values back (same secrets, still under a listed key), so the row stays
 * counted and the next call tries it again; the error answers this one.
 */
async function resealStep(env: Env, db: Db, prefix: string, limit: number): Promise<void> {
  const hooks = await db.select().from(webhooks).where(anyStale(WEBHOOK_SEALED, prefix)).limit(limit);
  for (const row of hooks) {
    const [updated] = await db
      .update(webhooks)
      .set({
        secret: await reseal(env, row.secret),
        previousSecret: await resealNullable(env, row.previousSecret),
        signingKey: await reseal(env, row.signingKey),
        previousSigningKey: await resealNullable(env, row.previousSigningKey),
        headers: await reseal(env, row.headers),
        updatedAt: nextVersion(row),
      })
      .where(and(eq(webhooks.id, row.id), eq(webhooks.updatedAt, row.updatedAt)))
      .returning();
    if (!updated) continue;
    await propagate(env, updated).catch(async (err) => {
      const { secret, previousSecret, signingKey, previousSigningKey, headers } = row;
      await db
        .update(webhooks)
        .set({ secret, previousSecret, signingKey, previousSigningKey, headers })
        .where(and(eq(webhooks.id, row.id), eq(webhooks.updatedAt, updated.updatedAt)));
      throw err;
    });
  }
  if (hooks.length >= limit) return;
  const spaces = await db
    .select()
    .from(workspaces)
    .where(anyStale(WORKSPACE_SEALED, prefix))
    .limit(limit - hooks.length);
  for (const row of spaces) {
    const [updated] = await db
      .update(workspaces)
      .set({
        alertSecret: await resealNullable(env, row.alertSecret),
        alertPreviousSecret: await resealNullable(env, row.alertPreviousSecret),
        alertSigningKey: await resealNullable(env, row.alertSigningKey),
        alertPreviousSigningKey: await resealNullable(env, row.alertPreviousSigningKey),
        updatedAt: nextVersion(row),
      })
      .where(and(eq(workspaces.id, row.id), eq(workspaces.updatedAt, row.updatedAt)))
      .returning();
    if (!updated) continue;
    await propagateWorkspace(env, updated).catch(async (err) => {
      const { alertSecret, alertPreviousSecret, alertSigningKey, alertPreviousSigningKey } = row;
      await db
        .update(workspaces)
        .set({ alertSecret, alertPreviousSecret, alertSigningKey, alertPreviousSigningKey })
        .where(and(eq(workspaces.id, row.id), eq(workspaces.updatedAt, updated.updatedAt)));
      throw err;
    });
  }
}

const ReencryptSchema = z
  .object({
    remaining: z.number().int().min(0).openapi({
      description: "Stored values still sealed with another key than the first of ENCRYPTION_KEYS (or in clear); 0: the older keys can go.",
      example: 0,
    }),
  })
  .openapi("Reencryption");

export const encryptionRoutes = newRouter();

encryptionRoutes.openapi(
  createRoute({
    method: "post",
    path: "/encryption/reencrypt",
    operationId: "reencryptSecrets",
    tags: ["Admin"],
    security: adminTokenAuth,
    summary: "Seal stored secrets again with the current key",
    description:
      `After a new key was put first in ENCRYPTION_KEYS: seals up to ${RESEAL_STEP} more stored rows (webhook secrets, private keys, custom ` +
      "headers, alert secrets and keys) with it, and their lanes' copies and the headers kept with their events, and answers how many " +
      "values remain under other keys. Call it until `remaining` is 0, then remove the older keys (docs/deploy.md).",
    responses: { 200: jsonResponse(ReencryptSchema, "What is left to seal again"), ...errorResponses(401) },
  }),
  async (c) => {
    const db = c.get("db");
    const prefix = currentKeyPrefix(c.env);
    await resealStep(c.env, db, prefix, RESEAL_STEP);
    return c.json({ remaining: await remaining(db, prefix) }, 200);
  },
);
