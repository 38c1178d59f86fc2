// Ordering by key and no ordering (docs/ordering.md): several requests in flight for one webhook, never two of
// one key, per-key order of acceptance, at most 6 requests out from any one object, and the rules for config
// changes, retries and disables while requests are out.
import { abortAllDurableObjects } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { OUTCOME_GROUP_SIZE } from "../../src/delivery/lane/store";
import { MAX_OUTGOING_PER_OBJECT } from "../../src/delivery/ordering";
import { call, createWebhook, createWorkspace, eventually } from "../support/helpers";
import { lane } from "../support/lane";
import { page, signIn } from "../support/pages";
import {
  byKey,
  bodyOf,
  driveUntil,
  firstArrivalsInOrder,
  inAcceptanceOrder,
  outgoingPeaks,
  overlapping,
  successesOf,
} from "../support/parallel";
import { endpoint, type Behaviour } from "../support/receiver";

const contactOf = (r: { body: string }) => JSON.stringify((JSON.parse(r.body) as { contact?: { id?: unknown } }).contact?.id ?? null);

async function sendBatch(key: string, data: Record<string, unknown>[]) {
  const res = await call("POST", "/v1/events/batch", { key, body: { events: data.map((d) => ({ type: "message.received", data: d })) } });
  expect(res.status).toBe(202);
  return res.json.ids as string[];
}

async function setup(webhook: Record<string, unknown>, fallback: Behaviour, script: Behaviour[] = []) {
  const ws = await createWorkspace();
  const ep = endpoint();
  await ep.program({ script, fallback });
  const hook = await createWebhook(ws.apiKey, { url: ep.url, events: ["message.received"], ...webhook });
  return { ws, ep, hook };
}

describe("ordering settings", () => {
  it("defaults to endpoint with one in flight, and key or none to 10", async () => {
    const ws = await createWorkspace();
    expect(await createWebhook(ws.apiKey)).toMatchObject({ ordering: "endpoint", orderingKey: null, maxInFlight: 1 });
    expect(await createWebhook(ws.apiKey, { ordering: "key", orderingKey: "contact.id" })).toMatchObject({
      ordering: "key",
      orderingKey: "contact.id",
      maxInFlight: 10,
    });
    const none = await createWebhook(ws.apiKey, { ordering: "none", maxInFlight: 50 });
    expect(none).toMatchObject({ ordering: "none", orderingKey: null, maxInFlight: 50 });
    // Back to endpoint: maxInFlight follows the ordering's default; to key: the path is required.
    const back = await call("PATCH", `/v1/webhooks/${none.id}`, { key: ws.apiKey, body: { ordering: "endpoint" } });
    expect(back.json).toMatchObject({ ordering: "endpoint", orderingKey: null, maxInFlight: 1 });
    const keyed = await call("PATCH", `/v1/webhooks/${none.id}`, {
      key: ws.apiKey,
      body: { ordering: "key", orderingKey: "conversation.id" },
    });
    expect(keyed.json).toMatchObject({ ordering: "key", orderingKey: "conversation.id", maxInFlight: 10 });
    // Leaving key drops the path; a maxInFlight alone keeps the ordering.
    const more = await call("PATCH", `/v1/webhooks/${none.id}`, { key: ws.apiKey, body: { maxInFlight: 20 } });
    expect(more.json).toMatchObject({ ordering: "key", orderingKey: "conversation.id", maxInFlight: 20 });
    const unordered = await call("PATCH", `/v1/webhooks/${none.id}`, { key: ws.apiKey, body: { ordering: "none" } });
    expect(unordered.json).toMatchObject({ ordering: "none", orderingKey: null, maxInFlight: 10 });
    expect((await call("GET", `/v1/webhooks/${none.id}`, { key: ws.apiKey })).json).toMatchObject({ ordering: "none", maxInFlight: 10 });
  });

  it.each([
    ["key without a path", { ordering: "key" }, "ordering_key_required", "orderingKey"],
    ["a path with endpoint", { orderingKey: "contact.id" }, "ordering_key_not_allowed", "orderingKey"],
    ["a path with none", { ordering: "none", orderingKey: "contact.id" }, "ordering_key_not_allowed", "orderingKey"],
    ["more than one in flight with endpoint", { maxInFlight: 2 }, "invalid_max_in_flight", "maxInFlight"],
    ["51 in flight", { ordering: "none", maxInFlight: 51 }, "invalid_max_in_flight", "maxInFlight"],
    ["0 in flight", { ordering: "none", maxInFlight: 0 }, "invalid_max_in_flight", "maxInFlight"],
    ["a fraction in flight", { ordering: "none", maxInFlight: 2.5 }, "invalid_max_in_flight", "maxInFlight"],
    ["an unknown ordering", { ordering: "fifo" }, "invalid_ordering", "ordering"],
    ["a path with an empty segment", { ordering: "key", orderingKey: "contact..id" }, "invalid_ordering_key", "orderingKey"],
  ])("refuses %s with 400 %s", async (_, body, code, param) => {
    const ws = await createWorkspace();
    const res = await call("POST", "/v1/webhooks", {
      key: ws.apiKey,
      body: { url: "https://receiver.example.com/hooks", events: ["message.received"], ...body },
    });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code, param });
  });

  it("refuses a PATCH that would leave key without a path, or endpoint with more than one in flight", async () => {
    const ws = await createWorkspace();
    const hook = await createWebhook(ws.apiKey);
    const noPath = await call("PATCH", `/v1/webhooks/${hook.id}`, { key: ws.apiKey, body: { ordering: "key" } });
    expect(noPath.json.error).toMatchObject({ code: "ordering_key_required", param: "orderingKey" });
    const wide = await call("PATCH", `/v1/webhooks/${hook.id}`, { key: ws.apiKey, body: { maxInFlight: 5 } });
    expect(wide.json.error).toMatchObject({ code: "invalid_max_in_flight", param: "maxInFlight" });
    const path = await call("PATCH", `/v1/webhooks/${hook.id}`, { key: ws.apiKey, body: { orderingKey: "contact.id" } });
    expect(path.json.error).toMatchObject({ code: "ordering_key_not_allowed", param: "orderingKey" });
    expect((await call("GET", `/v1/webhooks/${hook.id}`, { key: ws.apiKey })).json).toMatchObject({ ordering: "endpoint", maxInFlight: 1 });
  });
});

describe("ordering in the settings form", () => {
  it("sets ordering by key in the Advanced section, shows the API's message for a missing key, and goes back to the default", async () => {
    const ws = await createWorkspace();
    const cookie = await signIn(ws.apiKey);
    const blank = await page("GET", "/settings/integrations/webhooks/new", { cookie });
    // The default ordering keeps the section closed.
    expect(blank.html).toMatch(/<details class="advanced">/);
    expect(blank.html).toContain('id="ordering"');
    const base = { url: "https://crm.example.com/a", events: ["message.received"], description: "" };
    const noKey = await page("POST", "/settings/integrations/webhooks", { cookie, form: { ...base, ordering: "key" } });
    expect(noKey.status).toBe(400);
    expect(noKey.html).toMatch(/id="orderingKey-error">.*required with ordering/s);
    const created = await page("POST", "/settings/integrations/webhooks", {
      cookie,
      form: { ...base, ordering: "key", orderingKey: "contact.id", maxInFlight: "20" },
    });
    expect(created.status).toBe(201);
    const [hook] = (await call("GET", "/v1/webhooks", { key: ws.apiKey })).json.data;
    expect(hook).toMatchObject({ ordering: "key", orderingKey: "contact.id", maxInFlight: 20 });
    const edit = await page("GET", `/settings/integrations/webhooks/${hook.id}/edit`, { cookie });
    expect(edit.html).toMatch(/<details class="advanced" open="">/);
    expect(edit.html).toMatch(/<option value="key" selected="">/);
    expect(edit.html).toContain('value="contact.id"');
    const back = await page("POST", `/settings/integrations/webhooks/${hook.id}`, { cookie, form: { ...base, orderingKey: "contact.id" } });
    expect(back.status).toBe(303);
    expect((await call("GET", `/v1/webhooks/${hook.id}`, { key: ws.apiKey })).json).toMatchObject({
      ordering: "endpoint",
      orderingKey: null,
      maxInFlight: 1,
    });
  });
});

describe("ordering by key", () => {
  it("keeps up to maxInFlight requests out, never two of one key, each key in order, at most 6 from any object", async () => {
    const { ws, ep, hook } = await setup(
      { ordering: "key", orderingKey: "contact.id", maxInFlight: 20 },
      { status: 200, randomDelayMs: [40, 80] },
    );
    // 30 contacts (and some events with no contact, which share one key), 3 events each.
    const data = Array.from({ length: 100 }, (_, i) => (i % 10 === 9 ? { i } : { i, contact: { id: `c${i % 30}` } }));
    const ids = await sendBatch(ws.apiKey, data);
    const got = await ep.waitFor(ids.length, 60_000);
    const { peakOpen } = await ep.report();
    expect(peakOpen).toBeLessThanOrEqual(20);
    // Parallel, and more than one object can keep out on its own.
    expect(peakOpen).toBeGreaterThan(MAX_OUTGOING_PER_OBJECT);
    const peaks = await outgoingPeaks(hook.id);
    expect(Math.max(...peaks)).toBeLessThanOrEqual(MAX_OUTGOING_PER_OBJECT);
    expect(peaks.filter((p) => p > 0).length).toBeGreaterThan(1);
    expect([...successesOf(got).values()].every((n) => n === 1)).toBe(true);
    expect(successesOf(got).size).toBe(ids.length);
    for (const [key, group] of byKey(got, contactOf)) {
      expect(overlapping(group), key).toBeNull();
      expect(inAcceptanceOrder(group, ids), key).toBe(true);
    }
  });

  it("holds only the failing key's later events while it waits for a retry (and its Retry-After)", async () => {
    const { ws, ep, hook } = await setup(
      { ordering: "key", orderingKey: "contact.id", maxInFlight: 4, retryDelaysSeconds: [30, 30] },
      { status: 200 },
      [{ status: 500 }],
    );
    // The first request (a's first event) fails; a's next events wait for it, b's and c's go on.
    const ids = await sendBatch(ws.apiKey, [
      { contact: { id: "a" } },
      { contact: { id: "b" } },
      { contact: { id: "a" } },
      { contact: { id: "c" } },
      { contact: { id: "b" } },
      { contact: { id: "a" } },
    ]);
    const first = await ep.waitFor(3);
    await eventually(async () => (await ep.requests()).length === 4);
    expect(bodyOf(first[0]!).event_id).toBe(ids[0]);
    const before = (await ep.requests()).map((r) => bodyOf(r).event_id);
    expect(new Set(before)).toEqual(new Set([ids[0], ids[1], ids[3], ids[4]]));
    // Its retry answers 429 with a Retry-After; after that one, a's events go in order.
    await ep.program({ script: [{ status: 429, headers: { "retry-after": "45" } }], fallback: { status: 200 } });
    const state = await driveUntil(hook.id, (s) => s.events.every((e) => e.status === "delivered"));
    const retried = state.attempts.filter((a) => a.event_id === ids[0]);
    expect(retried.map((a) => a.status_code)).toEqual([500, 429, 200]);
    // The Retry-After (45 s) beat the schedule's 30 s.
    expect(state.events.find((e) => e.id === ids[0])!.attempt_count).toBe(3);
    const got = await ep.requests();
    const a = byKey(got, contactOf).get('"a"')!;
    expect(a.map((r) => bodyOf(r).event_id)).toEqual([ids[0], ids[0], ids[0], ids[2], ids[5]]);
  });

  it("lets events accepted after a change of the key path start only once the earlier ones have finished", async () => {
    const { ws, ep, hook } = await setup(
      { ordering: "key", orderingKey: "contact.id", maxInFlight: 6 },
      { status: 200, randomDelayMs: [20, 60] },
    );
    const early = await sendBatch(
      ws.apiKey,
      Array.from({ length: 24 }, (_, i) => ({ i, contact: { id: `c${i % 4}` }, conversation: { id: `v${i % 3}` } })),
    );
    await ep.waitFor(2);
    const patched = await call("PATCH", `/v1/webhooks/${hook.id}`, {
      key: ws.apiKey,
      body: { orderingKey: "conversation.id", maxInFlight: 10 },
    });
    expect(patched.status).toBe(200);
    const late = await sendBatch(
      ws.apiKey,
      Array.from({ length: 24 }, (_, i) => ({ i: 100 + i, contact: { id: `c${i % 4}` }, conversation: { id: `v${i % 3}` } })),
    );
    const got = await ep.waitFor(48, 60_000);
    const earlyRequests = got.filter((r) => early.includes(bodyOf(r).event_id));
    const lateRequests = got.filter((r) => late.includes(bodyOf(r).event_id));
    const lastEarlyAnswer = Math.max(...earlyRequests.map((r) => r.answeredHr ?? Infinity));
    expect(Math.min(...lateRequests.map((r) => r.arrivedHr))).toBeGreaterThanOrEqual(lastEarlyAnswer);
    for (const group of byKey(earlyRequests, contactOf).values()) expect(inAcceptanceOrder(group, early)).toBe(true);
    const conversationOf = (r: { body: string }) => JSON.stringify(JSON.parse(r.body).conversation.id);
    for (const group of byKey(lateRequests, conversationOf).values()) {
      expect(overlapping(group)).toBeNull();
      expect(inAcceptanceOrder(group, late)).toBe(true);
    }
    expect(successesOf(got).size).toBe(48);
    await driveUntil(hook.id, (s) => s.events.every((e) => e.status === "delivered"));
  });

  it("moves a backlog from endpoint to key and back without any event overtaking an earlier one of its key", async () => {
    const { ws, ep, hook } = await setup({}, { status: 200, randomDelayMs: [10, 30] });
    const first = await sendBatch(
      ws.apiKey,
      Array.from({ length: 12 }, (_, i) => ({ i, contact: { id: `c${i % 3}` } })),
    );
    await ep.waitFor(1);
    await call("PATCH", `/v1/webhooks/${hook.id}`, { key: ws.apiKey, body: { ordering: "key", orderingKey: "contact.id" } });
    const second = await sendBatch(
      ws.apiKey,
      Array.from({ length: 12 }, (_, i) => ({ i: 50 + i, contact: { id: `c${i % 3}` } })),
    );
    await ep.waitFor(14);
    await call("PATCH", `/v1/webhooks/${hook.id}`, { key: ws.apiKey, body: { ordering: "endpoint" } });
    const third = await sendBatch(
      ws.apiKey,
      Array.from({ length: 6 }, (_, i) => ({ i: 90 + i, contact: { id: `c${i % 3}` } })),
    );
    const got = await ep.waitFor(30, 60_000);
    const accepted = [...first, ...second, ...third];
    for (const group of byKey(got, contactOf).values()) {
      expect(overlapping(group)).toBeNull();
      expect(inAcceptanceOrder(group, accepted)).toBe(true);
    }
    expect(successesOf(got).size).toBe(30);
    await driveUntil(hook.id, (s) => s.events.every((e) => e.status === "delivered"));
  });

  it("loses nothing and keeps each key's order when the lane is killed with requests out", async () => {
    const { ws, ep, hook } = await setup(
      { ordering: "key", orderingKey: "contact.id", maxInFlight: 8 },
      { status: 200, randomDelayMs: [30, 120] },
    );
    const ids = await sendBatch(
      ws.apiKey,
      Array.from({ length: 40 }, (_, i) => ({ i, contact: { id: `c${i % 10}` } })),
    );
    await ep.waitFor(10, 30_000);
    await abortAllDurableObjects();
    await driveUntil(hook.id, (s) => s.events.length === 40 && s.events.every((e) => e.status === "delivered"));
    const got = await ep.requests();
    const successes = successesOf(got);
    expect(successes.size).toBe(40);
    // Delivered again at most: the attempts that were out (maxInFlight) and the successes not written yet.
    const repeats = [...successes.values()].reduce((sum, n) => sum + n - 1, 0);
    expect(repeats).toBeLessThanOrEqual(8 + OUTCOME_GROUP_SIZE - 1);
    // No event of a key arrived before an earlier one of its key had arrived.
    for (const group of byKey(got, contactOf).values()) expect(firstArrivalsInOrder(group, ids)).toBe(true);
  });
});

describe("no ordering", () => {
  it("sends each event as soon as it is stored, and a retrying event holds nothing back", async () => {
    const { ws, ep, hook } = await setup({ ordering: "none", maxInFlight: 10, retryDelaysSeconds: [30] }, { status: 200, delayMs: 30 }, [
      { status: 503 },
    ]);
    const ids = await sendBatch(
      ws.apiKey,
      Array.from({ length: 30 }, (_, i) => ({ i })),
    );
    const got = await ep.waitFor(30, 30_000);
    expect((await ep.report()).peakOpen).toBeLessThanOrEqual(10);
    // The first event failed and waits for its retry; the 29 others were delivered meanwhile.
    expect(successesOf(got).size).toBe(29);
    const state = await driveUntil(hook.id, (s) => s.events.every((e) => e.status === "delivered"));
    // No ordering window: each event was due the moment it was accepted (under key or endpoint, 1 s later).
    for (const e of state.events.filter((e) => e.attempt_count === 1)) expect(e.next_attempt_at).toBe(e.accepted_at);
    expect(successesOf(await ep.requests()).size).toBe(ids.length);
    expect(Math.max(...(await outgoingPeaks(hook.id)))).toBeLessThanOrEqual(MAX_OUTGOING_PER_OBJECT);
  });

  it("on disable starts nothing more; the attempts already out finish, are recorded and count", async () => {
    const { ws, ep, hook } = await setup({ ordering: "none", maxInFlight: 8 }, { status: 500, delayMs: 400 }, [
      ...Array.from({ length: 4 }, () => ({ status: 200, delayMs: 400 })),
    ]);
    await sendBatch(
      ws.apiKey,
      Array.from({ length: 20 }, (_, i) => ({ i })),
    );
    await ep.waitFor(8);
    const off = await call("POST", `/v1/webhooks/${hook.id}/disable`, { key: ws.apiKey });
    expect(off.status).toBe(200);
    const out = (await ep.requests()).length;
    expect(out).toBeLessThanOrEqual(8);
    await eventually(async () => (await lane(hook.id).outgoing()).attemptsOut === 0);
    await new Promise((r) => setTimeout(r, 500));
    // Nothing was started after the disable.
    expect((await ep.requests()).length).toBe(out);
    const log = await call("GET", `/v1/webhooks/${hook.id}/deliveries?limit=100`, { key: ws.apiKey });
    const records = log.json.data as { status: string; attempts: unknown[] }[];
    // Every attempt out was recorded: the four that succeeded as delivered, the failures kept skipped (for recover).
    expect(records.filter((r) => r.status === "delivered").length).toBe(4);
    expect(records.reduce((sum, r) => sum + r.attempts.length, 0)).toBe(out);
    expect(records.filter((r) => r.status === "skipped").length).toBe(16);
    const quota = await call("GET", "/v1/quota", { key: ws.apiKey });
    expect(quota.json.failures).toBe(out - 4);
  });
});
