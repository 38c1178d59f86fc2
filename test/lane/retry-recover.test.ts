// Delivering again on request: retry one delivery, recover every dropped or skipped one since a time.
// Both put events back in line behind what is pending, in order, and deliver each once per call.
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { disableNotice } from "../../src/quota/notice";
import { quotaOf } from "../../src/bindings";
import { call, createWebhook, createWorkspace, eventually, sendEvent } from "../support/helpers";
import { lane, laneState, settledLane } from "../support/lane";
import { endpoint, eventIdsOf } from "../support/receiver";

async function setup(events: readonly string[] = ["message.received"], email?: string) {
  const ws = await createWorkspace("Replay", email);
  const ep = endpoint();
  const hook = await createWebhook(ws.apiKey, { url: ep.url, events });
  await ep.program({ secrets: [hook.secret] });
  const send = (n: number) => sendEvent(ws.apiKey, { type: events[0], data: { n } });
  return { ws, ep, hook, send };
}

describe("retry", () => {
  it("delivers a delivered event again behind the pending one, with the same webhook-id, once per call", async () => {
    const { ws, ep, hook, send } = await setup();
    const a = await send(1);
    await ep.waitFor(1);
    // B fails once and waits 30 s for its retry: it is pending when A is retried.
    await ep.program({ secrets: [hook.secret], script: [{ status: 500 }], fallback: { status: 200 } });
    const b = await send(2);
    await settledLane(hook.id, (s) => s.attempts.length === 2);

    const retried = await call("POST", `/v1/webhooks/${hook.id}/deliveries/${a}/retry`, { key: ws.apiKey });
    expect(retried.status).toBe(202);
    expect(retried.json).toMatchObject({ eventId: a, status: "pending", deliveredAt: null });
    expect(retried.json.attempts).toHaveLength(1);
    // A waits behind B, whose retry is 30 s away: nothing is sent until B's alarm runs.
    const state = await settledLane(hook.id);
    expect(state.alarm).toBe(state.events.find((e) => e.id === b)!.next_attempt_at);
    await new Promise((r) => setTimeout(r, 300));
    expect(await ep.requests()).toHaveLength(2);

    await runDurableObjectAlarm(lane(hook.id));
    const got = await ep.waitFor(4);
    expect(eventIdsOf(got)).toEqual([a, b, b, a]);
    expect(got[3]!.headers["webhook-id"]).toBe(a);
    expect(got[3]!.body).toBe(got[0]!.body);
    expect(got.every((r) => r.standardValid && r.respondIoValid)).toBe(true);

    // Its log keeps the first attempt and adds the new one.
    const after = await settledLane(hook.id, (s) => s.events.every((e) => e.status === "delivered"));
    expect(after.attempts.filter((x) => x.event_id === a).map((x) => x.n)).toEqual([1, 2]);

    // Each call delivers once more; a retry of a pending delivery is refused, not doubled.
    await ep.program({ secrets: [hook.secret], script: [{ hang: true }], fallback: { status: 200 } });
    expect((await call("POST", `/v1/webhooks/${hook.id}/deliveries/${a}/retry`, { key: ws.apiKey })).status).toBe(202);
    const again = await call("POST", `/v1/webhooks/${hook.id}/deliveries/${a}/retry`, { key: ws.apiKey });
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe("delivery_pending");
    await settledLane(hook.id, (s) => s.attempts.length === 5);
    await runDurableObjectAlarm(lane(hook.id));
    await settledLane(hook.id, (s) => s.attempts.length === 6 && s.events.every((e) => e.status === "delivered"));
    expect(eventIdsOf(await ep.requests())).toEqual([a, b, b, a, a, a]);
  });

  it("refuses a retry while the webhook is disabled, and answers 404 for an unknown event or webhook", async () => {
    const { ws, ep, hook, send } = await setup();
    const a = await send(1);
    await ep.waitFor(1);
    await settledLane(hook.id, (s) => s.events[0]?.status === "delivered");
    await call("POST", `/v1/webhooks/${hook.id}/disable`, { key: ws.apiKey });
    const disabled = await call("POST", `/v1/webhooks/${hook.id}/deliveries/${a}/retry`, { key: ws.apiKey });
    expect(disabled.status).toBe(409);
    expect(disabled.json.error.code).toBe("webhook_disabled");
    const unknown = await call("POST", `/v1/webhooks/${hook.id}/deliveries/evt_nope/retry`, { key: ws.apiKey });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe("not_found");
    const other = await createWorkspace("Other");
    expect((await call("POST", `/v1/webhooks/${hook.id}/deliveries/${a}/retry`, { key: other.apiKey })).status).toBe(404);
    expect(await ep.requests()).toHaveLength(1);
  });
});

describe("recover", () => {
  it("brings back every event skipped by a quota disable, after enable, in acceptance order, once per call", async () => {
    const { ws, ep, hook, send } = await setup(["conversation.closed"], "ops@replay.example");
    // 30 failures already in the window: this webhook's first failure is the 31st and disables it.
    const quota = quotaOf(env.WORKSPACE_QUOTA, ws.id, null);
    for (let i = 0; i < 30; i++)
      await quota.recordFailure({ webhookId: "wh_other", eventId: `evt_${i}`, at: Date.now(), statusCode: 500, error: "HTTP 500" });
    await ep.program({ secrets: [hook.secret], script: [{ status: 500 }], fallback: { status: 200 } });
    const before = [await send(0), await send(1), await send(2)];
    await eventually(
      async () => (await call("GET", `/v1/webhooks/${hook.id}`, { key: ws.apiKey })).json.disabledReason === "failure_quota",
    );
    const during = [await send(3), await send(4)];
    const skipped = [...before, ...during];
    await settledLane(hook.id, (s) => s.events.length === 5 && s.events.every((e) => e.status === "skipped"));

    const refused = await call("POST", `/v1/webhooks/${hook.id}/recover`, { key: ws.apiKey, body: { since: new Date(0).toISOString() } });
    expect(refused.status).toBe(409);
    expect(refused.json.error.code).toBe("webhook_disabled");

    expect((await call("POST", `/v1/webhooks/${hook.id}/enable`, { key: ws.apiKey })).status).toBe(200);
    const after = await send(5);
    await ep.waitFor(2);
    const since = new Date(Date.now() - 60_000).toISOString();
    const recovered = await call("POST", `/v1/webhooks/${hook.id}/recover`, { key: ws.apiKey, body: { since } });
    expect(recovered.status).toBe(202);
    expect(recovered.json).toEqual({ recovered: 5 });

    const got = await ep.waitFor(7);
    expect(eventIdsOf(got)).toEqual([before[0], after, ...skipped]);
    expect(got.every((r) => r.standardValid && r.respondIoValid)).toBe(true);
    const state = await settledLane(hook.id, (s) => s.events.every((e) => e.status === "delivered"));
    expect(state.events.map((e) => e.id)).toEqual([...skipped, after]);

    // Nothing is left to recover: a second call re-queues nothing and sends nothing.
    expect((await call("POST", `/v1/webhooks/${hook.id}/recover`, { key: ws.apiKey, body: { since } })).json).toEqual({ recovered: 0 });
    await new Promise((r) => setTimeout(r, 300));
    expect(await ep.requests()).toHaveLength(7);

    // The disable email says how to do this.
    const notice = {
      webhook: { id: hook.id, url: ep.url },
      limit: 30,
      windowSeconds: 1800,
      failuresInWindow: 31,
      recentFailures: [],
    };
    const { text } = disableNotice({ ...notice, disabledAt: Date.parse("2026-11-21T10:00:00Z") });
    expect(text).toContain(`POST /v1/webhooks/${hook.id}/recover  {"since": "2026-11-21T09:30:00.000Z"}`);
    expect(text).not.toContain("/settings/");
    // With PUBLIC_URL, it links to the webhook's settings page too.
    const linked = disableNotice({ ...notice, disabledAt: 0, publicUrl: "https://webhooks.example.com" }).text;
    expect(linked).toContain(`https://webhooks.example.com/settings/integrations/webhooks/${hook.id}`);
  });

  it("recovers only dropped events accepted since `since`, adding new attempts to their log", async () => {
    const { ws, ep, hook, send } = await setup();
    await ep.program({ secrets: [hook.secret], script: Array(8).fill({ status: 500 }), fallback: { status: 200 } });
    const old = await send(1);
    // Drives the retries until `count` events are dropped. It waits for the lane to hold them all first:
    // an alarm run early with nothing pending would be the retention purge's, run as if 30 days on.
    const dropOne = async (count: number) => {
      for (let runs = 0; runs < 10; runs++) {
        const state = await settledLane(hook.id, (s) => s.events.length === count);
        if (state.events.filter((e) => e.status === "dropped").length >= count) return state;
        await runDurableObjectAlarm(lane(hook.id));
      }
      throw new Error(`fewer than ${count} events dropped after 10 alarm runs`);
    };
    await dropOne(1);
    await new Promise((r) => setTimeout(r, 20));
    const since = new Date().toISOString();
    const recent = await send(2);
    const state = await dropOne(2);
    expect(state.events.map((e) => [e.id, e.status])).toEqual([
      [old, "dropped"],
      [recent, "dropped"],
    ]);
    expect(await ep.requests()).toHaveLength(8);

    const res = await call("POST", `/v1/webhooks/${hook.id}/recover`, { key: ws.apiKey, body: { since } });
    expect(res.json).toEqual({ recovered: 1 });
    const got = await ep.waitFor(9);
    expect(eventIdsOf(got).at(-1)).toBe(recent);
    const final = await settledLane(hook.id, (s) => s.events.find((e) => e.id === recent)?.status === "delivered");
    expect(final.events.find((e) => e.id === old)!.status).toBe("dropped");
    const log = await call("GET", `/v1/webhooks/${hook.id}/deliveries/${recent}`, { key: ws.apiKey });
    expect(log.json.attempts.map((a: { statusCode: number }) => a.statusCode)).toEqual([500, 500, 500, 500, 200]);
  });

  it("answers a missing or malformed `since` with 400", async () => {
    const { ws, hook } = await setup();
    for (const body of [{}, { since: "yesterday" }, { since: 5 }, { since: "2026-11-21T10:00:00Z", until: "x" }]) {
      const res = await call("POST", `/v1/webhooks/${hook.id}/recover`, { key: ws.apiKey, body });
      expect(res.status).toBe(400);
      expect(res.json.error.message).toBeTruthy();
    }
    const other = await createWorkspace("Other");
    expect(
      (await call("POST", `/v1/webhooks/${hook.id}/recover`, { key: other.apiKey, body: { since: "2026-11-21T10:00:00Z" } })).status,
    ).toBe(404);
    expect((await laneState(hook.id)).events).toEqual([]);
  });
});
