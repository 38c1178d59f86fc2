// Polling webhooks: a consumer reads the webhook's stream in order with a cursor that acknowledges what came
// before it (at-least-once), by the workspace's key or the webhook's own poll token, with an optional long poll.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { laneOf } from "../../src/bindings";
import { readConfig, retentionMs } from "../../src/config";
import { laneConfigOf } from "../../src/delivery/lane-config";
import type { EndpointLane } from "../../src/delivery/lane/endpoint-lane";
import { ulid } from "ulidx";
import { toQueuedEvent } from "../../src/events/ingest";
import { call, createWorkspace, eventually } from "../support/helpers";
import { page, signIn } from "../support/pages";
import { recordObjectRequests } from "../support/recording-namespaces";

const ORDERING_WINDOW_MS = readConfig(env).orderingWindowMs;

async function pollWebhook(key: string, body: Record<string, unknown> = {}) {
  const res = await call("POST", "/v1/webhooks", {
    key,
    body: { delivery: "poll", events: ["contact.updated", "message.received"], ...body },
  });
  expect(res.status).toBe(201);
  return res.json as { id: string; pollToken: string; url: null; delivery: "poll" };
}

/** Sends `n` events through the API (batches of 100) and returns their ids in acceptance order. */
async function sendMany(key: string, n: number, from = 0): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < n; start += 100) {
    const events = Array.from({ length: Math.min(100, n - start) }, (_, i) => ({ type: "contact.updated", data: { n: from + start + i } }));
    const res = await call("POST", "/v1/events/batch", { key, body: { events } });
    expect(res.status).toBe(202);
    ids.push(...(res.json.ids as string[]));
  }
  return ids;
}

async function poll(id: string, token: string, query: { cursor?: string | null; limit?: number; wait?: number } = {}) {
  const params = new URLSearchParams();
  if (query.cursor) params.set("cursor", query.cursor);
  if (query.limit !== undefined) params.set("limit", String(query.limit));
  if (query.wait !== undefined) params.set("wait", String(query.wait));
  const res = await call("GET", `/v1/webhooks/${id}/poll?${params}`, { key: token });
  expect(res.status, res.text).toBe(200);
  return res.json as { data: { event_id: string; event_type: string; n?: number }[]; nextCursor: string | null; done: boolean };
}

/** Waits until the webhook's lane holds `n` events. */
async function stored(key: string, id: string, n: number) {
  await eventually(
    async () => {
      const res = await call("GET", `/v1/webhooks/${id}/deliveries?limit=100`, { key });
      return res.json.data.length >= Math.min(n, 100);
    },
    30_000,
    `${n} events stored`,
  );
  await eventually(
    async () =>
      (await runInDurableObject(
        laneOf(env.ENDPOINT_LANE, id, null),
        (_: EndpointLane, state) => state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM events").one().n,
      )) >= n,
    30_000,
    `${n} events stored`,
  );
}

/** A workspace with a polling webhook whose stream holds `n` events sent through the API, all readable. */
async function streamOf(n: number) {
  const ws = await createWorkspace();
  const wh = await pollWebhook(ws.apiKey);
  const sent = await sendMany(ws.apiKey, n);
  await stored(ws.apiKey, wh.id, n);
  await new Promise((r) => setTimeout(r, ORDERING_WINDOW_MS));
  return { ws, wh, sent };
}

/** Ends the lane's instance (as an eviction or a deploy would); the next call starts a new one from storage. */
async function restartLane(id: string) {
  const lane = laneOf(env.ENDPOINT_LANE, id, null);
  await runInDurableObject(lane, (_: EndpointLane, state) => state.abort("restart")).catch(() => {});
}

/** A seeded generator, so a failing run can be repeated. */
function random(seed: number) {
  return () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

describe("polling webhooks", () => {
  it("are created without a url and with a poll token shown once; a push webhook still needs its url", async () => {
    const ws = await createWorkspace();
    const wh = await pollWebhook(ws.apiKey);
    expect(wh).toMatchObject({ delivery: "poll", url: null, pollToken: expect.stringMatching(/^whpoll_[A-Za-z0-9_-]{32}$/) });
    const read = await call("GET", `/v1/webhooks/${wh.id}`, { key: ws.apiKey });
    expect(read.json).toMatchObject({ delivery: "poll", url: null });
    expect(read.json).not.toHaveProperty("pollToken");
    const withUrl = await call("POST", "/v1/webhooks", {
      key: ws.apiKey,
      body: { delivery: "poll", url: "https://x.example.com/h", events: ["contact.updated"] },
    });
    expect(withUrl).toMatchObject({ status: 400, json: { error: { code: "validation_failed", param: "url" } } });
    const noUrl = await call("POST", "/v1/webhooks", { key: ws.apiKey, body: { events: ["contact.updated"] } });
    expect(noUrl).toMatchObject({ status: 400, json: { error: { param: "url" } } });
    const patch = await call("PATCH", `/v1/webhooks/${wh.id}`, { key: ws.apiKey, body: { url: "https://x.example.com/h" } });
    expect(patch).toMatchObject({ status: 400, json: { error: { param: "url" } } });
    // Empty push-only fields, as the settings form sends them, are no change.
    const edit = await call("PATCH", `/v1/webhooks/${wh.id}`, {
      key: ws.apiKey,
      body: { url: "", rateLimitPerSecond: null, headers: {}, description: "CRM behind the firewall" },
    });
    expect(edit).toMatchObject({ status: 200, json: { delivery: "poll", url: null, description: "CRM behind the firewall" } });
    const push = await call("POST", "/v1/webhooks", {
      key: ws.apiKey,
      body: { url: "https://x.example.com/h", events: ["contact.updated"] },
    });
    expect(push.json).toMatchObject({ delivery: "push", url: "https://x.example.com/h" });
    expect(push.json).not.toHaveProperty("pollToken");
  });

  it("gives a consumer 1,000 events across pages and restarts (its own and the lane's), each in order, none lost, repeating only the page it did not acknowledge", async () => {
    const { ws, wh, sent } = await streamOf(1000);

    const next = random(27);
    const received: string[] = [];
    /** The cursor the consumer has saved (persisted after it processed a page), and how many events it acknowledges. */
    let saved: { cursor: string | null; count: number } = { cursor: null, count: 0 };
    /** How many events the stream holds as acknowledged: those before the last cursor read with. */
    let acknowledged = 0;
    let restarts = 0;
    for (let reads = 0; reads < 300; reads++) {
      // The lane restarts now and then too (its memory gone; storage is the truth).
      if (next() < 0.1) {
        await restartLane(wh.id);
        restarts++;
      }
      // A restart forgets nothing saved; sometimes the consumer lost even that and starts without a cursor.
      const lost = next() < 0.15;
      const page = await poll(wh.id, wh.pollToken, { cursor: lost ? null : saved.cursor, limit: 1 + Math.floor(next() * 150) });
      if (!lost) acknowledged = saved.count;
      // Each page is the stream in order from the first unacknowledged event: only what was not acknowledged comes again.
      const ids = page.data.map((e) => e.event_id);
      expect(ids).toEqual(sent.slice(acknowledged, acknowledged + ids.length));
      received.push(...ids);
      if (page.data.length === 0 && page.done) break;
      // Sometimes it crashed after processing this page, before saving its cursor.
      if (next() < 0.25) continue;
      saved = { cursor: page.nextCursor, count: acknowledged + ids.length };
    }
    const firstSeen = [...new Set(received)];
    expect(firstSeen).toEqual(sent);
    expect(received.length).toBeGreaterThan(sent.length);
    expect(restarts).toBeGreaterThan(0);

    // The read without a cursor after the end says done; the log has every event delivered.
    const end = await poll(wh.id, wh.pollToken, { cursor: saved.cursor });
    expect(end).toEqual({ data: [], nextCursor: saved.cursor, done: true });
    const delivered = await call("GET", `/v1/webhooks/${wh.id}/deliveries?status=delivered&limit=100`, { key: ws.apiKey });
    expect(delivered.json.data).toHaveLength(100);
    expect(await call("GET", `/v1/webhooks/${wh.id}/deliveries?status=pending`, { key: ws.apiKey })).toMatchObject({ json: { data: [] } });
  }, 120_000);

  it("returns the same page for the same cursor, and refuses a cursor it never gave out", async () => {
    const { ws, wh, sent } = await streamOf(5);
    const first = await poll(wh.id, ws.apiKey, { limit: 2 });
    expect(first.data.map((e) => e.event_id)).toEqual(sent.slice(0, 2));
    expect(first.done).toBe(false);
    const second = await poll(wh.id, ws.apiKey, { cursor: first.nextCursor, limit: 2 });
    expect(await poll(wh.id, ws.apiKey, { cursor: first.nextCursor, limit: 2 })).toEqual(second);
    expect(second.data.map((e) => e.event_id)).toEqual(sent.slice(2, 4));
    // The first two are acknowledged (delivered in the log), the rest still waiting.
    const log = await call("GET", `/v1/webhooks/${wh.id}/deliveries`, { key: ws.apiKey });
    expect(Object.fromEntries(log.json.data.map((d: { eventId: string; status: string }) => [d.eventId, d.status]))).toEqual(
      Object.fromEntries(sent.map((id, i) => [id, i < 2 ? "delivered" : "pending"])),
    );
    const bodies = second.data;
    expect(bodies[0]).toMatchObject({ event_type: "contact.updated", event_id: sent[2], n: 2, timestamp: expect.any(Number) });

    const forged = new TextEncoder().encode("ZZZZZZZZZZZZZZZZZZZZZZZZZZ").toBase64({ alphabet: "base64url", omitPadding: true });
    const bad = await call("GET", `/v1/webhooks/${wh.id}/poll?cursor=${forged}`, { key: ws.apiKey });
    expect(bad).toMatchObject({ status: 400, json: { error: { code: "invalid_cursor", param: "cursor" } } });
    for (const query of ["limit=0", "limit=251", "wait=31", "cursor=%%%"]) {
      expect((await call("GET", `/v1/webhooks/${wh.id}/poll?${query}`, { key: ws.apiKey })).status).toBe(400);
    }
    // A push webhook has no stream.
    const push = await call("POST", "/v1/webhooks", {
      key: ws.apiKey,
      body: { url: "https://x.example.com/h", events: ["contact.updated"] },
    });
    expect((await call("GET", `/v1/webhooks/${push.json.id}/poll`, { key: ws.apiKey })).status).toBe(404);
  });

  it("lets a poll token read its own webhook's stream and refuses it on every other route", async () => {
    const ws = await createWorkspace();
    const wh = await pollWebhook(ws.apiKey);
    const other = await pollWebhook(ws.apiKey);
    expect((await call("GET", `/v1/webhooks/${wh.id}/poll`, { key: wh.pollToken })).status).toBe(200);
    expect((await call("GET", `/v1/webhooks/${other.id}/poll`, { key: wh.pollToken })).status).toBe(403);

    const { json: doc } = await call("GET", "/openapi.json");
    let checked = 0;
    for (const [path, operations] of Object.entries(doc.paths as Record<string, Record<string, { security?: unknown[] }>>)) {
      for (const [method, operation] of Object.entries(operations)) {
        // Public routes (no security, or an empty list like the JWKS) take no key at all.
        if (!operation.security?.length || path === "/v1/webhooks/{id}/poll") continue;
        const url = path.replace("{id}", wh.id).replace("{eventId}", "evt_x").replace("{keyId}", "key_x");
        const res = await call(method.toUpperCase(), url, {
          key: wh.pollToken,
          body: ["post", "patch", "put"].includes(method) ? {} : undefined,
        });
        expect([401, 403], `${method} ${path}`).toContain(res.status);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
    // Nothing changed: the webhook is there, enabled.
    expect((await call("GET", `/v1/webhooks/${wh.id}`, { key: ws.apiKey })).json).toMatchObject({ enabled: true });

    // rotate-secret gives a new token; the old one stops at once.
    const rotated = await call("POST", `/v1/webhooks/${wh.id}/rotate-secret`, { key: ws.apiKey });
    expect(rotated.json.pollToken).toMatch(/^whpoll_/);
    expect((await call("GET", `/v1/webhooks/${wh.id}/poll`, { key: wh.pollToken })).status).toBe(401);
    expect((await call("GET", `/v1/webhooks/${wh.id}/poll`, { key: rotated.json.pollToken })).status).toBe(200);
  });

  it("answers a long poll within ~100 ms of an event becoming readable, with no alarm while idle", async () => {
    const ws = await createWorkspace();
    const wh = await pollWebhook(ws.apiKey);
    const lane = laneOf(env.ENDPOINT_LANE, wh.id, null);
    // An empty long poll that ends by its deadline.
    const t0 = Date.now();
    expect(await poll(wh.id, wh.pollToken, { wait: 1 })).toEqual({ data: [], nextCursor: null, done: true });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);

    const waiting = poll(wh.id, wh.pollToken, { wait: 10 });
    await new Promise((r) => setTimeout(r, 300));
    // While it waits, the lane has no alarm armed: nothing wakes it but the next event.
    expect(await runInDurableObject(lane, (_: EndpointLane, state) => state.storage.getAlarm())).toBeNull();
    const config = laneConfigOf(await fetchRow(wh.id));
    // As the queue consumer hands it over, already past its ordering window: readable at once.
    const event = await toQueuedEvent(ws.id, { type: "contact.updated", data: { late: false } }, Date.now() - ORDERING_WINDOW_MS);
    const handedAt = Date.now();
    await lane.enqueue(config, [event]);
    const page = await waiting;
    const latency = Date.now() - handedAt;
    expect(page.data.map((e) => e.event_id)).toEqual([event.id]);
    expect(latency).toBeLessThan(150);

    // One inside its ordering window is answered when the window ends, not before (a push lane would wait as long).
    const cursor = page.nextCursor;
    const later = poll(wh.id, wh.pollToken, { cursor, wait: 10 });
    await new Promise((r) => setTimeout(r, 100));
    const fresh = await toQueuedEvent(ws.id, { type: "contact.updated", data: { late: false } }, Date.now());
    await lane.enqueue(config, [fresh]);
    const second = await later;
    const after = Date.now() - (fresh.acceptedAt + ORDERING_WINDOW_MS);
    expect(second.data.map((e) => e.event_id)).toEqual([fresh.id]);
    expect(after).toBeGreaterThanOrEqual(0);
    expect(after).toBeLessThan(150);
    // The one alarm it has now is retention's, for the acknowledged event: RETENTION_DAYS away.
    const alarm = await runInDurableObject(lane, (_: EndpointLane, state) => state.storage.getAlarm());
    expect(alarm).toBeGreaterThan(Date.now() + retentionMs(readConfig(env)) - 60_000);
  });

  it('makes an event readable as soon as it is stored under ordering "none": a long poll answers with no ordering window', async () => {
    const ws = await createWorkspace();
    const wh = await pollWebhook(ws.apiKey, { ordering: "none" });
    const lane = laneOf(env.ENDPOINT_LANE, wh.id, null);
    const config = laneConfigOf(await fetchRow(wh.id));
    const waiting = poll(wh.id, wh.pollToken, { wait: 10 });
    await new Promise((r) => setTimeout(r, 100));
    // Accepted this instant: under "endpoint" it would wait ORDERING_WINDOW_MS; here nothing holds it.
    const fresh = await toQueuedEvent(ws.id, { type: "contact.updated", data: { n: 1 } }, Date.now());
    await lane.enqueue(config, [fresh]);
    const page = await waiting;
    expect(page.data.map((e) => e.event_id)).toEqual([fresh.id]);
    expect(Date.now() - fresh.acceptedAt).toBeLessThan(ORDERING_WINDOW_MS);
    // Reading on acknowledges it, as under any ordering.
    expect(await poll(wh.id, wh.pollToken, { cursor: page.nextCursor })).toMatchObject({ data: [], done: true });
  });

  it("puts an event handed over after its ordering window behind what was already read, never before the cursor", async () => {
    const ws = await createWorkspace();
    const wh = await pollWebhook(ws.apiKey);
    const lane = laneOf(env.ENDPOINT_LANE, wh.id, null);
    const config = laneConfigOf(await fetchRow(wh.id));
    const past = Date.now() - 10 * ORDERING_WINDOW_MS;
    const first = await toQueuedEvent(ws.id, { type: "contact.updated", data: { n: 1 } }, past);
    await lane.enqueue(config, [first]);
    const page = await poll(wh.id, wh.pollToken);
    expect(page.data.map((e) => e.event_id)).toEqual([first.id]);
    // The queue hands over one accepted before it, long after its window: its order key sorts before the cursor.
    const late = { ...(await toQueuedEvent(ws.id, { type: "contact.updated", data: { n: 0 } }, past - 1000)), orderKey: ulid(past - 1000) };
    expect(late.orderKey < first.orderKey).toBe(true);
    await lane.enqueue(config, [late]);
    // Acknowledging the first page does not acknowledge it unseen: it is the next event in the stream.
    const next = await poll(wh.id, wh.pollToken, { cursor: page.nextCursor });
    expect(next.data.map((e) => e.event_id)).toEqual([late.id]);
    const log = await call("GET", `/v1/webhooks/${wh.id}/deliveries/${late.id}`, { key: ws.apiKey });
    expect(log.json.status).toBe("pending");
  });

  it("never touches the failure quota", async () => {
    const ws = await createWorkspace();
    const wh = await pollWebhook(ws.apiKey);
    const recording = recordObjectRequests();
    try {
      const sent = await sendMany(ws.apiKey, 20);
      await stored(ws.apiKey, wh.id, 20);
      await new Promise((r) => setTimeout(r, ORDERING_WINDOW_MS));
      const page = await poll(wh.id, wh.pollToken, { limit: 10 });
      await poll(wh.id, wh.pollToken, { cursor: page.nextCursor });
      expect(page.data.map((e) => e.event_id)).toEqual(sent.slice(0, 10));
      // The lane holds no alarm to attempt anything: only retention's, RETENTION_DAYS away.
      const alarm = await runInDurableObject(laneOf(env.ENDPOINT_LANE, wh.id, null), (_: EndpointLane, state) => state.storage.getAlarm());
      expect(alarm).toBeGreaterThan(Date.now() + retentionMs(readConfig(env)) - 60_000);
    } finally {
      recording.stop();
    }
    expect(recording.requests.filter((r) => r.name === wh.id).length).toBeGreaterThan(0);
    expect(recording.requests.filter((r) => r.name === ws.id)).toEqual([]);
  });

  it("puts recovered events back in the stream, in order, and test events in it too", async () => {
    const ws = await createWorkspace();
    const wh = await pollWebhook(ws.apiKey);
    const before = await sendMany(ws.apiKey, 3);
    await stored(ws.apiKey, wh.id, 3);
    const disabledAt = new Date(Date.now() - 60_000).toISOString();
    expect((await call("POST", `/v1/webhooks/${wh.id}/disable`, { key: ws.apiKey })).status).toBe(200);
    const whileOff = await sendMany(ws.apiKey, 3, 3);
    await stored(ws.apiKey, wh.id, 6);
    expect((await poll(wh.id, wh.pollToken)).data).toEqual([]);
    expect((await call("POST", `/v1/webhooks/${wh.id}/enable`, { key: ws.apiKey })).status).toBe(200);
    const after = await sendMany(ws.apiKey, 2, 6);
    await stored(ws.apiKey, wh.id, 8);
    const recovered = await call("POST", `/v1/webhooks/${wh.id}/recover`, { key: ws.apiKey, body: { since: disabledAt } });
    expect(recovered.json).toEqual({ recovered: 6 });
    const test = await call("POST", `/v1/webhooks/${wh.id}/test`, { key: ws.apiKey, body: { type: "message.received" } });
    expect(test.status).toBe(200);
    expect(test.json).toMatchObject({ test: true, status: "pending" });
    await new Promise((r) => setTimeout(r, ORDERING_WINDOW_MS));
    const page = await poll(wh.id, wh.pollToken, { limit: 250 });
    // What arrived after enabling first (its place in line), then the recovered ones in acceptance order, then the test event.
    expect(page.data.map((e) => e.event_id)).toEqual([...after, ...before, ...whileOff, test.json.eventId]);
    const position = await laneOf(env.ENDPOINT_LANE, wh.id, null).pollPosition();
    expect(position).toEqual({ acknowledgedAt: null, acknowledgedEventId: null, waiting: 9 });
    await poll(wh.id, wh.pollToken, { cursor: page.nextCursor });
    expect(await laneOf(env.ENDPOINT_LANE, wh.id, null).pollPosition()).toEqual({
      acknowledgedAt: expect.any(Number),
      acknowledgedEventId: test.json.eventId,
      waiting: 0,
    });
  });

  it("shows its consumer's position (last acknowledged, waiting) on the stats and the webhook's page instead of attempts", async () => {
    const { ws, wh, sent } = await streamOf(3);
    const first = await poll(wh.id, wh.pollToken, { limit: 1 });
    await poll(wh.id, wh.pollToken, { cursor: first.nextCursor, limit: 1 });
    const stats = await call("GET", `/v1/webhooks/${wh.id}/stats`, { key: ws.apiKey });
    expect(stats.json.position).toEqual({ acknowledgedAt: expect.any(String), acknowledgedEventId: sent[0], waiting: 2 });
    expect(stats.json.attempts).toBe(0);
    const html = (await page("GET", `/settings/integrations/webhooks/${wh.id}`, { cookie: await signIn(ws.apiKey) })).html;
    expect(html).toContain("Last acknowledged");
    expect(html).toContain(sent[0]);
    expect(html).toContain("2 events");
    expect(html).not.toContain("Success rate");
    const push = await call("POST", "/v1/webhooks", {
      key: ws.apiKey,
      body: { url: "https://x.example.com/h", events: ["contact.updated"] },
    });
    expect((await call("GET", `/v1/webhooks/${push.json.id}/stats`, { key: ws.apiKey })).json.position).toBeNull();
  });

  it("can be added on the settings pages, which show its poll token once and no URL field when editing", async () => {
    const ws = await createWorkspace();
    const cookie = await signIn(ws.apiKey);
    expect((await page("GET", "/settings/integrations/webhooks/new", { cookie })).html).toContain('name="delivery" value="poll"');
    const added = await page("POST", "/settings/integrations/webhooks", {
      cookie,
      form: { delivery: "poll", url: "", events: ["contact.updated"], description: "CRM on site" },
    });
    expect(added.status).toBe(201);
    const token = /value="(whpoll_[^"]+)"/.exec(added.html)?.[1];
    expect(token).toBeDefined();
    const [webhook] = (await call("GET", "/v1/webhooks", { key: ws.apiKey })).json.data;
    expect(webhook).toMatchObject({ delivery: "poll", url: null, description: "CRM on site" });
    expect((await call("GET", `/v1/webhooks/${webhook.id}/poll`, { key: token })).status).toBe(200);
    // Editing it shows no URL field, and saving changes only what it may.
    const edit = await page("GET", `/settings/integrations/webhooks/${webhook.id}/edit`, { cookie });
    expect(edit.html).toContain("Read by polling");
    expect(edit.html).not.toContain('id="url"');
    const saved = await page("POST", `/settings/integrations/webhooks/${webhook.id}`, {
      cookie,
      form: { events: ["contact.updated", "message.received"], description: "CRM" },
    });
    expect(saved.status).toBe(303);
    expect((await call("GET", `/v1/webhooks/${webhook.id}`, { key: ws.apiKey })).json).toMatchObject({
      delivery: "poll",
      events: ["contact.updated", "message.received"],
      description: "CRM",
    });
    // A rotation shows the new token once.
    const rotated = await page("POST", `/settings/integrations/webhooks/${webhook.id}/rotate-secret`, {
      cookie,
      form: { back: "/settings/integrations/webhooks" },
    });
    expect(rotated.html).toMatch(/id="poll-token"[^>]*value="whpoll_/);
    expect((await call("GET", `/v1/webhooks/${webhook.id}/poll`, { key: token })).status).toBe(401);
  });
});

async function fetchRow(id: string) {
  const { openDb } = await import("../../src/db/client");
  const { webhooks } = await import("../../src/db/schema");
  const { eq } = await import("drizzle-orm");
  const [row] = await openDb(env.DB).select().from(webhooks).where(eq(webhooks.id, id));
  return row!;
}
