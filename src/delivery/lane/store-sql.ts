// The statements of the lane's store that take a group of rows as one JSON argument, and how a row is laid out for them.
import type { AttemptOutcome, NewEvent } from "./schema";

/** How an attempt's headers are kept on its event's row (last_headers). */
export function headersJson(outcome: AttemptOutcome | undefined): string | null {
  return outcome?.sealedHeaders ?? null;
}

/**
 * JSON per statement of insertEvents: well under a Durable Object's 2 MB limit on a string, even counted in
 * UTF-8 bytes (at most 3 per character), and each event's row (its body within a queue message's 128 KB,
 * escaped once more) fits on its own.
 */
export const INSERT_CHUNK_CHARS = 600_000;

/** The events table's columns, in INSERT_EVENTS' order, for one event. */
export function eventColumns(event: NewEvent): unknown[] {
  const first = event.first;
  return [
    event.order_key,
    event.id,
    event.line_key ?? event.order_key,
    event.type,
    event.accepted_at,
    event.status,
    first ? 1 : 0,
    first ? 1 : 0,
    event.next_attempt_at,
    event.finished_at,
    event.test ? 1 : 0,
    first?.at ?? null,
    first?.durationMs ?? null,
    first?.statusCode ?? null,
    first?.error ?? null,
    first?.responseBody ?? null,
    headersJson(first),
    event.traceparent ?? null,
    event.tracestate ?? null,
    event.schemaWarning ?? null,
    event.body,
    event.ordering_key ?? null,
    event.ordering_epoch ?? 0,
  ];
}

/**
 * The rows of events holding the id `idSql` (an SQL expression), the events table named `alias`. An id whose fifth
 * character on, in upper case, is its event's order key (an event accepted without an idempotency key has the id
 * `evt_` + its order key in lower case, src/events/ingest.ts) is found by primary key: no index entry is written for
 * it. Any other (an idempotency key's, an alert's, every one stored before) is in the partial index
 * events_by_other_id (schema.ts, EVENT_ID_FROM_ORDER_KEY), whose condition is the same expression's: each event is
 * found one way exactly.
 */
function withId(columns: string, idSql: string, alias = "e"): string {
  return `SELECT ${columns} FROM events ${alias} WHERE ${alias}.order_key = upper(substr(${idSql}, 5)) AND ${alias}.id = ${idSql}
    UNION ALL SELECT ${columns} FROM events ${alias} INDEXED BY events_by_other_id
      WHERE ${alias}.id = ${idSql} AND ${alias}.order_key <> upper(substr(${alias}.id, 5))`;
}

/** One event by its id (bound once, as ?1), all columns. */
export const EVENT_BY_ID = `${withId("e.*", "?1")} LIMIT 1`;

/** Whether the lane holds an event with the id bound as ?1. */
export const HOLDS_ID = `SELECT EXISTS (${withId("1", "?1")}) AS held`;

/**
 * Inserts the rows of a JSON array of eventColumns arrays, skipping ids already held (whichever way the one held
 * is found, see withId; the caller leaves out an id repeated within the array); returns the stored order keys.
 */
export const INSERT_EVENTS = `
  INSERT INTO events (order_key, id, line_key, type, accepted_at, status, attempt_count, round_attempts, next_attempt_at, finished_at,
                      test, first_at, first_duration_ms, first_status_code, first_error, first_response_body, last_headers,
                      traceparent, tracestate, schema_warning, body, ordering_key, ordering_epoch)
  SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, value ->> 7, value ->> 8,
         value ->> 9, value ->> 10, value ->> 11, value ->> 12, value ->> 13, value ->> 14, value ->> 15, value ->> 16, value ->> 17,
         value ->> 18, value ->> 19, value ->> 20, value ->> 21, value ->> 22
  FROM json_each(?) AS j WHERE NOT EXISTS (${withId("1", "j.value ->> 1")})
  ON CONFLICT DO NOTHING
  RETURNING order_key AS k`;

/**
 * Records first attempts that delivered, from a JSON array of [order_key, line_key, round_attempts, finished_at,
 * last_headers, at, duration_ms, status_code, error, response_body] (arrays, not objects: a quarter cheaper
 * to take apart), each only if it is still the event's first attempt: delivered whatever became of the event
 * while its request was out (skipped by a disable, put back in line by recover), as record-attempt.ts does.
 */
export const FLUSH_FIRSTS = `
  UPDATE events SET status = 'delivered', attempt_count = 1, round_attempts = g.value ->> 2, finished_at = g.value ->> 3,
    last_headers = g.value ->> 4, first_at = g.value ->> 5, first_duration_ms = g.value ->> 6, first_status_code = g.value ->> 7,
    first_error = g.value ->> 8, first_response_body = g.value ->> 9
  FROM json_each(?) AS g
  WHERE events.order_key = g.value ->> 0 AND events.status IN ('pending', 'skipped') AND events.attempt_count = 0`;

/** Every attempt, first ones (kept on their event's row) included, by time: LaneStore.snapshot's. */
export const SNAPSHOT_ATTEMPTS = `
  SELECT event_id, n, at, duration_ms, status_code, error, response_body FROM (
    SELECT id AS event_id, 1 AS n, first_at AS at, first_duration_ms AS duration_ms, first_status_code AS status_code,
           first_error AS error, first_response_body AS response_body FROM events WHERE first_at IS NOT NULL
    UNION ALL SELECT * FROM attempts) ORDER BY at, n`;

/** The last place in line taken: the newest order key, or a place given by an earlier requeue still pending. */
export const LAST_PLACE = `
  SELECT MAX(k) AS last FROM (SELECT MAX(order_key) AS k FROM events
    UNION ALL SELECT MAX(line_key) FROM events INDEXED BY events_requeued WHERE status = 'pending' AND line_key <> order_key)`;

/** An event back in line: its new place, due time, ordering key and epoch, by id. */
export const REQUEUE = `
  UPDATE events SET status = 'pending', line_key = ?1, round_attempts = 0, next_attempt_at = ?2, finished_at = NULL,
    ordering_key = ?3, ordering_epoch = ?4 WHERE order_key IN (${withId("e.order_key", "?5")})`;

/** How many test events a lane holds accepted at or after `since` (unix ms), and the earliest of them. */
export function testsSince(sql: SqlStorage, since: number): { count: number; earliest: number | null } {
  const query = "SELECT count(*) AS n, min(accepted_at) AS earliest FROM events WHERE test = 1 AND accepted_at >= ?";
  const [row] = sql.exec<{ n: number; earliest: number | null }>(query, since);
  return { count: row?.n ?? 0, earliest: row?.earliest ?? null };
}
