// The delivery log's read side: pages of a lane's events with their attempts, newest accepted first.
import type { AttemptRecord } from "../attempt";
import { traceIdOf } from "../../events/trace";
import type { AttemptRow, DeliveryStatus, EventRow } from "./store";

/** A delivery as the log shows it: the event's state and every attempt, oldest first. */
export interface DeliveryRecord {
  eventId: string;
  /** Acceptance order; the log pages by it. */
  orderKey: string;
  type: string;
  status: DeliveryStatus;
  test: boolean;
  acceptedAt: number;
  finishedAt: number | null;
  /** When the next attempt is due; null unless pending. */
  nextAttemptAt: number | null;
  attempts: AttemptRecord[];
  /** The W3C trace id every attempt carried in its traceparent; null for an event kept without one. */
  traceId: string | null;
  /** With EVENT_VALIDATION=warn: what in its data did not match its type's schema; null otherwise. */
  schemaWarning: string | null;
  /** The exact body sent; only when one delivery is asked for. */
  body?: string;
  /** The headers of the latest attempt as sent (null before any); only when one delivery is asked for. */
  headers?: Record<string, string> | null;
  /** The W3C tracestate every attempt sends unchanged (null when none came); only when one delivery is asked for. */
  tracestate?: string | null;
}

export type { AttemptRecord } from "../attempt";

export interface DeliveryQuery {
  status?: DeliveryStatus | undefined;
  type?: string | undefined;
  /** Only the deliveries of events in this trace (32 lowercase hex digits). */
  traceId?: string | undefined;
  limit: number;
  /** Only deliveries accepted before this one (its order key): the next page. */
  before?: string | undefined;
}

/** One page of the log; `more` when older deliveries match too. */
export function deliveryPage(sql: SqlStorage, query: DeliveryQuery): { data: DeliveryRecord[]; more: boolean } {
  const where: string[] = [];
  const params: SqlStorageValue[] = [];
  if (query.status) where.push("status = ?"), params.push(query.status);
  if (query.type) where.push("type = ?"), params.push(query.type);
  // A scan like the type filter's (no index: one more index entry per stored event would cost every delivery).
  if (query.traceId) where.push("substr(traceparent, 4, 32) = ?"), params.push(query.traceId);
  if (query.before) where.push("order_key < ?"), params.push(query.before);
  const rows = sql
    .exec<EventRow>(
      `SELECT * FROM events ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY order_key DESC LIMIT ?`,
      ...params,
      query.limit + 1,
    )
    .toArray();
  return { data: deliveryRecords(sql, rows.slice(0, query.limit)), more: rows.length > query.limit };
}

/** The events as deliveries, each with its attempts (one query for all of them). */
export function deliveryRecords(sql: SqlStorage, rows: EventRow[]): DeliveryRecord[] {
  // The first attempt lives on the event's row; later ones in the attempts table.
  const attempts = new Map<string, AttemptRecord[]>(
    rows.map((row) => [
      row.id,
      row.first_at === null
        ? []
        : [
            {
              at: row.first_at,
              statusCode: row.first_status_code,
              durationMs: row.first_duration_ms!,
              error: row.first_error,
              responseBody: row.first_response_body,
            },
          ],
    ]),
  );
  if (rows.some((row) => row.attempt_count > 1)) {
    const found = sql.exec<AttemptRow>(
      `SELECT * FROM attempts WHERE event_id IN (${rows.map(() => "?").join(", ")}) ORDER BY event_id, n`,
      ...rows.map((row) => row.id),
    );
    for (const a of found) {
      attempts
        .get(a.event_id)!
        .push({ at: a.at, statusCode: a.status_code, durationMs: a.duration_ms, error: a.error, responseBody: a.response_body });
    }
  }
  return rows.map((row) => ({
    eventId: row.id,
    orderKey: row.order_key,
    type: row.type,
    status: row.status,
    test: row.test === 1,
    acceptedAt: row.accepted_at,
    finishedAt: row.finished_at,
    nextAttemptAt: row.status === "pending" ? row.next_attempt_at : null,
    attempts: attempts.get(row.id)!,
    traceId: row.traceparent === null ? null : traceIdOf(row.traceparent),
    schemaWarning: row.schema_warning,
  }));
}
