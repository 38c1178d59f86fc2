// `npm run receiver -- --poll <id> --forward-to <url>` against a running Worker (`wrangler dev`): a polling webhook's
// 100 events reach a local app that fails some answers, each at least once, in order, exactly as a push delivery is
// signed (checked with the `standardwebhooks` library); the stream acknowledges only what the app accepted.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnCollecting, type Spawned } from "../support/node/process";
import { startWorker, type RunningWorker } from "../support/node/worker";

const ADMIN = "forward-to-admin-token-of-32-characters";
const SCRIPT = resolve(import.meta.dirname, "../../scripts/receiver.mjs");
const EVENTS = 100;
/** The event whose answers fail until the test lets them through: the forwarder is stuck on it meanwhile. */
const HELD = 57;

interface Arrival {
  id: string;
  body: string;
  verified: boolean;
  status: number | "dropped";
}

let worker: RunningWorker;
let dir: string;
let app: Server;
let forwarder: Spawned | undefined;

const readBody = (req: IncomingMessage) =>
  new Promise<string>((done) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => done(Buffer.concat(chunks).toString("utf8")));
  });

async function api(path: string, key: string, body?: unknown) {
  const res = await fetch(`${worker.url}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

async function until<T>(found: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = await found();
    if (hit) return hit;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${forwarder?.output().slice(-3000) ?? ""}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  worker = await startWorker({ ADMIN_TOKEN: ADMIN });
  dir = mkdtempSync(join(tmpdir(), "edge-webhooks-forward-"));
}, 120_000);
afterAll(async () => {
  await forwarder?.stop();
  await new Promise((done) => (app ? app.close(done) : done(undefined)));
  await worker?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("npm run receiver -- --poll --forward-to", () => {
  it("forwards 100 events in order, each verifiable with standardwebhooks, retrying failed answers; acknowledges only what the app accepted", async () => {
    const created = await fetch(`${worker.url}/v1/admin/workspaces`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "Forwarded" }),
    });
    const { apiKey } = (await created.json()) as { apiKey: string };
    const hook = await api("/v1/webhooks", apiKey, { delivery: "poll", events: ["message.received"] });
    expect(hook.status).toBe(201);
    // The create answer saved as a developer would: the token and the secret come from the same file.
    writeFileSync(join(dir, "wh.json"), JSON.stringify(hook.json));
    const verifier = new Webhook(hook.json.secret);

    // The local app: checks each request with the library; fails every 7th answer (500, or a dropped connection),
    // and every answer for the HELD-th event until released.
    const arrivals: Arrival[] = [];
    let release = false;
    app = createServer(async (req, res) => {
      const body = await readBody(req);
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      let verified = false;
      try {
        verifier.verify(body, headers);
        verified = true;
      } catch {}
      const id = headers["webhook-id"] ?? "";
      const n = arrivals.length;
      const held = ids.indexOf(id) === HELD - 1 && !release;
      const arrival: Arrival = { id, body, verified, status: 200 };
      arrivals.push(arrival);
      if (held || n % 7 === 3) arrival.status = 500;
      else if (n % 7 === 5 && n < 60) {
        arrival.status = "dropped";
        req.socket.destroy();
        return;
      }
      res.writeHead(arrival.status as number, { "content-type": "text/plain" }).end("ok");
    });
    await new Promise<void>((done) => app.listen(0, "127.0.0.1", done));
    const appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}/hooks`;

    const events = Array.from({ length: EVENTS }, (_, i) => ({ type: "message.received", data: { i } }));
    const sent = await api("/v1/events/batch", apiKey, { events });
    expect(sent.status).toBe(202);
    const ids = sent.json.ids as string[];

    forwarder = spawnCollecting(
      process.execPath,
      [
        SCRIPT,
        "--poll",
        hook.json.id,
        "--token-file",
        "wh.json",
        "--secret-file",
        "wh.json",
        "--forward-to",
        appUrl,
        "--api",
        worker.url,
        "--limit",
        "10",
        "--wait",
        "2",
      ],
      { env: { ...process.env, INIT_CWD: dir } },
    );

    // Stuck on the held event: everything in the pages before its page was acknowledged, nothing from its page on.
    await until(() => arrivals.filter((a) => a.id === ids[HELD - 1]).length >= 3, "three attempts of the held event");
    const log = async () => {
      const page = await fetch(`${worker.url}/v1/webhooks/${hook.json.id}/deliveries?limit=100`, {
        headers: { authorization: `Bearer ${apiKey}` },
      });
      const rows = ((await page.json()) as { data: { eventId: string; status: string }[] }).data;
      return new Map(rows.map((d) => [d.eventId, d.status]));
    };
    const stuck = await log();
    const pageStart = Math.floor((HELD - 1) / 10) * 10;
    expect(ids.slice(0, pageStart).every((id) => stuck.get(id) === "delivered")).toBe(true);
    expect(ids.slice(pageStart).every((id) => stuck.get(id) === "pending")).toBe(true);
    expect(arrivals.some((a) => ids.indexOf(a.id) >= HELD)).toBe(false);
    expect(forwarder.output()).toMatch(
      new RegExp(`message\\.received {2}${ids[HELD - 1]} {2}→ POST ${appUrl} {2}500 \\(\\d+ ms\\) attempt \\d+; retrying in \\d+ ms`),
    );

    // Released: the rest follows, and the last page is acknowledged by the next read.
    release = true;
    await until(async () => [...(await log()).values()].filter((s) => s === "delivered").length === EVENTS, "every event acknowledged");

    // Each event arrived at least once, in order: an event's first arrival comes only after the one before was accepted.
    const accepted = arrivals.filter((a) => a.status === 200);
    expect(accepted.map((a) => a.id)).toEqual(ids);
    let next = 0;
    for (const arrival of arrivals) {
      const index = ids.indexOf(arrival.id);
      expect(index).toBe(next);
      if (arrival.status === 200) next++;
    }
    expect(arrivals.length).toBeGreaterThan(EVENTS);
    // Exactly as a push delivery: verified by the library with the webhook's secret, the body the push would send.
    expect(arrivals.every((a) => a.verified)).toBe(true);
    accepted.forEach((a, i) => {
      // Byte for byte what src/delivery/payload.ts buildBody sends: the envelope, then the data's keys.
      expect(a.body).toBe(JSON.stringify({ event_type: "message.received", event_id: ids[i], timestamp: JSON.parse(a.body).timestamp, i }));
    });
    // One line per attempt: the accepted ones say 200.
    const lines = forwarder.output().split("\n");
    for (const id of ids) expect(lines.some((l) => l.includes(`  ${id}  → POST ${appUrl}  200 (`))).toBe(true);
  }, 180_000);
});
