// After a new first key in ENCRYPTION_KEYS: the headers a lane keeps with its events (last_headers) sealed again
// with it, so that once the re-encryption route is done no stored value needs an older key (docs/deploy.md).
import type { Env } from "../../env";
import { currentKeyPrefix, reseal } from "../../lib/encryption";

/** Events read and written per round. */
const RESEAL_BATCH = 500;

/**
 * Seals every event's kept headers that are under another key (or in clear) again, a batch at a time; each only if
 * its event still holds what was read, so an attempt recorded in between (already under the current key) wins.
 * `sql` must be read after the lane's grouped successes are written (LaneStore.settled()).
 */
export async function resealKeptHeaders(env: Env, storage: DurableObjectStorage, sql: SqlStorage): Promise<void> {
  const current = currentKeyPrefix(env);
  for (;;) {
    const stale = sql
      .exec<{ order_key: string; last_headers: string }>(
        "SELECT order_key, last_headers FROM events WHERE substr(last_headers, 1, ?) <> ? LIMIT ?",
        current.length,
        current,
        RESEAL_BATCH,
      )
      .toArray();
    if (stale.length === 0) return;
    const resealed = await Promise.all(stale.map(async (row) => ({ ...row, sealed: await reseal(env, row.last_headers) })));
    storage.transactionSync(() => {
      for (const { order_key, last_headers, sealed } of resealed) {
        sql.exec("UPDATE events SET last_headers = ? WHERE order_key = ? AND last_headers = ?", sealed, order_key, last_headers);
      }
    });
    if (stale.length < RESEAL_BATCH) return;
  }
}
