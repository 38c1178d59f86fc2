// A Durable Object's storage whose every statement's rows read and written are added up (SqlStorageCursor's
// rowsRead and rowsWritten, which count index entries; a cursor counts as it is read, so they are summed at the end).

export function counted(storage: DurableObjectStorage) {
  const cursors: SqlStorageCursor<Record<string, SqlStorageValue>>[] = [];
  const sql = {
    exec: (query: string, ...bindings: unknown[]) => {
      const cursor = storage.sql.exec(query, ...bindings);
      cursors.push(cursor);
      return cursor;
    },
  };
  return {
    storage: { sql, transactionSync: <T>(fn: () => T) => storage.transactionSync(fn) } as unknown as DurableObjectStorage,
    rowsRead: () => cursors.reduce((n, c) => n + c.rowsRead, 0),
    rowsWritten: () => cursors.reduce((n, c) => n + c.rowsWritten, 0),
    reset: () => {
      cursors.length = 0;
    },
  };
}
