// Billable-operation counters for the benchmark build: wrappers around the bindings (D1, Queue, Durable
// Object namespaces, DO storage) that count what Cloudflare bills, without touching src/.
//
// Everything lives in this isolate's memory; under `wrangler dev` the Worker and all its Durable Objects
// share one isolate, so one snapshot sees every count (bench/run.mjs checks that it does).

export interface StatementCount {
  calls: number;
  rowsRead: number;
  rowsWritten: number;
}

export interface Counters {
  /** HTTP requests into the Worker (each is a billed Worker request). */
  workerRequests: number;
  /** Queue consumer invocations (billed as Worker requests too). */
  consumerInvocations: number;
  queue: {
    messagesWritten: number;
    writeOps: number;
    messagesRead: number;
    readOps: number;
    acks: number;
    deleteOps: number;
    retries: number;
  };
  /** Durable Object requests: RPC calls by class and method, and alarm runs by class. */
  doRequests: Record<string, Record<string, number>>;
  /** Wall time (ms) callers waited on each class's RPC calls; alarms' own wall time. A lower bound on DO duration. */
  doActiveMs: Record<string, number>;
  /** Durable Object SQL by class and statement; setAlarm counts as one row written (Cloudflare bills it so). */
  doSql: Record<string, Record<string, StatementCount>>;
  doAlarmOps: Record<string, { setAlarm: number; deleteAlarm: number; getAlarm: number }>;
  /** D1 by statement. `rowsRead` of statements whose driver call returns no meta (drizzle's raw()) is measured by replaying them at snapshot time. */
  d1: Record<string, StatementCount & { replayed: number; unmeasured: number }>;
  /** Outbound fetches from the Worker or its objects (subrequests, not billed). */
  subrequests: { count: number };
}

export const counters: Counters = {
  workerRequests: 0,
  consumerInvocations: 0,
  queue: { messagesWritten: 0, writeOps: 0, messagesRead: 0, readOps: 0, acks: 0, deleteOps: 0, retries: 0 },
  doRequests: {},
  doActiveMs: {},
  doSql: {},
  doAlarmOps: {},
  d1: {},
  subrequests: { count: 0 },
};

/** Queues bill one operation per 64 KB (1 KB = 1000 bytes) of a message, plus ~100 bytes of metadata. */
export function queueOps(bytes: number): number {
  return Math.max(1, Math.ceil((bytes + 100) / 64_000));
}

const statementKey = (sql: string) => sql.replace(/\s+/g, " ").trim().slice(0, 96);

function bump(table: Record<string, StatementCount>, key: string): StatementCount {
  return (table[key] ??= { calls: 0, rowsRead: 0, rowsWritten: 0 });
}

// ---------- Durable Object storage ----------

/**
 * Makes a DO's `ctx.storage` count its SQL and alarm calls. A cursor's rowsRead grows while it is
 * iterated, so the counts are taken when it is created, after toArray()/one(), and again (finally) when
 * the same object runs its next statement.
 */
export function countedState(ctx: DurableObjectState, className: string): DurableObjectState {
  const sqlTable = (counters.doSql[className] ??= {});
  const alarmOps = (counters.doAlarmOps[className] ??= { setAlarm: 0, deleteAlarm: 0, getAlarm: 0 });
  const realStorage = ctx.storage;
  const realSql = realStorage.sql;
  interface Tracked {
    cursor: SqlStorageCursor<Record<string, SqlStorageValue>>;
    count: StatementCount;
    read: number;
    written: number;
  }
  let pending: Tracked[] = [];
  const account = (t: Tracked) => {
    const read = t.cursor.rowsRead;
    const written = t.cursor.rowsWritten;
    t.count.rowsRead += read - t.read;
    t.count.rowsWritten += written - t.written;
    t.read = read;
    t.written = written;
  };
  // Each statement's count by its exact text (null: miniflare's own bookkeeping, not counted), so a call costs a
  // lookup, not a normalisation of its text: the counting must not slow the service it measures.
  const byQuery = new Map<string, StatementCount | null>();
  const exec = (query: string, ...bindings: unknown[]) => {
    if (pending.length > 0) {
      for (const t of pending) account(t);
      pending = [];
    }
    const cursor = realSql.exec(query, ...bindings);
    let count = byQuery.get(query);
    if (count === undefined) {
      // Miniflare's own bookkeeping (it records each object's name); not there in production.
      count = query.includes("__miniflare") ? null : bump(sqlTable, statementKey(query));
      byQuery.set(query, count);
    }
    if (count === null) return cursor;
    count.calls++;
    const tracked: Tracked = { cursor, count, read: 0, written: 0 };
    account(tracked);
    pending.push(tracked);
    // toArray() and one() counted as they return; rows iterated otherwise at the object's next statement. The
    // cursor itself is handed back (a Proxy around it would trap every row's next()).
    const { toArray, one } = cursor;
    Object.assign(cursor, {
      toArray: () => {
        try {
          return toArray.call(cursor);
        } finally {
          account(tracked);
        }
      },
      one: () => {
        try {
          return one.call(cursor);
        } finally {
          account(tracked);
        }
      },
    });
    return cursor;
  };
  const sql = new Proxy(realSql, {
    get(target, prop) {
      if (prop === "exec") return exec;
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const storage = new Proxy(realStorage, {
    get(target, prop) {
      if (prop === "sql") return sql;
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== "function") return value;
      if (prop === "setAlarm" || prop === "deleteAlarm" || prop === "getAlarm") {
        return (...args: unknown[]) => {
          alarmOps[prop]++;
          if (prop === "setAlarm") {
            const c = bump(sqlTable, "(setAlarm)");
            c.calls++;
            c.rowsWritten++;
          }
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return value.bind(target);
    },
  });
  // The runtime's DurableObject base class insists on the real state object, so the counted storage is
  // put on that object itself rather than on a wrapper around it.
  Object.defineProperty(ctx, "storage", { value: storage, configurable: true });
  return ctx;
}

export function countAlarm(className: string): void {
  const perClass = (counters.doRequests[className] ??= {});
  perClass["alarm"] = (perClass["alarm"] ?? 0) + 1;
}

export function addActiveMs(className: string, ms: number): void {
  counters.doActiveMs[className] = (counters.doActiveMs[className] ?? 0) + ms;
}

// ---------- Bindings seen from a caller (Worker, consumer, or another object) ----------

function countedStub<T extends object>(stub: T, className: string): T {
  return new Proxy(stub, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof prop !== "string" || prop === "then" || typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        const perClass = (counters.doRequests[className] ??= {});
        perClass[prop] = (perClass[prop] ?? 0) + 1;
        const started = Date.now();
        try {
          // Reflect.apply, not value.apply: on an RPC stub every property, `apply` included, is a remote method.
          return await Reflect.apply(value as (...a: unknown[]) => Promise<unknown>, target, args);
        } finally {
          addActiveMs(className, Date.now() - started);
        }
      };
    },
  });
}

function countedNamespace<T extends DurableObjectNamespace>(ns: T, className: string): T {
  return new Proxy(ns, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== "function") return value;
      if (prop === "get" || prop === "getByName") {
        return (...args: unknown[]) => countedStub(Reflect.apply(value as (...a: unknown[]) => object, target, args), className);
      }
      return value.bind(target);
    },
  });
}

/** Statements whose result carried no meta (raw(), first()): replayed with all() at snapshot time. */
const replays = new Map<string, { sql: string; params: unknown[]; count: number }>();
let realD1: D1Database | undefined;

function recordD1(sql: string, meta: D1Meta | undefined): void {
  const c = (counters.d1[statementKey(sql)] ??= { calls: 0, rowsRead: 0, rowsWritten: 0, replayed: 0, unmeasured: 0 });
  c.calls++;
  if (meta) {
    c.rowsRead += meta.rows_read ?? 0;
    c.rowsWritten += meta.rows_written ?? 0;
  }
}

function deferD1(sql: string, params: unknown[]): void {
  const c = (counters.d1[statementKey(sql)] ??= { calls: 0, rowsRead: 0, rowsWritten: 0, replayed: 0, unmeasured: 0 });
  c.calls++;
  const key = `${sql}\u0000${JSON.stringify(params)}`;
  const entry = replays.get(key);
  if (entry) entry.count++;
  else replays.set(key, { sql, params, count: 1 });
}

/** Settles deferred D1 reads: each distinct (statement, parameters) is run once more with all() for its meta. */
export async function settleD1(): Promise<void> {
  const entries = [...replays.values()];
  replays.clear();
  for (const { sql, params, count } of entries) {
    const c = counters.d1[statementKey(sql)]!;
    if (!realD1 || !/^\s*select\b/i.test(sql)) {
      c.unmeasured += count;
      continue;
    }
    const result = await realD1
      .prepare(sql)
      .bind(...params)
      .all();
    c.rowsRead += (result.meta.rows_read ?? 0) * count;
    c.replayed += count;
  }
}

class CountedStatement {
  constructor(
    readonly real: D1PreparedStatement,
    readonly sql: string,
    readonly params: unknown[] = [],
  ) {}
  bind(...values: unknown[]) {
    return new CountedStatement(this.real.bind(...values), this.sql, values);
  }
  async all<T>() {
    const result = await this.real.all<T>();
    recordD1(this.sql, result.meta);
    return result;
  }
  async run<T>() {
    const result = await this.real.run<T>();
    recordD1(this.sql, result.meta);
    return result;
  }
  async raw(options?: { columnNames?: boolean }) {
    const result = await (this.real.raw as (o?: unknown) => Promise<unknown[]>)(options);
    deferD1(this.sql, this.params);
    return result;
  }
  async first(column?: string) {
    const result = await (column === undefined ? this.real.first() : this.real.first(column));
    deferD1(this.sql, this.params);
    return result;
  }
}

function countedD1(db: D1Database): D1Database {
  realD1 ??= db;
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "prepare") return (sql: string) => new CountedStatement(target.prepare(sql), sql);
      if (prop === "batch") {
        return async (statements: CountedStatement[]) => {
          const results = await target.batch(statements.map((s) => s.real));
          results.forEach((r, i) => recordD1(statements[i]!.sql, r.meta));
          return results;
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

function countedQueue<T>(queue: Queue<T>): Queue<T> {
  const size = (body: unknown) => new TextEncoder().encode(JSON.stringify(body)).byteLength;
  return new Proxy(queue, {
    get(target, prop) {
      if (prop === "send") {
        return (body: T, options?: QueueSendOptions) => {
          counters.queue.messagesWritten++;
          counters.queue.writeOps += queueOps(size(body));
          return target.send(body, options);
        };
      }
      if (prop === "sendBatch") {
        return (messages: Iterable<MessageSendRequest<T>>, options?: QueueSendBatchOptions) => {
          const list = [...messages];
          counters.queue.messagesWritten += list.length;
          for (const m of list) counters.queue.writeOps += queueOps(size(m.body));
          return target.sendBatch(list, options);
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** The consumer's view of a batch: every message read, acked (deleted) or retried is counted. */
export function countedBatch<T>(batch: MessageBatch<T>): MessageBatch<T> {
  const ops = (m: Message<T>) => queueOps(new TextEncoder().encode(JSON.stringify(m.body)).byteLength);
  const messages = batch.messages.map((m) => {
    const mOps = ops(m);
    counters.queue.messagesRead++;
    counters.queue.readOps += mOps;
    return {
      get id() {
        return m.id;
      },
      get timestamp() {
        return m.timestamp;
      },
      get body() {
        return m.body;
      },
      get attempts() {
        return m.attempts;
      },
      ack() {
        counters.queue.acks++;
        counters.queue.deleteOps += mOps;
        m.ack();
      },
      retry(options?: QueueRetryOptions) {
        counters.queue.retries++;
        m.retry(options);
      },
    } as Message<T>;
  });
  return {
    queue: batch.queue,
    metadata: batch.metadata,
    messages,
    ackAll() {
      for (const m of messages) m.ack();
    },
    retryAll(options?: QueueRetryOptions) {
      for (const m of messages) m.retry(options);
    },
  } as MessageBatch<T>;
}

const wrappedEnvs = new WeakMap<object, object>();

/** The bindings this service uses, counted; anything else passes through. Built once per env object. */
export function countedEnv<E extends object>(env: E): E {
  const known = wrappedEnvs.get(env);
  if (known) return known as E;
  const wrapped: Record<string, unknown> = { ...(env as Record<string, unknown>) };
  const e = env as Record<string, unknown>;
  if (e["DB"]) wrapped["DB"] = countedD1(e["DB"] as D1Database);
  if (e["EVENTS_QUEUE"]) wrapped["EVENTS_QUEUE"] = countedQueue(e["EVENTS_QUEUE"] as Queue<unknown>);
  if (e["ENDPOINT_LANE"]) wrapped["ENDPOINT_LANE"] = countedNamespace(e["ENDPOINT_LANE"] as DurableObjectNamespace, "EndpointLane");
  if (e["WORKSPACE_QUOTA"]) wrapped["WORKSPACE_QUOTA"] = countedNamespace(e["WORKSPACE_QUOTA"] as DurableObjectNamespace, "WorkspaceQuota");
  wrappedEnvs.set(env, wrapped);
  return wrapped as E;
}

/**
 * Outbound fetch (deliveries) counted; installed once per isolate. Counted as it is called and handed the
 * runtime's own promise: a wrapper that awaited it would add a promise and a resumption to every attempt,
 * which the floor does not pay.
 */
export function countFetches(): void {
  const g = globalThis as { __benchFetchCounted?: boolean; fetch: typeof fetch };
  if (g.__benchFetchCounted) return;
  g.__benchFetchCounted = true;
  const real = g.fetch.bind(globalThis);
  g.fetch = (...args: Parameters<typeof fetch>) => {
    counters.subrequests.count++;
    return real(...args);
  };
}
