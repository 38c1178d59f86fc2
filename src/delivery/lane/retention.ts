// Retention: a lane deletes finished events (delivered, dropped, skipped) and their attempts RETENTION_DAYS
// after they finished, in acceptance order (a range of the clustered table, no index of its own); pending
// events are never purged, and the purge waits behind them.

/** One alarm run purges at most this many expired events; it re-arms at once if more are due. */
const PURGE_BATCH = 500;

/**
 * When the first event in acceptance order finished: the purge's next candidate, since it goes in that
 * order. Null when that event is pending (the purge waits for it) or the lane holds none.
 */
export function oldestFinishedAt(sql: SqlStorage): number | null {
  return (
    sql.exec<{ finished_at: number | null }>("SELECT finished_at FROM events ORDER BY order_key LIMIT 1").toArray()[0]?.finished_at ?? null
  );
}

/**
 * Deletes the longest run, in acceptance order from the oldest, of up to a batch of events that all
 * finished at or before `clock - retention`, with their attempts.
 */
export function purgeExpired(storage: DurableObjectStorage, clock: number, retention: number): void {
  const cutoff = clock - retention;
  // Most runs have nothing to purge: one row tells, before reading a batch.
  const first = oldestFinishedAt(storage.sql);
  if (first === null || first > cutoff) return;
  const oldest = storage.sql
    .exec<{ order_key: string; id: string; finished_at: number | null }>(
      `SELECT order_key, id, finished_at FROM events ORDER BY order_key LIMIT ${PURGE_BATCH}`,
    )
    .toArray();
  const stop = oldest.findIndex((e) => e.finished_at === null || e.finished_at > cutoff);
  const expired = stop < 0 ? oldest : oldest.slice(0, stop);
  if (expired.length === 0) return;
  storage.transactionSync(() => {
    storage.sql.exec(`DELETE FROM attempts WHERE event_id IN (${expired.map(() => "?").join(", ")})`, ...expired.map((e) => e.id));
    storage.sql.exec("DELETE FROM events WHERE order_key <= ?", expired.at(-1)!.order_key);
  });
}
