// A Durable Object's storage brought up to date at start in numbered steps (docs/architecture.md, "Storage
// schemas"): each object records the steps it has run, so a step runs once, in order, with its record in the same
// transaction. From 1.0.0, every change to a stored shape is a new step at the end of its list, never an edit.

/** The SQL of each step, in order: step n is `steps[n - 1]`. Step 1 creates the 1.0.0 shape (IF NOT EXISTS). */
export type StorageSteps = readonly string[];

export class StorageTooNewError extends Error {}

/**
 * Runs the steps `storage` has not run yet for `name` (one object may keep several lists, e.g. a lane and its
 * stream) and returns the version it is at. Storage that a later version of the code already moved forward is
 * refused rather than misread: rolling code back past a storage step is not supported (docs/deploy.md).
 */
export function runStorageSteps(storage: DurableObjectStorage, name: string, steps: StorageSteps): number {
  const sql = storage.sql;
  sql.exec("CREATE TABLE IF NOT EXISTS _storage_steps (name TEXT PRIMARY KEY, version INTEGER NOT NULL)");
  const [row] = sql.exec<{ version: number }>("SELECT version FROM _storage_steps WHERE name = ?", name).toArray();
  const at = row?.version ?? 0;
  if (at > steps.length) {
    throw new StorageTooNewError(`${name} storage is at step ${at}, newer than this code's ${steps.length}: deploy the newer code again`);
  }
  for (let next = at + 1; next <= steps.length; next++) {
    storage.transactionSync(() => {
      sql.exec(steps[next - 1]!);
      sql.exec(
        "INSERT INTO _storage_steps (name, version) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET version = excluded.version",
        name,
        next,
      );
    });
  }
  return steps.length;
}
