// What many attempts out at once do to the quota and the log (docs/ordering.md, docs/capacity.md): one disable,
// one notice, however many were out; only the endpoint's answer counts; no outcome lost at a disable, an enable or
// a storage error.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { quotaOf } from "../../src/bindings";
import type { EndpointLane } from "../../src/delivery/lane/endpoint-lane";
import { LaneStore } from "../../src/delivery/lane/store";
import { VERIFICATION_EVENT_TYPE } from "../../src/delivery/verification";
import type { Env } from "../../src/env";
import { call, createWebhook, createWorkspace, eventually } from "../support/helpers";
import { handMadeConfig, lane, laneState } from "../support/lane";
import { captureLogs } from "../support/logs";
import { driveUntil, successesOf } from "../support/parallel";
import { endpoint, type Behaviour } from "../support/receiver";

const logs = captureLogs();
const quota = (workspaceId: string) => quotaOf(env.WORKSPACE_QUOTA, workspaceId, null);

interface LoggedDelivery {
  eventId: string;
  status: string;
  attempts: { statusCode: number | null; error: string | null }[];
}

async function deliveryLog(apiKey: string, webhookId: string): Promise<LoggedDelivery[]> {
  return (await call("GET", `/v1/webhooks/${webhookId}/deliveries?limit=100`, { key: apiKey })).json.data;
}

async function sendBatch(key: string, data: Record<string, unknown>[]): Promise<string[]> {
  const res = await call("POST", "/v1/events/batch", { key, body: { events: data.map((d) => ({ type: "message.received", data: d })) } });
  expect(res.status).toBe(202);
  return res.json.ids;
}

async function setup(webhook: Record<string, unknown>, fallback: Behaviour) {
  const ws = await createWorkspace();
  const ep = endpoint();
  await ep.program({ fallback });
  const hook = await createWebhook(ws.apiKey, { url: ep.url, events: ["message.received"], ...webhook });
  return { ws, ep, hook };
}

/** Runs `change` on the live lane object of `webhookId` (its env, its store). */
/** The parts of a live lane object a test swaps: its env, and its store's methods. */
interface LaneInside {
  env: Env;
  store: Record<string, unknown>;
}

function onLane(webhookId: string, change: (instance: LaneInside) => void) {
  return runInDurableObject(lane(webhookId), (instance: EndpointLane) => change(instance as unknown as LaneInside));
}

const settings = {
  none: { ordering: "none", maxInFlight: 50 },
  key: { ordering: "key", orderingKey: "contact.id", maxInFlight: 50 },
} as const;

describe("one disable, one notice", () => {
  it.each([
    ["none", "the quota"],
    ["key", "the quota"],
    ["none", "a 410"],
    ["key", "a 410"],
  ] as const)("under %s, %s with 50 attempts out disables once, emails at most once, alerts once", async (ordering, cause) => {
    const gone = cause === "a 410";
    const { ws, ep, hook } = await setup(settings[ordering], { status: gone ? 410 : 500, delayMs: 400 });
    // 20 failures of another webhook: the 11th of this one's is the 31st.
    for (let i = 0; !gone && i < 20; i++) {
      await quota(ws.id).recordFailure({
        webhookId: "wh_other",
        workspaceId: ws.id,
        eventId: `e${i}`,
        at: Date.now(),
        statusCode: 500,
        error: "HTTP 500",
      });
    }
    await sendBatch(
      ws.apiKey,
      Array.from({ length: 60 }, (_, i) => ({ i, contact: { id: `c${i}` } })),
    );
    await ep.waitFor(50);
    const off = await eventually(async () => {
      const res = await call("GET", `/v1/webhooks/${hook.id}`, { key: ws.apiKey });
      return res.json.enabled === false && (await lane(hook.id).outgoing()).attemptsOut === 0 && res.json;
    });
    expect(off.disabledReason).toBe(gone ? "gone" : "failure_quota");
    const requests = await ep.requests();
    expect(requests.length).toBeGreaterThanOrEqual(50);
    // Every attempt that went out is in the log; nothing is left pending.
    const log = await deliveryLog(ws.apiKey, hook.id);
    expect(log.reduce((n, d) => n + d.attempts.length, 0)).toBe(requests.length);
    expect(log.filter((d) => d.status === "pending")).toEqual([]);
    // Counted up to the disable, not after: the 31st (or the one 410), none of the attempts still out then.
    expect((await call("GET", "/v1/quota", { key: ws.apiKey })).json.failures).toBe(gone ? 1 : 31);
    const notices = (await quota(ws.id).notices()).filter((n) => n.kind === "disable");
    expect(notices).toHaveLength(gone ? 0 : 1);
    const alerts = (await quota(ws.id).alerts()).filter((a) => a.type === "webhook.disabled");
    expect(alerts).toHaveLength(1);
    expect(JSON.parse(alerts[0]!.data)).toMatchObject({ webhookId: hook.id, reason: gone ? "gone" : "failure_quota" });
  });

  it("disables at the 31st failure whatever order the reports arrive in, and counts none after it", async () => {
    let run = 0;
    const times = Array.from({ length: 31 }, (_, i) => 1_000_000 + i * 1000);
    await fc.assert(
      fc.asyncProperty(fc.shuffledSubarray(times, { minLength: 31, maxLength: 31 }), async (order) => {
        const workspaceId = `ws_order_${run++}`;
        const report = (at: number, i: number) =>
          quota(workspaceId).recordFailure({
            webhookId: "wh_a",
            workspaceId,
            eventId: `e${i}`,
            at: Date.now() - 2_000_000 + at,
            statusCode: 500,
            error: "HTTP 500",
            configVersion: 7,
          });
        const verdicts = [];
        for (const [i, at] of order.entries()) verdicts.push(await report(at, i));
        expect(verdicts.slice(0, 30).map((v) => v.disable)).toEqual(Array(30).fill(null));
        expect(verdicts[30]).toMatchObject({ disable: "failure_quota", failures: 31 });
        // One still out when it came (same config version): the disable again, nothing counted or owed.
        expect(await report(times[0]!, 99)).toMatchObject({ disable: "failure_quota", repeated: true, failures: 31 });
        expect((await quota(workspaceId).notices()).filter((n) => n.kind === "disable")).toHaveLength(1);
        expect((await quota(workspaceId).alerts()).filter((a) => a.type === "webhook.disabled")).toHaveLength(1);
      }),
      { numRuns: 15 },
    );
  });
});

describe("only the endpoint's answer counts", () => {
  it("retries an attempt whose sender object failed from another object, logged as the service's failure, counted nowhere", async () => {
    const { ws, ep, hook } = await setup({ ordering: "none", maxInFlight: 12 }, { status: 200, delayMs: 300 });
    // Every sender object fails (as in a deploy or a reset); the lane itself (slot 0) still sends.
    const failing = {
      idFromName: (name: string) => env.ENDPOINT_SENDER.idFromName(name),
      get: () => ({ send: () => Promise.reject(new Error("Durable Object reset because its code was updated")) }),
    };
    await onLane(hook.id, (instance) => {
      instance.env = Object.create(env, { ENDPOINT_SENDER: { value: failing } }) as Env;
    });
    const ids = await sendBatch(
      ws.apiKey,
      Array.from({ length: 12 }, (_, i) => ({ i })),
    );
    const state = await driveUntil(hook.id, (s) => s.events.length === 12 && s.events.every((e) => e.status === "delivered"));
    const got = await ep.requests();
    expect(successesOf(got).size).toBe(12);
    expect(got).toHaveLength(12);
    const log = await deliveryLog(ws.apiKey, hook.id);
    const viaSender = log.filter((d) => d.attempts.length === 2);
    expect(viaSender.length).toBeGreaterThan(0);
    for (const d of viaSender) {
      expect(d.attempts[0]).toMatchObject({ statusCode: null, error: expect.stringMatching(/^service: sender \d+ unavailable: /) });
      expect(d.attempts[1]).toMatchObject({ statusCode: 200, error: null });
    }
    // Not the endpoint's failure: no quota, no retry round spent, the webhook on.
    expect((await call("GET", "/v1/quota", { key: ws.apiKey })).json.failures).toBe(0);
    expect(state.events.every((e) => e.round_attempts === 1)).toBe(true);
    expect((await call("GET", `/v1/webhooks/${hook.id}`, { key: ws.apiKey })).json.enabled).toBe(true);
    expect(new Set(state.events.map((e) => e.id))).toEqual(new Set(ids));
    await onLane(hook.id, (instance) => {
      instance.env = env;
    });
  });
});

describe("no outcome lost", () => {
  it("under endpoint, logs the request out at a manual disable and keeps its success delivered (recover does not send it again)", async () => {
    const { ws, ep, hook } = await setup({}, { status: 200, delayMs: 800 });
    const ids = await sendBatch(ws.apiKey, [{ i: 0 }, { i: 1 }, { i: 2 }]);
    await ep.waitFor(1);
    expect((await call("POST", `/v1/webhooks/${hook.id}/disable`, { key: ws.apiKey })).status).toBe(200);
    const log = await eventually(async () => {
      const l = await deliveryLog(ws.apiKey, hook.id);
      return l.some((d) => d.status === "delivered") && l;
    });
    expect(log.find((d) => d.eventId === ids[0])).toMatchObject({ status: "delivered", attempts: [{ statusCode: 200 }] });
    expect(
      log
        .filter((d) => d.status === "skipped")
        .map((d) => d.eventId)
        .sort(),
    ).toEqual([ids[1], ids[2]].sort());
    await call("POST", `/v1/webhooks/${hook.id}/enable`, { key: ws.apiKey });
    const recovered = await call("POST", `/v1/webhooks/${hook.id}/recover`, { key: ws.apiKey, body: { since: new Date(0).toISOString() } });
    expect(recovered.json).toMatchObject({ recovered: 2 });
    await driveUntil(hook.id, (s) => s.events.every((e) => e.status === "delivered"));
    expect([...successesOf(await ep.requests()).values()]).toEqual([1, 1, 1]);
  });

  it.each(["none", "key"] as const)(
    "under %s, keeps every success of the attempts out across a disable and an enable",
    async (ordering) => {
      const { ws, ep, hook } = await setup({ ...settings[ordering], maxInFlight: 5 }, { status: 200, delayMs: 800 });
      await sendBatch(
        ws.apiKey,
        Array.from({ length: 5 }, (_, i) => ({ i, contact: { id: `c${i}` } })),
      );
      await ep.waitFor(5);
      await call("POST", `/v1/webhooks/${hook.id}/disable`, { key: ws.apiKey });
      await call("POST", `/v1/webhooks/${hook.id}/enable`, { key: ws.apiKey });
      await eventually(async () => (await lane(hook.id).outgoing()).attemptsOut === 0);
      const log = await deliveryLog(ws.apiKey, hook.id);
      expect(log.map((d) => [d.status, d.attempts.length])).toEqual(Array(5).fill(["delivered", 1]));
    },
  );

  it.each(["endpoint", "none"] as const)(
    "under %s, a storage error while recording an outcome retries on the webhook's schedule, not in a tight loop",
    async (ordering) => {
      const { ws, ep, hook } = await setup({ ordering, retryDelaysSeconds: [30, 60] }, { status: 500 });
      await onLane(hook.id, (instance) => {
        instance.store.recordOutcome = () => {
          throw new Error("SQLITE_FULL: database or disk is full");
        };
      });
      await sendBatch(ws.apiKey, [{ i: 0 }]);
      const [first] = await ep.waitFor(1);
      await new Promise((r) => setTimeout(r, 1_500));
      expect(await ep.requests()).toHaveLength(1);
      const state = await laneState(hook.id);
      const retryAt = state.events[0]!.next_attempt_at;
      expect(retryAt - first!.at).toBeGreaterThanOrEqual(29_000);
      expect(retryAt - first!.at).toBeLessThanOrEqual(31_500);
      expect(state.alarm).toBe(retryAt);
      expect(logs.error.join("\n")).toContain("recording an attempt of");
      // Storage takes writes again: the retry goes out when driven, and is recorded.
      await onLane(hook.id, (instance) => {
        delete instance.store.recordOutcome;
      });
      await runDurableObjectAlarm(lane(hook.id));
      await ep.waitFor(2);
      await eventually(async () => (await laneState(hook.id)).events[0]!.attempt_count === 1);
    },
  );

  it("keeps a group of successes storage could not write, in order, for the next write", async () => {
    const stub = env.ENDPOINT_LANE.get(env.ENDPOINT_LANE.idFromName("flush-fails"));
    await runInDurableObject(stub, async (_instance: EndpointLane, state) => {
      const store = new LaneStore(state.storage);
      store.applyConfig(handMadeConfig({ webhookId: "wh_flush", workspaceId: "ws_flush" }));
      const ids = [0, 1, 2, 3, 4].map((i) => `evt_${i}`);
      store.insertEvents(
        ids.map((id, i) => ({
          id,
          order_key: `k${i}`,
          type: "t",
          body: "{}",
          accepted_at: 0,
          status: "pending",
          next_attempt_at: 0,
          finished_at: null,
        })),
      );
      const ok = { at: 1, durationMs: 1, statusCode: 200, error: null, responseBody: "", headers: {} };
      for (let i = 0; i < 3; i++) store.deferDelivered(store.head()!, ok, 2);
      const storage = state.storage as { transactionSync: DurableObjectStorage["transactionSync"] };
      const real = storage.transactionSync;
      storage.transactionSync = () => {
        throw new Error("SQLITE_FULL: database or disk is full");
      };
      expect(() => store.flushDelivered()).toThrow("SQLITE_FULL");
      storage.transactionSync = real;
      // The line goes on past the three, and they are written, delivered, with the next group.
      expect(store.head()?.id).toBe(ids[3]);
      store.flushDelivered();
      const statuses = state.storage.sql.exec<{ status: string }>("SELECT status FROM events ORDER BY order_key").toArray();
      expect(statuses.map((r) => r.status)).toEqual(["delivered", "delivered", "delivered", "pending", "pending"]);
    });
  });

  it("sends a challenge left pending on a keyed lane once verification is no longer required", async () => {
    const { ws, ep, hook } = await setup(settings.key, { status: 200 });
    // The endpoint answers challenges as a receiver written with the standardwebhooks library does.
    await ep.program({ fallback: { status: 200, answerChallenge: { secret: hook.secret } } });
    await sendBatch(ws.apiKey, [{ contact: { id: "a" } }]);
    await ep.waitFor(1);
    // A challenge stored while verification was required (REQUIRE_ENDPOINT_VERIFICATION is off in this project).
    await onLane(hook.id, (instance) => {
      (instance as unknown as { startChallenge(): string }).startChallenge();
    });
    const state = await driveUntil(hook.id, (s) => s.events.every((e) => e.status !== "pending"));
    const challenge = state.events.find((e) => e.type === VERIFICATION_EVENT_TYPE)!;
    expect(challenge.status).toBe("delivered");
    expect(state.lane!.verified_at).toEqual(expect.any(Number));
    expect(await ep.requests()).toHaveLength(2);
    expect(ws).toBeTruthy();
  });
});
