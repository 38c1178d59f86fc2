// Writing one attempt of an event as storage holds it now: the log's record (numbered after those already there)
// and, when the event is still where the attempt found it, its new state.
import { headersJson } from "./store-sql";
import type { AttemptOutcome, DeliveryStatus, EventRow } from "./schema";

/** What an outcome makes of its event. */
export interface EventState {
  status: DeliveryStatus;
  finishedAt: number | null;
  nextAttemptAt: number;
  /** Attempts of the round after this one; the attempt's own round plus one when not given. */
  roundAttempts?: number;
}

/** The columns of an event that say whether an outcome still applies to it. */
type Now = Pick<EventRow, "status" | "line_key" | "attempt_count" | "round_attempts" | "finished_at" | "next_attempt_at">;

/**
 * Writes the attempt `outcome` of `event` (the row as it was when the attempt started). `state` applies when it
 * still can: a success to an event pending or skipped (a disable, an enable or a recover came while its request was
 * out: it was delivered all the same); any other to the event still pending in the same place. Otherwise the
 * attempt is only logged and the event keeps its state (a failure of a skipped event leaves it skipped, for
 * recover). Returns what the event was when written, or undefined when the lane no longer holds it (deleted). The
 * caller runs it in a transaction.
 */
export function recordAttempt(sql: SqlStorage, event: EventRow, outcome: AttemptOutcome, state: EventState): Now | undefined {
  const now = sql
    .exec<Now>(
      "SELECT status, line_key, attempt_count, round_attempts, finished_at, next_attempt_at FROM events WHERE order_key = ?",
      event.order_key,
    )
    .toArray()[0];
  if (!now) return undefined;
  const applies =
    state.status === "delivered"
      ? now.status === "pending" || now.status === "skipped"
      : now.status === "pending" && now.line_key === event.line_key;
  const next: EventState & { roundAttempts: number } = applies
    ? { ...state, roundAttempts: state.roundAttempts ?? event.round_attempts + 1 }
    : { status: now.status, finishedAt: now.finished_at, nextAttemptAt: now.next_attempt_at, roundAttempts: now.round_attempts };
  // Numbered from what storage holds: another attempt of the event (a retry, a recover) may have been logged since.
  const n = now.attempt_count + 1;
  const firstOnRow = n === 1;
  sql.exec(
    `UPDATE events SET status = ?, attempt_count = ?, round_attempts = ?, finished_at = ?, next_attempt_at = ?, last_headers = ?
       ${firstOnRow ? ", first_at = ?, first_duration_ms = ?, first_status_code = ?, first_error = ?, first_response_body = ?" : ""}
     WHERE order_key = ?`,
    next.status,
    n,
    next.roundAttempts,
    next.finishedAt,
    next.nextAttemptAt,
    headersJson(outcome),
    ...(firstOnRow ? [outcome.at, outcome.durationMs, outcome.statusCode, outcome.error, outcome.responseBody] : []),
    event.order_key,
  );
  if (!firstOnRow) {
    sql.exec(
      "INSERT OR REPLACE INTO attempts (event_id, n, at, duration_ms, status_code, error, response_body) VALUES (?, ?, ?, ?, ?, ?, ?)",
      event.id,
      n,
      outcome.at,
      outcome.durationMs,
      outcome.statusCode,
      outcome.error,
      outcome.responseBody,
    );
  }
  return now;
}
