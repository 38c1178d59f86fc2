// The platform's floor, for the benchmark to hold the service against: the least a Worker on the same
// runtime can do for each figure. No auth, no D1, no signing, no storage.
//   POST /v1/events  parse the JSON, check its shape, queue.send            (ingestion floor)
//   consumer         for an event carrying `data.to`, one Durable Object per URL fetches it once
//                    (end-to-end and fan-out floor: Queue -> DO per endpoint -> fetch)
//   POST /loop       one Durable Object awaits fetch() n times in a row      (one lane's floor)
//   GET /rows        rows written by the lane's storage statements, today's schema against cheaper ones
import { DurableObject } from "cloudflare:workers";
import { Hono } from "hono";

interface Env {
  EVENTS: Queue<BareEvent>;
  HOP: DurableObjectNamespace<BareHop>;
}

interface BareEvent {
  id: string;
  type: string;
  data: Record<string, unknown>;
  acceptedAt: number;
}

/** What the floor spent, for the cost comparison, and sent/acked so the driver can tell the queue drained. */
const stats = { requests: 0, sent: 0, acked: 0, batches: 0, hops: 0 };

export class BareHop extends DurableObject<Env> {
  async deliver(url: string, body: string): Promise<number> {
    const response = await fetch(url, { method: "POST", body, headers: { "content-type": "application/json" } });
    await response.arrayBuffer();
    return response.status;
  }

  /** Runs one storage variant on this (fresh) object; rows written and read per statement. */
  rows(schema: string, statements: string[]): { sql: string; rowsWritten: number; rowsRead: number }[] {
    const sql = this.ctx.storage.sql;
    sql.exec(schema);
    return statements.map((statement) => {
      const cursor = sql.exec(statement);
      cursor.toArray();
      return { sql: statement.replace(/\s+/g, " "), rowsWritten: cursor.rowsWritten, rowsRead: cursor.rowsRead };
    });
  }

  /**
   * n POSTs in a row to url, each waiting for the previous one: one lane's work with nothing else.
   * `extra` adds one piece of the real lane's per-attempt work, to see what each costs on its own:
   * "write" one SQLite row per attempt (so each fetch waits for the storage write to be confirmed, as a
   * lane's does), "sign" the two HMAC-SHA256 signatures a lane computes.
   */
  async loop(url: string, n: number, body: string, extra: "none" | "write" | "sign" = "none"): Promise<{ n: number; ms: number }> {
    const sql = this.ctx.storage.sql;
    if (extra === "write") sql.exec("CREATE TABLE IF NOT EXISTS sent (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL)");
    const key = extra === "sign" ? await crypto.subtle.importKey("raw", new TextEncoder().encode("whsec_bench"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]) : undefined;
    const started = Date.now();
    for (let i = 0; i < n; i++) {
      const payload = body.replace("\"seq\":0", `"seq":${i}`);
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (key) {
        const bytes = new TextEncoder().encode(payload);
        const [a, b] = await Promise.all([crypto.subtle.sign("HMAC", key, bytes), crypto.subtle.sign("HMAC", key, bytes)]);
        headers["webhook-signature"] = `v1,${new Uint8Array(a).toBase64()}`;
        headers["x-webhook-signature"] = new Uint8Array(b).toBase64();
      }
      const response = await fetch(url, { method: "POST", body: payload, headers });
      await response.arrayBuffer();
      if (extra === "write") sql.exec("INSERT OR REPLACE INTO sent (seq, at) VALUES (?, ?)", i, Date.now());
    }
    return { n, ms: Date.now() - started };
  }
}

/**
 * The lane's storage work over one event's life (src/delivery/endpoint-lane.ts on main at b9c1aa6:
 * insert it, record a successful attempt, mark it delivered, and purge it after the retention) under
 * today's schema and under cheaper variants, each in a fresh object, with the rows SQLite reports written.
 * Rows written are what Cloudflare bills, index entries and deletes included; docs/BENCHMARKS.md prices
 * the recommended schema changes with these numbers.
 */
const EVENTS_COLUMNS = `id TEXT PRIMARY KEY, order_key TEXT NOT NULL, line_key TEXT NOT NULL DEFAULT '', type TEXT NOT NULL,
  body TEXT NOT NULL, accepted_at INTEGER NOT NULL, status TEXT NOT NULL, attempt_count INTEGER NOT NULL DEFAULT 0,
  round_attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL, created_at INTEGER NOT NULL,
  finished_at INTEGER, test INTEGER NOT NULL DEFAULT 0, last_status_code INTEGER, last_duration_ms INTEGER`;
const ATTEMPTS_COLUMNS = `event_id TEXT NOT NULL, n INTEGER NOT NULL, at INTEGER NOT NULL, duration_ms INTEGER NOT NULL,
  status_code INTEGER, error TEXT, response_body TEXT, PRIMARY KEY (event_id, n)`;
const INDEXES_TODAY = `CREATE INDEX events_by_status ON events (status, order_key);
  CREATE INDEX events_in_line ON events (status, line_key);
  CREATE INDEX events_by_order ON events (order_key);
  CREATE INDEX events_by_type ON events (type, order_key);
  CREATE INDEX events_by_finished ON events (finished_at) WHERE finished_at IS NOT NULL`;
const INDEXES_PENDING_LINE = INDEXES_TODAY.replace(
  "CREATE INDEX events_in_line ON events (status, line_key)",
  "CREATE INDEX events_in_line ON events (line_key) WHERE status = 'pending'",
);
const INSERT_EVENT = `INSERT INTO events (id, order_key, line_key, type, body, accepted_at, status, next_attempt_at, created_at, finished_at)
  VALUES ('evt_1', '01K', '01K', 'message.received', '{}', 1, 'pending', 2, 3, NULL) ON CONFLICT (id) DO NOTHING`;
const INSERT_ATTEMPT = `INSERT OR REPLACE INTO attempts (event_id, n, at, duration_ms, status_code, error, response_body) VALUES ('evt_1', 1, 4, 5, 200, NULL, '')`;
const MARK_DELIVERED = `UPDATE events SET status = 'delivered', attempt_count = 1, round_attempts = 1, finished_at = 9 WHERE id = 'evt_1'`;
const MARK_DELIVERED_INLINE = `UPDATE events SET status = 'delivered', attempt_count = 1, round_attempts = 1, finished_at = 9, last_status_code = 200, last_duration_ms = 5 WHERE id = 'evt_1'`;
const PURGE = ["DELETE FROM attempts WHERE event_id IN ('evt_1')", "DELETE FROM events WHERE id IN ('evt_1')"];
const LANE = `CREATE TABLE lane (singleton INTEGER PRIMARY KEY, url TEXT NOT NULL, config_version INTEGER NOT NULL, alarm_at INTEGER);
  INSERT INTO lane VALUES (1, 'https://example.com/hook', 7, NULL)`;

export const ROW_VARIANTS: { name: string; schema: string; statements: string[] }[] = [
  {
    name: "today: rowid tables, 5 indexes on events, one attempts row per attempt",
    schema: `CREATE TABLE events (${EVENTS_COLUMNS}); ${INDEXES_TODAY}; CREATE TABLE attempts (${ATTEMPTS_COLUMNS})`,
    statements: [INSERT_EVENT, INSERT_ATTEMPT, MARK_DELIVERED, ...PURGE],
  },
  {
    name: "events and attempts WITHOUT ROWID (the primary key is the table: no separate key index)",
    schema: `CREATE TABLE events (${EVENTS_COLUMNS}) WITHOUT ROWID; ${INDEXES_TODAY}; CREATE TABLE attempts (${ATTEMPTS_COLUMNS}) WITHOUT ROWID`,
    statements: [INSERT_EVENT, INSERT_ATTEMPT, MARK_DELIVERED, ...PURGE],
  },
  {
    name: "... and the line index holds pending events only: (line_key) WHERE status = 'pending'",
    schema: `CREATE TABLE events (${EVENTS_COLUMNS}) WITHOUT ROWID; ${INDEXES_PENDING_LINE}; CREATE TABLE attempts (${ATTEMPTS_COLUMNS}) WITHOUT ROWID`,
    statements: [INSERT_EVENT, INSERT_ATTEMPT, MARK_DELIVERED, ...PURGE],
  },
  {
    name: "... and a first attempt that succeeds is kept on the event row, not as an attempts row",
    schema: `CREATE TABLE events (${EVENTS_COLUMNS}) WITHOUT ROWID; ${INDEXES_PENDING_LINE}; CREATE TABLE attempts (${ATTEMPTS_COLUMNS}) WITHOUT ROWID`,
    statements: [INSERT_EVENT, MARK_DELIVERED_INLINE, ...PURGE],
  },
  {
    name: "... and no (type, order_key) index: the log's type filter walks (order_key)",
    schema: `CREATE TABLE events (${EVENTS_COLUMNS}) WITHOUT ROWID; ${INDEXES_PENDING_LINE.replace("CREATE INDEX events_by_type ON events (type, order_key);", "")}; CREATE TABLE attempts (${ATTEMPTS_COLUMNS}) WITHOUT ROWID`,
    statements: [INSERT_EVENT, MARK_DELIVERED_INLINE, ...PURGE],
  },
  {
    name: "lane row, today: every enqueue rewrites the config, even when unchanged",
    schema: LANE,
    statements: ["UPDATE lane SET url = 'https://example.com/hook', config_version = 7"],
  },
  {
    name: "lane row: rewrite only a newer config",
    schema: LANE,
    statements: ["UPDATE lane SET url = 'https://example.com/hook', config_version = 7 WHERE config_version < 7"],
  },
  {
    name: "lane row, today: clear alarm_at when the lane goes idle",
    schema: LANE,
    statements: ["UPDATE lane SET alarm_at = NULL"],
  },
];

const app = new Hono<{ Bindings: Env }>();

app.post("/v1/events", async (c) => {
  let input: unknown;
  try {
    input = await c.req.json();
  } catch {
    return c.json({ error: { code: "malformed_json", message: "not JSON" } }, 400);
  }
  const event = input as { type?: unknown; data?: unknown };
  if (typeof event.type !== "string" || typeof event.data !== "object" || event.data === null) {
    return c.json({ error: { code: "validation_failed", message: "type and data required" } }, 400);
  }
  const id = `evt_${crypto.randomUUID()}`;
  await c.env.EVENTS.send({ id, type: event.type, data: event.data as Record<string, unknown>, acceptedAt: Date.now() });
  stats.sent++;
  return c.json({ id }, 202);
});

app.post("/loop", async (c) => {
  const { url, n, body, extra } = await c.req.json<{ url: string; n: number; body: string; extra?: "none" | "write" | "sign" }>();
  const hop = c.env.HOP.get(c.env.HOP.idFromName(`loop-${extra ?? "none"}`));
  return c.json(await hop.loop(url, n, body, extra));
});

app.get("/stats", (c) => c.json(stats));
app.get("/rows", async (c) => {
  const run = crypto.randomUUID();
  const results = [];
  for (const variant of ROW_VARIANTS) {
    const statements = await c.env.HOP.get(c.env.HOP.idFromName(`rows-${run}-${variant.name}`)).rows(variant.schema, variant.statements);
    results.push({ name: variant.name, rowsWritten: statements.reduce((a, s) => a + s.rowsWritten, 0), statements });
  }
  return c.json(results);
});
app.get("/", (c) => c.json({ name: "bench-baseline" }));

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext) {
    if (new URL(request.url).pathname !== "/stats") stats.requests++;
    return app.fetch(request, env, ctx);
  },
  async queue(batch: MessageBatch<BareEvent>, env: Env) {
    stats.batches++;
    await Promise.all(
      batch.messages.map(async (message) => {
        const { to, ...data } = message.body.data as { to?: string[] } & Record<string, unknown>;
        if (Array.isArray(to)) {
          const body = JSON.stringify({ event_type: message.body.type, event_id: message.body.id, timestamp: message.body.acceptedAt, ...data });
          stats.hops += to.length;
          await Promise.all(to.map((url) => env.HOP.get(env.HOP.idFromName(url)).deliver(url, body)));
        }
        message.ack();
        stats.acked++;
      }),
    );
  },
} satisfies ExportedHandler<Env, BareEvent>;
