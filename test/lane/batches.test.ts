// Ordered batches (docs/batches.md) against the real receiver: every request of a batching webhook is one body of
// {"events": [...]} in acceptance order, each element the exact body a single delivery carries, signed as the
// batch's own bat_ id; a failure fails every event in it and the batch is retried as one, counted once; order holds
// across batches, under "key" too; a crash mid-batch sends that batch again and loses nothing.
import { abortAllDurableObjects, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { MAX_BATCH_BYTES } from "../../src/delivery/lane/batches";
import { call, createWebhook, createWorkspace, eventually } from "../support/helpers";
import { lane, laneState, settledLane } from "../support/lane";
import { driveUntil } from "../support/parallel";
import { endpoint, eventIdsOf, type Behaviour, type RecordedRequest } from "../support/receiver";

const batchOf = (r: RecordedRequest) => JSON.parse(r.body) as { events: { event_id: string; contact?: { id?: string } }[] };
const idsIn = (r: RecordedRequest) => batchOf(r).events.map((e) => e.event_id);

async function sendEvents(key: string, data: Record<string, unknown>[]): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < data.length; i += 100) {
    const events = data.slice(i, i + 100).map((d) => ({ type: "message.received", data: d }));
    const res = await call("POST", "/v1/events/batch", { key, body: { events } });
    expect(res.status).toBe(202);
    ids.push(...(res.json.ids as string[]));
  }
  return ids;
}

async function setup(webhook: Record<string, unknown>, script: Behaviour[] = [], fallback: Behaviour = { status: 200 }) {
  const ws = await createWorkspace();
  const ep = endpoint();
  const hook = await createWebhook(ws.apiKey, { url: ep.url, events: ["message.received"], ...webhook });
  await ep.program({ script, fallback, secrets: [hook.secret] });
  return { ws, ep, hook };
}

describe("ordered batches", () => {
  it("sends a backlog in batches of at most maxEvents, in order, each element the exact single-delivery body, signed as the batch", async () => {
    const { ws, ep, hook } = await setup({ batch: { maxEvents: 50 } }, [{ status: 200, delayMs: 300 }]);
    // The same events to a webhook without batches: what a single delivery of each carries.
    const single = endpoint();
    await single.program({ fallback: { status: 200 } });
    await createWebhook(ws.apiKey, { url: single.url, events: ["message.received"] });
    const ids = await sendEvents(
      ws.apiKey,
      Array.from({ length: 160 }, (_, i) => ({ i })),
    );

    const got = await eventually(async () => {
      const requests = await ep.requests();
      return requests.flatMap(idsIn).length >= ids.length && requests;
    });
    expect(got.flatMap(idsIn)).toEqual(ids);
    expect(got.every((r) => batchOf(r).events.length <= 50)).toBe(true);
    // The backlog built while the first request was out fills the next ones.
    expect(got.length).toBeLessThanOrEqual(6);
    for (const r of got) {
      expect(r.headers["webhook-id"]).toMatch(/^bat_[0-9a-f]{32}$/);
      expect(r.standardValid).toBe(true);
      expect(r.respondIoValid).toBe(true);
      expect(r.headers["content-type"]).toBe("application/json");
    }
    expect(new Set(got.map((r) => r.headers["webhook-id"])).size).toBe(got.length);

    const singles = new Map((await single.waitFor(ids.length)).map((r) => [JSON.parse(r.body).event_id as string, r.body]));
    expect(got[0]!.body).toBe(
      `{"events":[${idsIn(got[0]!)
        .map((id) => singles.get(id))
        .join(",")}]}`,
    );

    const state = await settledLane(hook.id, (s) => s.events.every((e) => e.status === "delivered"));
    expect(state.events.map((e) => [e.id, e.attempt_count])).toEqual(ids.map((id) => [id, 1]));
  });

  it("fails every event of a failed batch, retries it as one with the same webhook-id, counts one failure, and holds what is behind it", async () => {
    const { ws, ep, hook } = await setup({ batch: { maxEvents: 10 } }, [{ status: 503, body: "down" }]);
    const first = await sendEvents(
      ws.apiKey,
      Array.from({ length: 5 }, (_, i) => ({ i })),
    );
    await ep.waitFor(1);
    const state = await settledLane(hook.id, (s) => s.events.length === 5 && s.events.every((e) => e.attempt_count === 1));
    const failedAt = state.events[0]!.next_attempt_at;
    // Every event of it failed, each to the same retry 30 s after the answer.
    expect(state.events.map((e) => [e.id, e.status, e.round_attempts, e.next_attempt_at])).toEqual(
      first.map((id) => [id, "pending", 1, failedAt]),
    );
    expect(state.alarm).toBe(failedAt);
    expect((await call("GET", "/v1/quota", { key: ws.apiKey })).json.failures).toBe(1);

    // Events accepted meanwhile wait behind the batch, and do not join its retry.
    const later = await sendEvents(
      ws.apiKey,
      Array.from({ length: 3 }, (_, i) => ({ later: i })),
    );
    await settledLane(hook.id, (s) => s.events.length === 8);
    expect(await ep.requests()).toHaveLength(1);
    expect(await runDurableObjectAlarm(lane(hook.id))).toBe(true);
    const got = await ep.waitFor(2);
    expect(idsIn(got[1]!)).toEqual(first);
    expect(got[1]!.headers["webhook-id"]).toBe(got[0]!.headers["webhook-id"]);
    // The retry's success lets the next batch start in the same run.
    await driveUntil(hook.id, (s) => s.events.every((e) => e.status === "delivered"));
    expect((await ep.requests()).map(idsIn)).toEqual([first, first, later]);

    const log = (await call("GET", `/v1/webhooks/${hook.id}/deliveries?limit=100`, { key: ws.apiKey })).json.data as {
      eventId: string;
      status: string;
      attempts: { statusCode: number | null }[];
    }[];
    const of = new Map(log.map((d) => [d.eventId, d]));
    for (const id of first) expect(of.get(id)).toMatchObject({ status: "delivered", attempts: [{ statusCode: 503 }, { statusCode: 200 }] });
    for (const id of later) expect(of.get(id)).toMatchObject({ status: "delivered", attempts: [{ statusCode: 200 }] });
    expect((await call("GET", "/v1/quota", { key: ws.apiKey })).json.failures).toBe(1);
  });

  it("delivers the batches before a failed one and holds the rest: a backlog with one batch failing in its middle", async () => {
    const { ws, ep, hook } = await setup({ batch: { maxEvents: 4 } }, [{ status: 200, delayMs: 300 }, { status: 200 }, { status: 400 }]);
    const ids = await sendEvents(
      ws.apiKey,
      Array.from({ length: 14 }, (_, i) => ({ i })),
    );
    await ep.waitFor(3);
    const state = await settledLane(hook.id, (s) => s.events.filter((e) => e.attempt_count > 0).length >= 9);
    const got = await ep.requests();
    expect(got).toHaveLength(3);
    const [one, two, three] = got.map(idsIn);
    expect([...one!, ...two!, ...three!]).toEqual(ids.slice(0, one!.length + two!.length + three!.length));
    const status = new Map(state.events.map((e) => [e.id, e.status]));
    for (const id of [...one!, ...two!]) expect(status.get(id)).toBe("delivered");
    for (const id of three!) expect(status.get(id)).toBe("pending");
    // Nothing behind the failed batch was sent: it waits for the batch's retry.
    for (const id of ids.slice(one!.length + two!.length + three!.length)) {
      expect(state.events.find((e) => e.id === id)).toMatchObject({ status: "pending", attempt_count: 0 });
    }
    const done = await driveUntil(hook.id, (s) => s.events.every((e) => e.status === "delivered"));
    expect(done.events).toHaveLength(ids.length);
    expect((await ep.requests()).slice(3).flatMap(idsIn)).toEqual(ids.slice(one!.length + two!.length));
  });

  it("sends a batch again after a crash while it is out: same events, same webhook-id, none lost, none out of order", async () => {
    const { ws, ep, hook } = await setup({ batch: { maxEvents: 10 } }, [{ status: 200 }, { status: 200, delayMs: 900 }]);
    const ids = await sendEvents(
      ws.apiKey,
      Array.from({ length: 25 }, (_, i) => ({ i })),
    );
    await ep.waitFor(2);
    await abortAllDurableObjects();
    // A new instance knows only its storage. The aborted run's alarm is retried by the runtime; run it now.
    const state = await driveUntil(hook.id, (s) => s.events.length === ids.length && s.events.every((e) => e.status === "delivered"));
    expect(state.events.map((e) => e.id)).toEqual(ids);
    const got = await ep.requests();
    const seen = got.flatMap(idsIn);
    // Every event arrived, in order once repeats are set aside; the only repeat is the batch that was out.
    expect([...new Set(seen)]).toEqual(ids);
    const repeated = got.filter((r, i) => got.findIndex((o) => o.headers["webhook-id"] === r.headers["webhook-id"]) !== i);
    // The first batch's outcome was written before the second went out; the second's was lost with the instance.
    expect(repeated).toHaveLength(1);
    expect(idsIn(repeated[0]!)).toEqual(idsIn(got[1]!));
    expect(seen.length - ids.length).toBe(idsIn(got[1]!).length);
  });

  it('under "key" holds at most one event per key in a batch and keeps each key in order across batches', async () => {
    const { ws, ep, hook } = await setup({ ordering: "key", orderingKey: "contact.id", maxInFlight: 3, batch: { maxEvents: 5 } }, [], {
      status: 200,
      delayMs: 20,
    });
    const data = Array.from({ length: 60 }, (_, i) => ({ contact: { id: `c${i % 4}` }, i }));
    const ids = await sendEvents(ws.apiKey, data);
    await driveUntil(hook.id, (s) => s.events.length === ids.length && s.events.every((e) => e.status === "delivered"));
    const got = await ep.requests();
    for (const r of got) {
      const keys = batchOf(r).events.map((e) => e.contact?.id);
      expect(new Set(keys).size).toBe(keys.length);
      expect(keys.length).toBeLessThanOrEqual(5);
    }
    const arrived = got.flatMap((r) => batchOf(r).events);
    expect(new Set(arrived.map((e) => e.event_id)).size).toBe(ids.length);
    for (const key of ["c0", "c1", "c2", "c3"]) {
      const expected = ids.filter((_, i) => data[i]!.contact.id === key);
      expect(arrived.filter((e) => e.contact?.id === key).map((e) => e.event_id)).toEqual(expected);
    }
  });

  it("waits up to maxWaitMs for a batch to fill: events accepted one by one go in one request", async () => {
    const { ws, ep } = await setup({ batch: { maxEvents: 10, maxWaitMs: 4000 } });
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(...(await sendEvents(ws.apiKey, [{ i }])));
    const [got] = await ep.waitFor(1);
    expect(idsIn(got!)).toEqual(ids);
    // A full batch does not wait.
    const full = await sendEvents(
      ws.apiKey,
      Array.from({ length: 10 }, (_, i) => ({ full: i })),
    );
    const started = Date.now();
    const all = await ep.waitFor(2);
    expect(idsIn(all[1]!)).toEqual(full);
    expect(Date.now() - started).toBeLessThan(3500);
  });

  it("keeps a batch's body within MAX_BATCH_BYTES: large events go in more, smaller batches", async () => {
    const { ws, ep, hook } = await setup({ batch: { maxEvents: 50 } }, [{ status: 200, delayMs: 300 }]);
    const ids: string[] = [];
    for (let i = 0; i < 24; i++) ids.push(...(await sendEvents(ws.apiKey, [{ i, pad: "x".repeat(100_000) }])));
    await settledLane(hook.id, (s) => s.events.length === ids.length && s.events.every((e) => e.status === "delivered"));
    const got = await ep.requests();
    expect(got.flatMap(idsIn)).toEqual(ids);
    for (const r of got) expect(new TextEncoder().encode(r.body).byteLength).toBeLessThanOrEqual(MAX_BATCH_BYTES);
    // Not one event per request either: as many as fit.
    expect(Math.max(...got.map((r) => idsIn(r).length))).toBe(9);
  });

  it("sends recovered events (put back in line) in batches of at most maxEvents, in acceptance order", async () => {
    const { ws, ep, hook } = await setup({ batch: { maxEvents: 20 } });
    expect((await call("POST", `/v1/webhooks/${hook.id}/disable`, { key: ws.apiKey })).status).toBe(200);
    const kept = await sendEvents(
      ws.apiKey,
      Array.from({ length: 45 }, (_, i) => ({ i })),
    );
    await settledLane(hook.id, (s) => s.events.length === kept.length && s.events.every((e) => e.status === "skipped"));
    expect((await call("POST", `/v1/webhooks/${hook.id}/enable`, { key: ws.apiKey })).status).toBe(200);
    const since = new Date(Date.now() - 60_000).toISOString();
    const recovered = await call("POST", `/v1/webhooks/${hook.id}/recover`, { key: ws.apiKey, body: { since } });
    expect(recovered.json).toEqual({ recovered: kept.length });
    await settledLane(hook.id, (s) => s.events.every((e) => e.status === "delivered"));
    const got = await ep.requests();
    expect(got.flatMap(idsIn)).toEqual(kept);
    expect(got.length).toBeGreaterThanOrEqual(3);
    expect(got.every((r) => idsIn(r).length <= 20 && r.standardValid)).toBe(true);
  });

  it("sends a test event to a batching webhook as a batch of one", async () => {
    const { ws, ep, hook } = await setup({ batch: { maxEvents: 5 } });
    const res = await call("POST", `/v1/webhooks/${hook.id}/test`, { key: ws.apiKey, body: { type: "message.received" } });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: "delivered", test: true });
    const [got] = await ep.waitFor(1);
    expect(got!.headers["webhook-id"]).toMatch(/^bat_/);
    expect(got!.standardValid).toBe(true);
    expect(idsIn(got!)).toEqual([res.json.eventId]);
  });

  it("turns batching off with batch: null: the next events go one per request, respond.io's body", async () => {
    const { ws, ep, hook } = await setup({ batch: { maxEvents: 5 } });
    const patched = await call("PATCH", `/v1/webhooks/${hook.id}`, { key: ws.apiKey, body: { batch: null } });
    expect(patched.json.batch).toBeNull();
    const ids = await sendEvents(ws.apiKey, [{ a: 1 }, { a: 2 }]);
    const got = await ep.waitFor(2);
    expect(eventIdsOf(got)).toEqual(ids);
    expect(got.every((r) => !r.headers["webhook-id"]!.startsWith("bat_"))).toBe(true);
    expect((await laneState(hook.id)).lane?.batch_max_events).toBeNull();
  });
});
