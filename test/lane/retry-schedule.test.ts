// Failed attempts: the 30/60/90 s schedule (asserted on the lane's alarm), timeouts, dropped connections,
// redirects, 410 Gone, recovery on a retry, and a lane evicted in the middle of its retries.
import { evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { call, createWebhook, createWorkspace, eventually, sendEvent } from "../support/helpers";
import { lane, laneState, RETENTION_MS, settledLane } from "../support/lane";
import { endpoint, eventIdsOf, type Behaviour } from "../support/receiver";

const fail = (status = 500): Behaviour => ({ status, body: `boom ${status}` });

/**
 * Waits until the lane has recorded `count` attempts, holds `events` events, and has re-armed its alarm
 * for its next pending event (an alarm run in progress has no alarm set until it ends).
 */
function attemptsRecorded(webhookId: string, count: number, events = 1) {
  return settledLane(webhookId, (state) => state.attempts.length === count && state.events.length >= events);
}

async function setup(script: Behaviour[], events = 2) {
  const ws = await createWorkspace();
  const ep = endpoint();
  await ep.program({ script, fallback: { status: 200 } });
  const hook = await createWebhook(ws.apiKey, { url: ep.url, events: ["message.received"] });
  const ids: string[] = [];
  for (let i = 0; i < events; i++) ids.push(await sendEvent(ws.apiKey, { type: "message.received", data: { i } }));
  return { ws, ep, hook, ids };
}

describe("retries", () => {
  it("retries at exactly +30 s, +60 s and +90 s after each failure, then drops the event and sends the next", async () => {
    const { ep, hook, ids } = await setup([fail(), fail(502), fail(503), fail(504)]);
    await ep.waitFor(1);

    let state = await attemptsRecorded(hook.id, 1, 2);
    for (const [n, delay] of [
      [1, 30_000],
      [2, 60_000],
      [3, 90_000],
    ] as const) {
      const last = state.attempts[n - 1]!;
      expect(state.alarm).toBe(last.at + last.duration_ms + delay);
      expect(state.events[0]).toMatchObject({ id: ids[0], status: "pending", attempt_count: n, next_attempt_at: state.alarm });
      // The event behind it is held while it waits.
      expect(state.events[1]).toMatchObject({ id: ids[1], status: "pending", attempt_count: 0 });
      expect(await ep.requests()).toHaveLength(n);
      expect(await runDurableObjectAlarm(lane(hook.id))).toBe(true);
      state = await attemptsRecorded(hook.id, n + 1 + (n === 3 ? 1 : 0), 2);
    }

    expect(state.events.map((e) => [e.id, e.status, e.attempt_count])).toEqual([
      [ids[0], "dropped", 4],
      [ids[1], "delivered", 1],
    ]);
    expect(state.attempts.filter((a) => a.event_id === ids[0]).map((a) => [a.n, a.status_code, a.error, a.response_body])).toEqual([
      [1, 500, "endpoint answered HTTP 500", "boom 500"],
      [2, 502, "endpoint answered HTTP 502", "boom 502"],
      [3, 503, "endpoint answered HTTP 503", "boom 503"],
      [4, 504, "endpoint answered HTTP 504", "boom 504"],
    ]);
    expect(eventIdsOf(await ep.requests())).toEqual([ids[0], ids[0], ids[0], ids[0], ids[1]]);
    // Nothing left to attempt: the alarm waits only for the first finished event's retention to end.
    expect(state.alarm).toBe(Math.min(...state.events.map((e) => e.finished_at!)) + RETENTION_MS);
  });

  it("counts an endpoint that hangs past DELIVERY_TIMEOUT_MS as a failed attempt", async () => {
    const { ep, hook, ids } = await setup([{ hang: true }], 1);
    const state = await attemptsRecorded(hook.id, 1);
    const [attempt] = state.attempts;
    expect(attempt).toMatchObject({ status_code: null, error: "timeout: no response within 1000 ms" });
    expect(attempt!.duration_ms).toBeGreaterThanOrEqual(1000);
    expect(attempt!.duration_ms).toBeLessThan(5000);
    expect(state.alarm).toBe(attempt!.at + attempt!.duration_ms + 30_000);
    await runDurableObjectAlarm(lane(hook.id));
    expect(eventIdsOf(await ep.waitFor(2))).toEqual([ids[0], ids[0]]);
    expect((await laneState(hook.id)).events[0]!.status).toBe("delivered");
  });

  it("counts a connection the endpoint drops as a failed attempt", async () => {
    const { hook } = await setup([{ close: true }], 1);
    const state = await attemptsRecorded(hook.id, 1);
    expect(state.attempts[0]).toMatchObject({ status_code: null, error: expect.stringMatching(/^connection failed/) });
    expect(state.events[0]).toMatchObject({ status: "pending", attempt_count: 1 });
  });

  it("does not follow redirects: a 3xx is a failed attempt", async () => {
    const { hook } = await setup([{ status: 307, headers: { location: "https://elsewhere.example.com/" } }], 1);
    const state = await attemptsRecorded(hook.id, 1);
    expect(state.attempts[0]).toMatchObject({ status_code: 307, error: "redirect to https://elsewhere.example.com/ not followed" });
  });

  it("delivers once when the endpoint recovers on retry 2, then sends the held events in order", async () => {
    const { ep, hook, ids } = await setup([fail(500), fail(503)], 3);
    await attemptsRecorded(hook.id, 1, 3);
    await runDurableObjectAlarm(lane(hook.id));
    await attemptsRecorded(hook.id, 2, 3);
    expect(await ep.requests()).toHaveLength(2);
    await runDurableObjectAlarm(lane(hook.id));

    const got = await ep.waitFor(5);
    expect(eventIdsOf(got)).toEqual([ids[0], ids[0], ids[0], ids[1], ids[2]]);
    expect(got.map((r) => r.outcome)).toEqual([500, 503, 200, 200, 200]);
    const state = await laneState(hook.id);
    expect(state.events.map((e) => [e.status, e.attempt_count])).toEqual([
      ["delivered", 3],
      ["delivered", 1],
      ["delivered", 1],
    ]);
  });

  it("keeps a retry on schedule when the lane is evicted between attempts", async () => {
    const { ep, hook, ids } = await setup([fail()], 2);
    const before = await attemptsRecorded(hook.id, 1, 2);
    await evictDurableObject(lane(hook.id));
    const after = await laneState(hook.id);
    expect(after.alarm).toBe(before.alarm);
    expect(after.events).toEqual(before.events);
    // A new instance knows nothing but its storage: at the alarm's time, the retry goes out.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(before.alarm!);
    await runDurableObjectAlarm(lane(hook.id));
    expect(eventIdsOf(await ep.waitFor(3))).toEqual([ids[0], ids[0], ids[1]]);
    vi.useRealTimers();
  });

  it("disables the webhook when the endpoint answers 410 Gone, keeping its events as skipped", async () => {
    const { ws, ep, hook, ids } = await setup([{ status: 410 }], 2);
    await attemptsRecorded(hook.id, 1, 2);
    const webhook = await eventually(async () => {
      const res = await call("GET", `/v1/webhooks/${hook.id}`, { key: ws.apiKey });
      return res.json.enabled === false && res.json;
    });
    expect(webhook).toMatchObject({ enabled: false, disabledReason: "gone", disabledAt: expect.any(String) });
    const state = await laneState(hook.id);
    expect(state.events.map((e) => [e.id, e.status])).toEqual([
      [ids[0], "skipped"],
      [ids[1], "skipped"],
    ]);
    expect(state.alarm).toBe(state.events[0]!.finished_at! + RETENTION_MS);
    expect(await ep.requests()).toHaveLength(1);
  });
});
