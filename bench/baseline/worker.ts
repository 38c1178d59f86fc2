// The platform's floor, for the benchmark to hold the service against: the least a Worker on the same
// runtime can do for each figure. No auth, no D1, no signing, no storage.
//   POST /v1/events  parse the JSON, check its shape, queue.send            (ingestion floor)
//   POST /v1/events/limited  the same after one call of a Rate Limiting binding keyed by the caller's
//                    Authorization (like for like: the service must ask its limiter on every request, and
//                    locally that binding is a simulation: a JSON fetch to a Durable Object per call)
//   consumer         for an event carrying `data.to`, one Durable Object per URL fetches it once
//                    (end-to-end and fan-out floor: Queue -> DO per endpoint -> fetch)
//   POST /loop       one Durable Object awaits fetch() n times in a row      (one lane's floor), or with
//                    extra "contract" also does the least per-attempt work the contract asks of a lane
import { DurableObject } from "cloudflare:workers";
import { Hono, type Context } from "hono";
import * as workers from "cloudflare:workers";

/** The runtime's tracing API (custom spans), as the service's src/lib/spans.ts finds it; absent in older workerd. */
const tracing = (
  workers as { tracing?: { enterSpan<T>(name: string, fn: (span: { setAttributes(a: Record<string, string>): void }) => T): T } }
).tracing;

interface Env {
  EVENTS: Queue<BareEvent>;
  HOP: DurableObjectNamespace<BareHop>;
  LIMITER: RateLimit;
}

/** One piece of the contract's per-attempt work, left out of BareHop.contractLoop to see what it costs. */
type ContractPiece = "store" | "signatures" | "span" | "seal";

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

  /**
   * n POSTs in a row to url, each waiting for the previous one: one lane's work with nothing else.
   * `extra` adds one piece of the real lane's per-attempt work, to see what each costs on its own:
   * "write" one SQLite row per attempt (so each fetch waits for the storage write to be confirmed, as a
   * lane's does), "sign" the two HMAC-SHA256 signatures a lane computes.
   */
  async loop(url: string, n: number, body: string, extra: "none" | "write" | "sign" = "none"): Promise<{ n: number; ms: number }> {
    const sql = this.ctx.storage.sql;
    if (extra === "write") sql.exec("CREATE TABLE IF NOT EXISTS sent (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL)");
    const key =
      extra === "sign"
        ? await crypto.subtle.importKey("raw", new TextEncoder().encode("whsec_bench"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"])
        : undefined;
    const started = Date.now();
    for (let i = 0; i < n; i++) {
      const payload = body.replace('"seq":0', `"seq":${i}`);
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

  /**
   * The same n POSTs in a row doing, at the least, the per-attempt work the contract asks of a lane (the floor
   * `laneContractRatio` holds the lane against, as ingestion is held against a floor that also calls the Rate
   * Limiting binding): each event stored on arrival (rows of 100, as a lane stores a queue batch); each attempt
   * signed three ways (`v1` and `x-webhook-signature` HMAC-SHA256, `v1a` Ed25519 over `id.timestamp.body`), sent
   * with a new traceparent (the contract) inside the tracing span the service opens per attempt (its operators'), its headers as sent sealed with AES-256-GCM;
   * outcomes written to their events' rows in groups of 15, each while the next request is out (one transaction
   * each, what the lane's crash bound allows). No retries, no ordering state, no log reads: the least any
   * implementation of the contract does. `without` leaves one piece out, to see what each costs on its own.
   */
  async contractLoop(url: string, n: number, body: string, without: ContractPiece | null = null): Promise<{ n: number; ms: number }> {
    const sql = this.ctx.storage.sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, status TEXT NOT NULL,
      status_code INTEGER, last_headers TEXT, body TEXT NOT NULL)`);
    const encoder = new TextEncoder();
    const [standardKey, respondIoKey, aesKey, edKeys] = await Promise.all([
      crypto.subtle.importKey("raw", crypto.getRandomValues(new Uint8Array(24)), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]),
      crypto.subtle.importKey("raw", encoder.encode("whsec_bench"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]),
      crypto.subtle.importKey("raw", crypto.getRandomValues(new Uint8Array(32)), "AES-GCM", false, ["encrypt"]),
      crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]) as Promise<CryptoKeyPair>,
    ]);
    const payloads = Array.from({ length: n }, (_, i) => body.replace('"seq":0', `"seq":${i}`));
    const started = Date.now();
    for (let i = 0; i < n && without !== "store"; i += 100) {
      const rows = payloads.slice(i, i + 100).map((payload, j) => [i + j, `evt_${i + j}`, payload]);
      sql.exec(
        "INSERT INTO events (seq, id, status, body) SELECT value ->> 0, value ->> 1, 'pending', value ->> 2 FROM json_each(?)",
        JSON.stringify(rows),
      );
    }
    let group: [number, number, string][] = [];
    for (let i = 0; i < n; i++) {
      const payload = payloads[i]!;
      const id = `evt_${i}`;
      const timestamp = Math.floor(Date.now() / 1000);
      const content = encoder.encode(`${id}.${timestamp}.${payload}`);
      const [v1, respondIo, v1a] =
        without === "signatures"
          ? [new ArrayBuffer(32), new ArrayBuffer(32), new ArrayBuffer(64)]
          : await Promise.all([
              crypto.subtle.sign("HMAC", standardKey, content),
              crypto.subtle.sign("HMAC", respondIoKey, encoder.encode(payload)),
              crypto.subtle.sign("Ed25519", edKeys.privateKey, content),
            ]);
      const traceparent = `00-${crypto.getRandomValues(new Uint8Array(16)).toHex()}-${crypto.getRandomValues(new Uint8Array(8)).toHex()}-01`;
      const headers: Record<string, string> = {
        "content-type": "application/json",
        "user-agent": "EdgeWebhooks/1.0 (+https://github.com/edge-webhooks)",
        "webhook-id": id,
        "webhook-timestamp": String(timestamp),
        "webhook-signature": `v1,${new Uint8Array(v1).toBase64()} v1a,${new Uint8Array(v1a).toBase64()}`,
        "x-webhook-signature": new Uint8Array(respondIo).toBase64(),
        traceparent,
      };
      // A full group is written while this request is out (a timer: it runs once the request has left), as the
      // lane does, so the commit does not hold the next request back.
      const full = group.length >= 15 && without !== "store" ? group : null;
      if (full) group = [];
      const send = async () => {
        const response = fetch(url, { method: "POST", body: payload, headers, redirect: "manual", signal: AbortSignal.timeout(30_000) });
        if (full) setTimeout(() => this.writeGroup(full), 0);
        const answer = await response;
        await answer.arrayBuffer();
        return answer.status;
      };
      const status =
        tracing && without !== "span"
          ? await tracing.enterSpan("webhook attempt", (span) => {
              span.setAttributes({
                "webhooks.trace_id": traceparent.slice(3, 35),
                "webhooks.span_id": traceparent.slice(36, 52),
                "webhooks.event_id": id,
                "webhooks.webhook_id": "bench",
              });
              return send();
            })
          : await send();
      if (without === "seal") group.push([i, status, JSON.stringify(headers)]);
      else {
        const iv = crypto.getRandomValues(new Uint8Array(12));
        const sealed = new Uint8Array(
          await crypto.subtle.encrypt({ name: "AES-GCM", iv }, aesKey, encoder.encode(JSON.stringify(headers))),
        );
        group.push([i, status, `enc:v1:k1:${iv.toBase64()}${sealed.toBase64()}`]);
      }
      if (without === "store" && group.length >= 15) group = [];
    }
    if (without !== "store") this.writeGroup(group);
    return { n, ms: Date.now() - started };
  }

  /** The outcomes of a group of attempts written to their events' rows, in one transaction. */
  private writeGroup(group: [number, number, string][]): void {
    const written = JSON.stringify(group);
    this.ctx.storage.transactionSync(() =>
      this.ctx.storage.sql.exec(
        `UPDATE events SET status = 'delivered', status_code = g.value ->> 1, last_headers = g.value ->> 2
         FROM json_each(?) AS g WHERE events.seq = g.value ->> 0`,
        written,
      ),
    );
  }
}

const app = new Hono<{ Bindings: Env }>();

const accept = async (c: Context<{ Bindings: Env }>) => {
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
};

app.post("/v1/events", accept);
app.post("/v1/events/limited", async (c) => {
  const { success } = await c.env.LIMITER.limit({ key: c.req.header("authorization") ?? "" });
  if (!success) return c.json({ error: { code: "rate_limited", message: "over the limit" } }, 429);
  return accept(c);
});

app.post("/loop", async (c) => {
  const { url, n, body, extra, without } = await c.req.json<{
    url: string;
    n: number;
    body: string;
    extra?: "none" | "write" | "sign" | "contract";
    without?: ContractPiece;
  }>();
  // The contract loop in an object of its own each time: each attempt's AbortSignal.timeout lives its 30 s, and an
  // object holds at most 10,000 active timeouts (the lane's alarm runs stay far below it: 500 attempts at most).
  const name = extra === "contract" ? `loop-contract-${without ?? "all"}-${crypto.randomUUID()}` : `loop-${extra ?? "none"}`;
  const hop = c.env.HOP.get(c.env.HOP.idFromName(name));
  return c.json(extra === "contract" ? await hop.contractLoop(url, n, body, without ?? null) : await hop.loop(url, n, body, extra));
});

app.get("/stats", (c) => c.json(stats));
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
          const body = JSON.stringify({
            event_type: message.body.type,
            event_id: message.body.id,
            timestamp: message.body.acceptedAt,
            ...data,
          });
          stats.hops += to.length;
          await Promise.all(to.map((url) => env.HOP.get(env.HOP.idFromName(url)).deliver(url, body)));
        }
        message.ack();
        stats.acked++;
      }),
    );
  },
} satisfies ExportedHandler<Env, BareEvent>;
