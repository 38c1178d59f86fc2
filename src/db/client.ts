// The drizzle client over the D1 binding.
import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

export type Db = ReturnType<typeof createDb>;

function createDb(d1: D1Database) {
  return drizzle(d1, { schema });
}

/**
 * One client per binding object, made once per isolate: building one maps the whole schema's relations, which
 * every request (ingestion too, which never queries D1 when its key is cached) would otherwise pay for again.
 */
const clients = new WeakMap<D1Database, Db>();

export function openDb(d1: D1Database): Db {
  let db = clients.get(d1);
  if (!db) clients.set(d1, (db = createDb(d1)));
  return db;
}
