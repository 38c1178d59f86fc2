// Retention: a lane deletes finished events (delivered, dropped, skipped) and their attempts RETENTION_DAYS
// after they finished; pending events are never purged.
import type { Config } from "../../config";

const DAY_MS = 86_400_000;
/** Events are kept at least a day whatever RETENTION_DAYS says, so an idempotency key holds for 24 h. */
const MIN_RETENTION_DAYS = 1;
/** One alarm run purges at most this many expired events; it re-arms at once if more are due. */
const PURGE_BATCH = 500;

export function retentionMs(config: Pick<Config, "retentionDays">): number {
  return Math.max(config.retentionDays, MIN_RETENTION_DAYS) * DAY_MS;
}

/** When the oldest finished event finished; null when nothing is finished. */
export function oldestFinishedAt(sql: SqlStorage): number | null {
  return sql.exec<{ oldest: number | null }>("SELECT MIN(finished_at) AS oldest FROM events WHERE finished_at IS NOT NULL").one().oldest;
}

/** Deletes up to a batch of finished events that finished at or before `clock - retention`, with their attempts. */
export function purgeExpired(storage: DurableObjectStorage, clock: number, retention: number): void {
  const cutoff = clock - retention;
  const expired = `SELECT id FROM events WHERE finished_at IS NOT NULL AND finished_at <= ? ORDER BY finished_at LIMIT ${PURGE_BATCH}`;
  storage.transactionSync(() => {
    storage.sql.exec(`DELETE FROM attempts WHERE event_id IN (${expired})`, cutoff);
    storage.sql.exec(`DELETE FROM events WHERE id IN (${expired})`, cutoff);
  });
}
