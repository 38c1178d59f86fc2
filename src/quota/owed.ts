// The one sender of what the quota owes its workspace (the emails, the alerts): each kind is kept in a table of
// the same shape (outcome, attempts, next_try_at); a due message is sent and how that ended recorded, and one that
// could not be sent is tried again RETRY_MS later, up to MAX_ATTEMPTS in all, then given up, loudly.

/** A message that could not be sent is tried again this much later ... */
export const RETRY_MS = 5_000;
/** ... up to this many times in all (e.g. Email Sending not set up), then given up. */
export const MAX_ATTEMPTS = 10;

/** The columns every owed message has. A type alias (not an interface) so rows fit SqlStorage's row constraint. */
export type OwedRow = {
  /** owed (not sent yet) | gave_up | how sending ended (sent, no_address, no_alert_url) */
  outcome: string;
  attempts: number;
  next_try_at: number;
};

/** One kind of owed message: where it is kept and how it is sent. */
export interface OwedKind<Row extends OwedRow> {
  table: "notices" | "alerts";
  /** The order in which due messages are sent. */
  order: string;
  /** The WHERE clause naming one message, and its values. */
  key(row: Row): [where: string, ...values: SqlStorageValue[]];
  /** What it is, for the log. */
  describe(row: Row): string;
  /** Sends it and says how that ended, with any columns to record; throws when it could not be sent. */
  send(row: Row): Promise<{ outcome: string; columns?: Record<string, SqlStorageValue> }>;
}

/** Sends every message of `kind` due at `clock`, in order, one at a time. */
export async function sendDue<Row extends OwedRow>(sql: SqlStorage, kind: OwedKind<Row>, clock: number): Promise<void> {
  const due = sql
    .exec<Row>(`SELECT * FROM ${kind.table} WHERE outcome = 'owed' AND next_try_at <= ? ORDER BY ${kind.order}`, clock)
    .toArray();
  for (const row of due) {
    const [where, ...keys] = kind.key(row);
    try {
      const { outcome, columns = {} } = await kind.send(row);
      const sets = Object.keys(columns)
        .map((column) => `, ${column} = ?`)
        .join("");
      sql.exec(
        `UPDATE ${kind.table} SET outcome = ?, attempts = attempts + 1${sets} WHERE ${where}`,
        outcome,
        ...Object.values(columns),
        ...keys,
      );
    } catch (err) {
      const attempts = row.attempts + 1;
      const giveUp = attempts >= MAX_ATTEMPTS;
      sql.exec(
        `UPDATE ${kind.table} SET attempts = ?, outcome = ?, next_try_at = ? WHERE ${where}`,
        attempts,
        giveUp ? "gave_up" : "owed",
        Date.now() + RETRY_MS,
        ...keys,
      );
      console.error(`workspace quota: ${kind.describe(row)} could not be sent (attempt ${attempts}${giveUp ? ", giving up" : ""}):`, err);
    }
  }
}
