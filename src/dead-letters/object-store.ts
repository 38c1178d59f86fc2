// The dead letters of a workspace with a data location, kept in its quota object's SQLite storage (in the
// workspace's jurisdiction, never in D1): the same queries as store.ts, over a Durable Object's SQL.
//
// Until the first tagged release this schema is edited in place (README "Storage schemas").
import type { DeadLetterRow } from "../db/schema";
import type { DeadLetterPosition, NewDeadLetter } from "./store";

export const DEAD_LETTER_SCHEMA = `
  CREATE TABLE IF NOT EXISTS dead_letters (
    event_id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    body TEXT,
    reason TEXT NOT NULL,
    accepted_at INTEGER,
    dead_at INTEGER NOT NULL,
    replayed_at INTEGER
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS dead_letters_page ON dead_letters (dead_at, event_id);
`;

type Row = {
  event_id: string;
  type: string;
  body: string | null;
  reason: string;
  accepted_at: number | null;
  dead_at: number;
  replayed_at: number | null;
};

const date = (ms: number | null) => (ms === null ? null : new Date(ms));

function toRow(workspaceId: string, row: Row): DeadLetterRow {
  return {
    workspaceId,
    eventId: row.event_id,
    type: row.type,
    body: row.body,
    reason: row.reason,
    acceptedAt: date(row.accepted_at),
    deadAt: new Date(row.dead_at),
    replayedAt: date(row.replayed_at),
  };
}

/** Records a dead letter as store.ts recordDeadLetter does (dying again clears the replay mark), and expires old ones. */
export function keepDeadLetter(sql: SqlStorage, row: NewDeadLetter, cutoff: number): void {
  sql.exec(
    `INSERT INTO dead_letters (event_id, type, body, reason, accepted_at, dead_at, replayed_at) VALUES (?, ?, ?, ?, ?, ?, NULL)
     ON CONFLICT (event_id) DO UPDATE SET type = excluded.type, body = excluded.body, reason = excluded.reason,
       accepted_at = excluded.accepted_at, dead_at = excluded.dead_at, replayed_at = NULL`,
    row.eventId,
    row.type,
    row.body,
    row.reason,
    row.acceptedAt?.getTime() ?? null,
    row.deadAt.getTime(),
  );
  sql.exec("DELETE FROM dead_letters WHERE dead_at < ?", cutoff);
}

/** Newest first, `limit` after `before`, none older than `notBefore`; with the count never replayed. */
export function deadLetterPage(
  sql: SqlStorage,
  workspaceId: string,
  { limit, before, notBefore }: { limit: number; before: DeadLetterPosition | undefined; notBefore: number },
): { rows: DeadLetterRow[]; more: boolean; unreplayed: number } {
  const rows = (
    before
      ? sql.exec<Row>(
          `SELECT * FROM dead_letters WHERE dead_at >= ? AND (dead_at < ? OR (dead_at = ? AND event_id < ?))
           ORDER BY dead_at DESC, event_id DESC LIMIT ?`,
          notBefore,
          before.deadAt,
          before.deadAt,
          before.eventId,
          limit + 1,
        )
      : sql.exec<Row>("SELECT * FROM dead_letters WHERE dead_at >= ? ORDER BY dead_at DESC, event_id DESC LIMIT ?", notBefore, limit + 1)
  ).toArray();
  const unreplayed = sql
    .exec<{ n: number }>("SELECT count(*) AS n FROM dead_letters WHERE replayed_at IS NULL AND dead_at >= ?", notBefore)
    .one().n;
  return { rows: rows.slice(0, limit).map((row) => toRow(workspaceId, row)), more: rows.length > limit, unreplayed };
}

export function findKeptDeadLetter(sql: SqlStorage, workspaceId: string, eventId: string): DeadLetterRow | undefined {
  const row = sql.exec<Row>("SELECT * FROM dead_letters WHERE event_id = ?", eventId).toArray()[0];
  return row && toRow(workspaceId, row);
}

export function markKeptReplayed(sql: SqlStorage, workspaceId: string, eventId: string, at: number): DeadLetterRow | undefined {
  const row = sql.exec<Row>("UPDATE dead_letters SET replayed_at = ? WHERE event_id = ? RETURNING *", at, eventId).toArray()[0];
  return row && toRow(workspaceId, row);
}
