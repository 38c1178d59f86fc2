// The dead letters' D1 queries: record what the queue gave up on, list a workspace's, mark a replay, expire old ones.
import { and, desc, eq, gte, isNull, lt, or, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { deadLetters, type DeadLetterRow } from "../db/schema";

export type NewDeadLetter = Omit<DeadLetterRow, "replayedAt">;

/** Records a dead letter; the same event dying again (after a replay) updates its row and clears the replay mark. */
export async function recordDeadLetter(db: Db, row: NewDeadLetter): Promise<void> {
  await db
    .insert(deadLetters)
    .values({ ...row, replayedAt: null })
    .onConflictDoUpdate({
      target: [deadLetters.workspaceId, deadLetters.eventId],
      set: { type: row.type, body: row.body, reason: row.reason, acceptedAt: row.acceptedAt, deadAt: row.deadAt, replayedAt: null },
    });
}

export interface DeadLetterPosition {
  deadAt: number;
  eventId: string;
}

/** A workspace's dead letters, newest first, `limit` of them after `before`; `more` says whether another page exists. */
export async function listDeadLetters(
  db: Db,
  workspaceId: string,
  { limit, before, notBefore }: { limit: number; before: DeadLetterPosition | undefined; notBefore: number },
): Promise<{ rows: DeadLetterRow[]; more: boolean }> {
  const rows = await db
    .select()
    .from(deadLetters)
    .where(
      and(
        eq(deadLetters.workspaceId, workspaceId),
        gte(deadLetters.deadAt, new Date(notBefore)),
        before
          ? or(
              lt(deadLetters.deadAt, new Date(before.deadAt)),
              and(eq(deadLetters.deadAt, new Date(before.deadAt)), lt(deadLetters.eventId, before.eventId)),
            )
          : undefined,
      ),
    )
    .orderBy(desc(deadLetters.deadAt), desc(deadLetters.eventId))
    .limit(limit + 1);
  return { rows: rows.slice(0, limit), more: rows.length > limit };
}

/** How many of a workspace's dead letters have not been replayed. */
export async function countUnreplayed(db: Db, workspaceId: string, notBefore: number): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)` })
    .from(deadLetters)
    .where(and(eq(deadLetters.workspaceId, workspaceId), isNull(deadLetters.replayedAt), gte(deadLetters.deadAt, new Date(notBefore))));
  return row?.n ?? 0;
}

export async function findDeadLetter(db: Db, workspaceId: string, eventId: string): Promise<DeadLetterRow | undefined> {
  const [row] = await db
    .select()
    .from(deadLetters)
    .where(and(eq(deadLetters.workspaceId, workspaceId), eq(deadLetters.eventId, eventId)))
    .limit(1);
  return row;
}

export async function markReplayed(db: Db, workspaceId: string, eventId: string, at: Date): Promise<DeadLetterRow | undefined> {
  const [row] = await db
    .update(deadLetters)
    .set({ replayedAt: at })
    .where(and(eq(deadLetters.workspaceId, workspaceId), eq(deadLetters.eventId, eventId)))
    .returning();
  return row;
}

/** Deletes dead letters that died before `cutoff` (unix ms): they are kept as long as the lanes keep finished events. */
export async function purgeDeadLetters(db: Db, cutoff: number): Promise<void> {
  await db.delete(deadLetters).where(lt(deadLetters.deadAt, new Date(cutoff)));
}
