// The platform's floor, for the benchmark to hold the service against: the least a Worker on the same
// runtime can do for each figure. No auth, no D1, no signing, no storage.
//   POST /v1/events  parse the JSON, check its shape, queue.send            (ingestion floor)
//   POST /v1/events/limited  the same after one call of a Rate Limiting binding keyed by the caller's
//                    Authorization (like for like: the service must ask its limiter on every request, and
//                    locally that binding is a simulation: a JSON fetch to a Durable Object per call)
//   consumer         for an event carrying `data.to`, one Durable Object per URL fetches it once
//                    (end-to-end and fan-out floor: Queue -> DO per endpoint -> fetch)
//   POST /loop       one Durable Object awaits fetch() n times in a row      (one lane's floor)
import { DurableObject } from "cloudflare:workers";
import { Hono, type Context } from "hono";

interface Env {
  EVENTS: Queue<BareEvent>;
  HOP: DurableObjectNamespace<BareHop>;
  LIMITER: RateLimit;
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
  const { url, n, body, extra } = await c.req.json<{ url: string; n: number; body: string; extra?: "none" | "write" | "sign" }>();
  const hop = c.env.HOP.get(c.env.HOP.idFromName(`loop-${extra ?? "none"}`));
  return c.json(await hop.loop(url, n, body, extra));
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
