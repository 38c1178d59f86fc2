// A polling webhook's stream (docs/polling.md): pure functions over the lane's SQL storage that read it in pages
// with a cursor. A polling lane never attempts its events: they stay `pending` in line order (line_key) until a
// read with a later cursor acknowledges them (`delivered`), so retention, recover and the log work as for push.
//
// Until the first tagged release this schema is edited in place (README "Storage schemas").
import type { EventRow, NewEvent } from "./schema";
import { HOLDS_ID } from "./store-sql";

export const POLL_SCHEMA = `
  -- served_key: the furthest place in line any page reached (a cursor beyond it was never given out);
  -- acked_key/acked_at: the last acknowledged place in line, and when.
  CREATE TABLE IF NOT EXISTS poll_position (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    served_key TEXT NOT NULL DEFAULT '',
    acked_key TEXT NOT NULL DEFAULT '',
    acked_at INTEGER
  );
  -- The stream: what is pending, in line order (only a polling lane has it; a push lane reads its head otherwise).
  CREATE INDEX IF NOT EXISTS events_stream ON events (line_key) WHERE status = 'pending';
`;

/** A polling lane's stream storage, step by step (src/lib/storage-steps.ts), made the first time a lane is a stream. */
export const STREAM_STORAGE_STEPS = [POLL_SCHEMA] as const;

export const POLL_LIMIT_DEFAULT = 100;
export const POLL_LIMIT_MAX = 250;
export const POLL_WAIT_MAX_SECONDS = 30;

type Position = { served_key: string; acked_key: string; acked_at: number | null };

function position(sql: SqlStorage): Position {
  return (
    sql.exec<Position>("SELECT served_key, acked_key, acked_at FROM poll_position").toArray()[0] ?? {
      served_key: "",
      acked_key: "",
      acked_at: null,
    }
  );
}

/** A cursor is opaque to consumers: a place in line. */
export function encodePollCursor(lineKey: string): string {
  return new TextEncoder().encode(lineKey).toBase64({ alphabet: "base64url", omitPadding: true });
}

export function decodePollCursor(cursor: string): string | undefined {
  try {
    const key = new TextDecoder().decode(Uint8Array.fromBase64(cursor, { alphabet: "base64url" }));
    return /^[0-9A-Z]{26}(\.\d{8})*$/.test(key) ? key : undefined;
  } catch {
    return undefined;
  }
}

export interface PollRequest {
  /** The place in line of the previous page's last event (decoded), or undefined to start at the oldest unacknowledged one. */
  after: string | undefined;
  limit: number;
  now: number;
}

export interface StreamPage {
  events: Pick<EventRow, "id" | "body" | "line_key">[];
  /** Place in line to pass back as the cursor; undefined when nothing was ever read. */
  next: string | undefined;
  /** No event is readable past this page right now. */
  done: boolean;
}

/**
 * Acknowledges every pending event up to `after` (those become `delivered`) and reads the next page: pending
 * events in line order that are due (past the ordering window, like a push lane's head), stopping at the
 * first that is not, so a page never skips one. Undefined when `after` is past anything ever served: it
 * would acknowledge events the consumer never saw.
 */
export function readStream(sql: SqlStorage, { after, limit, now }: PollRequest): StreamPage | undefined {
  const pos = position(sql);
  if (after !== undefined) {
    if (after > pos.served_key) return undefined;
    sql.exec("UPDATE events SET status = 'delivered', finished_at = ? WHERE status = 'pending' AND line_key <= ?", now, after);
    if (after > pos.acked_key) {
      sql.exec(
        "INSERT INTO poll_position (singleton, acked_key, acked_at) VALUES (1, ?, ?) ON CONFLICT (singleton) DO UPDATE SET acked_key = excluded.acked_key, acked_at = excluded.acked_at",
        after,
        now,
      );
    }
  }
  // Pending events are few in line order past the cursor (line_key is indexed only for put-back ones; order_key
  // is the table's order), so the read sorts what is pending after the cursor.
  const rows = sql
    .exec<Pick<EventRow, "id" | "body" | "line_key" | "next_attempt_at">>(
      "SELECT id, body, line_key, next_attempt_at FROM events WHERE status = 'pending' AND line_key > ? ORDER BY line_key LIMIT ?",
      after ?? "",
      limit + 1,
    )
    .toArray();
  const due = rows.findIndex((row) => row.next_attempt_at > now);
  const readable = due === -1 ? rows : rows.slice(0, due);
  const events = readable.slice(0, limit).map(({ id, body, line_key }) => ({ id, body, line_key }));
  const last = events.at(-1)?.line_key;
  if (last !== undefined && last > pos.served_key) {
    sql.exec(
      "INSERT INTO poll_position (singleton, served_key) VALUES (1, ?) ON CONFLICT (singleton) DO UPDATE SET served_key = excluded.served_key",
      last,
    );
  }
  return { events, next: last ?? after, done: readable.length <= limit };
}

/** When the first pending event past `after` that is not readable yet becomes so; null when none waits. */
export function nextReadableAt(sql: SqlStorage, after: string | undefined, now: number): number | null {
  return sql
    .exec<{ at: number | null }>(
      "SELECT MIN(next_attempt_at) AS at FROM events WHERE status = 'pending' AND line_key > ? AND next_attempt_at > ?",
      after ?? "",
      now,
    )
    .one().at;
}

/**
 * Of events about to be stored, the ids that would land at or before a place in line already served (an event
 * the queue handed over after its ordering window): the next acknowledgement would pass them unseen, so the lane
 * puts them back in line once stored (behind everything, like recover). Ids the lane already holds are left alone.
 */
export function lateForStream(sql: SqlStorage, events: readonly Pick<NewEvent, "id" | "order_key" | "status">[]): string[] {
  const served = position(sql).served_key;
  const late = events.filter((e) => e.status === "pending" && e.order_key <= served).map((e) => e.id);
  if (late.length === 0) return [];
  return late.filter((id) => sql.exec<{ held: number }>(HOLDS_ID, id).one().held === 0);
}

export interface PollPosition {
  /** When the consumer last acknowledged events; null if never. */
  acknowledgedAt: number | null;
  /** The last event acknowledged (its id), if it is still held. */
  acknowledgedEventId: string | null;
  /** Events in the stream not acknowledged yet. */
  waiting: number;
}

/** Where a polling webhook's consumer is: what the pages show instead of attempts. */
export function pollPosition(sql: SqlStorage): PollPosition {
  const pos = position(sql);
  const acked =
    pos.acked_key === "" ? undefined : sql.exec<{ id: string }>("SELECT id FROM events WHERE line_key = ?", pos.acked_key).toArray()[0];
  const waiting = sql.exec<{ n: number }>("SELECT count(*) AS n FROM events WHERE status = 'pending'").one().n;
  return { acknowledgedAt: pos.acked_at, acknowledgedEventId: acked?.id ?? null, waiting };
}

export interface PollAnswer {
  /** The bodies a push endpoint would get (JSON text each), in line order. */
  bodies: string[];
  nextCursor: string | null;
  done: boolean;
}

/**
 * Reads a page (readStream); when it is empty and `waitMs` allows, waits for the next stored event (or for a
 * stored one to pass its ordering window) and reads again: a long poll. Undefined for a cursor never given out.
 */
export async function longPoll(
  sql: SqlStorage,
  waiters: PollWaiters,
  request: PollRequest & { waitMs: number },
): Promise<PollAnswer | undefined> {
  const deadline = request.now + request.waitMs;
  let page = readStream(sql, request);
  while (page && page.events.length === 0 && Date.now() < deadline) {
    const readableAt = nextReadableAt(sql, request.after, Date.now());
    await waiters.wait(Math.min(deadline, readableAt ?? deadline));
    page = readStream(sql, { ...request, now: Date.now() });
  }
  if (!page) return undefined;
  return {
    bodies: page.events.map((e) => e.body),
    nextCursor: page.next === undefined ? null : encodePollCursor(page.next),
    done: page.done,
  };
}

/**
 * Consumers waiting on a long poll: each waits on a promise that the lane's next stored event (wake) or its own
 * deadline resolves. Memory only, no alarm and no loop: an idle lane with waiters costs nothing but the open calls.
 */
export class PollWaiters {
  private readonly waiting = new Set<() => void>();

  /** Resolves at `until` (unix ms) or at the next wake(), whichever is first. */
  wait(until: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiting.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, until - Date.now()));
      this.waiting.add(done);
    });
  }

  wake(): void {
    for (const done of [...this.waiting]) done();
  }
}
