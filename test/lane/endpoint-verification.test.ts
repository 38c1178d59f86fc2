// Endpoint verification (REQUIRE_ENDPOINT_VERIFICATION=true in this file's project, vitest.config.ts): a new or
// re-pointed endpoint gets a signed challenge with a `webhook-challenge` header first and nothing else until a 2xx
// answers it the Standard Webhooks way (the real receiver answers with the `standardwebhooks` library's own
// endpointVerificationResponse); its events wait pending, in order, and follow once it does. An endpoint that only
// echoes the body stays unverified. Retries of the challenge are driven through the lane's alarm.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { verifyV1a } from "../../docs/snippets/verify-v1a-webcrypto.mjs";
import { call, createWebhook, createWorkspace, eventually, sendEvent } from "../support/helpers";
import type { EndpointLane } from "../../src/delivery/lane/endpoint-lane";
import type { Env } from "../../src/env";
import { lane, laneState, RETENTION_MS, settledLane } from "../support/lane";
import { captureLogs } from "../support/logs";
import { page, signIn } from "../support/pages";
import { endpoint, eventIdsOf, type Endpoint, type RecordedRequest } from "../support/receiver";

const isChallenge = (r: RecordedRequest) => JSON.parse(r.body).event_type === "endpoint.verification";
/** What a receiver written with `standardwebhooks` >= 1.3 does: 2xx with its endpointVerificationResponse. */
const ANSWERS = { status: 200, answerChallenge: true } as const;

async function setup(ep: Endpoint = endpoint()) {
  const ws = await createWorkspace();
  const hook = await createWebhook(ws.apiKey, { url: ep.url, events: ["message.received"] });
  await ep.program({ secrets: [hook.secret], fallback: { status: 200 } });
  return { ws, ep, hook };
}

/** Drives the first challenge's three retries (30, 60, 90 s) through the lane's alarm until it is dropped. */
async function untilChallengeDropped(webhookId: string, ep: Endpoint) {
  for (let n = 2; n <= 4; n++) {
    await runDurableObjectAlarm(lane(webhookId));
    await ep.waitFor(n);
  }
  await settledLane(webhookId, (s) => s.events.some((e) => e.type === "endpoint.verification" && e.status === "dropped"));
}

const getHook = async (key: string, id: string) => (await call("GET", `/v1/webhooks/${id}`, { key })).json;

describe("endpoint verification", () => {
  const logs = captureLogs();
  it("sends an endpoint that never answers exactly the challenge and its retries, while its events wait pending", async () => {
    const { ws, ep, hook } = await setup();
    expect(hook.verifiedAt).toBeNull();
    const [challenge] = await ep.waitFor(1);
    const body = JSON.parse(challenge!.body);
    expect(Object.keys(body)).toEqual(["event_type", "challenge", "timestamp"]);
    expect(body).toMatchObject({ event_type: "endpoint.verification", challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    // The Standard Webhooks extension's header carries the same challenge.
    expect(challenge!.headers["webhook-challenge"]).toBe(body.challenge);
    expect(Math.abs(body.timestamp - Date.now())).toBeLessThan(60_000);
    // Signed like a delivery: v1 with the secret, v1a with the public key.
    expect(challenge!.standardValid).toBe(true);
    const jwks = (await call("GET", `/v1/webhooks/${hook.id}/jwks.json`)).json;
    expect(await verifyV1a(jwks, new Headers(challenge!.headers), challenge!.body)).toBe(true);

    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await sendEvent(ws.apiKey, { type: "message.received", data: { i } }));
    expect((await call("POST", `/v1/webhooks/${hook.id}/test`, { key: ws.apiKey })).json.error.code).toBe("endpoint_unverified");
    await settledLane(hook.id, (s) => s.events.filter((e) => e.type === "message.received").length === 3);
    // The challenge's retries (30, 60, 90 s), then it is dropped; nothing else is ever sent.
    for (let n = 2; n <= 4; n++) {
      expect(await runDurableObjectAlarm(lane(hook.id))).toBe(true);
      await ep.waitFor(n);
    }
    const got = await ep.requests();
    expect(got).toHaveLength(4);
    expect(got.every((r) => r.body === challenge!.body && r.headers["webhook-id"] === challenge!.headers["webhook-id"])).toBe(true);

    const state = await settledLane(hook.id);
    expect(state.events.map((e) => [e.type, e.status])).toEqual([
      ["endpoint.verification", "dropped"],
      ["message.received", "pending"],
      ["message.received", "pending"],
      ["message.received", "pending"],
    ]);
    // Held events arm nothing: the lane's only alarm is the dropped challenge's retention.
    expect(state.alarm).toBe(state.events[0]!.finished_at! + RETENTION_MS);
    // The challenge is in the log with its attempts; its failures count against no quota.
    const log = (await call("GET", `/v1/webhooks/${hook.id}/deliveries`, { key: ws.apiKey })).json.data;
    expect(log.map((d: { eventType: string; status: string }) => d.status)).toEqual(["pending", "pending", "pending", "dropped"]);
    expect((await call("GET", "/v1/quota", { key: ws.apiKey })).json.failures).toBe(0);
    expect((await getHook(ws.apiKey, hook.id)).verifiedAt).toBeNull();
  });

  it("an endpoint that echoes the body stays unverified; once a 2xx answers with the library's response, records verifiedAt and delivers the held events in order", async () => {
    const ep = endpoint();
    // The first challenge is echoed (body and all), which verifies nothing; the retry is answered by the library.
    await ep.program({ fallback: { status: 200, echo: true } });
    const ws = await createWorkspace();
    const hook = await createWebhook(ws.apiKey, { url: ep.url, events: ["message.received"] });
    const [echoed] = await ep.waitFor(1);
    await ep.program({ secrets: [hook.secret], fallback: ANSWERS });
    const [judged] = (await settledLane(hook.id, (s) => s.events[0]?.attempt_count === 1)).events;
    expect(judged!.first_error).toBe("the response had no webhook-challenge-response header");
    expect(judged!.first_response_body).toBe(echoed!.body);
    expect((await getHook(ws.apiKey, hook.id)).verifiedAt).toBeNull();
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await sendEvent(ws.apiKey, { type: "message.received", data: { i } }));
    await settledLane(hook.id, (s) => s.events.length === 4);
    expect(await runDurableObjectAlarm(lane(hook.id))).toBe(true);
    const got = await ep.waitFor(5);
    expect(got.map(isChallenge)).toEqual([true, true, false, false, false]);
    expect(eventIdsOf(got.slice(2))).toEqual(ids);
    const verified: string = await eventually(async () => (await getHook(ws.apiKey, hook.id)).verifiedAt);
    expect(Date.parse(verified)).toBeGreaterThanOrEqual(got[1]!.at - 1000);
    // From now on events go straight out, and the test event too.
    await sendEvent(ws.apiKey, { type: "message.received", data: { i: 3 } });
    await ep.waitFor(6);
    expect((await call("POST", `/v1/webhooks/${hook.id}/test`, { key: ws.apiKey })).status).toBe(200);
    // Verify again: nothing is sent to a verified endpoint.
    const again = await call("POST", `/v1/webhooks/${hook.id}/verify`, { key: ws.apiKey });
    expect(again.status).toBe(200);
    expect(again.json.verifiedAt).toBe(verified);
    expect(await ep.requests()).toHaveLength(7);
  });

  it("POST /verify sends a new challenge after the last one was dropped, and the events follow its answer", async () => {
    const { ws, ep, hook } = await setup();
    await ep.waitFor(1);
    const id = await sendEvent(ws.apiKey, { type: "message.received", data: {} });
    await untilChallengeDropped(hook.id, ep);
    await ep.program({ secrets: [hook.secret], fallback: ANSWERS });
    const res = await call("POST", `/v1/webhooks/${hook.id}/verify`, { key: ws.apiKey });
    expect(res.status).toBe(200);
    expect(res.json.verifiedAt).toBeNull();
    const got = await ep.waitFor(6);
    expect(got.map(isChallenge)).toEqual([true, true, true, true, true, false]);
    expect(JSON.parse(got[4]!.body).challenge).not.toBe(JSON.parse(got[0]!.body).challenge);
    expect(eventIdsOf(got.slice(5))).toEqual([id]);
    expect(await eventually(async () => (await getHook(ws.apiKey, hook.id)).verifiedAt)).toEqual(expect.any(String));
  });

  it("starts over when the url changes: the new endpoint gets a challenge and nothing else until it answers; the old one nothing more", async () => {
    const { ws, ep: first, hook } = await setup();
    await first.waitFor(1);
    await first.program({ secrets: [hook.secret], fallback: ANSWERS });
    await runDurableObjectAlarm(lane(hook.id));
    await first.waitFor(2);
    await eventually(async () => (await getHook(ws.apiKey, hook.id)).verifiedAt ?? undefined);
    await sendEvent(ws.apiKey, { type: "message.received", data: { at: "first" } });
    await first.waitFor(3);

    const second = endpoint();
    await second.program({ secrets: [hook.secret], script: [{ status: 204 }], fallback: ANSWERS });
    const patched = await call("PATCH", `/v1/webhooks/${hook.id}`, { key: ws.apiKey, body: { url: second.url } });
    expect(patched.json.verifiedAt).toBeNull();
    await second.waitFor(1);
    const held = await sendEvent(ws.apiKey, { type: "message.received", data: { at: "second" } });
    await settledLane(hook.id, (s) => s.events.some((e) => e.id === held));
    expect((await second.requests()).map(isChallenge)).toEqual([true]);
    await runDurableObjectAlarm(lane(hook.id));
    const got = await second.waitFor(3);
    expect(got.map(isChallenge)).toEqual([true, true, false]);
    expect(eventIdsOf(got.slice(2))).toEqual([held]);
    expect(await first.requests()).toHaveLength(3);
    // Changing something else keeps the verification.
    const described = await call("PATCH", `/v1/webhooks/${hook.id}`, { key: ws.apiKey, body: { description: "still here" } });
    expect(described.json.verifiedAt).toEqual(expect.any(String));
  });

  it("refuses /verify on a disabled webhook (409 webhook_disabled) and an unknown one (404)", async () => {
    const { ws, hook } = await setup();
    await call("POST", `/v1/webhooks/${hook.id}/disable`, { key: ws.apiKey });
    expect((await call("POST", `/v1/webhooks/${hook.id}/verify`, { key: ws.apiKey })).json.error.code).toBe("webhook_disabled");
    expect((await call("POST", "/v1/webhooks/wh_missing/verify", { key: ws.apiKey })).status).toBe(404);
    expect((await laneState(hook.id)).events.every((e) => e.status !== "pending")).toBe(true);
  });

  it("shows the state on the webhook's page, whose Verify button sends a new challenge; once answered the page says verified", async () => {
    const { ws, ep, hook } = await setup();
    await ep.waitFor(1);
    const cookie = await signIn(ws.apiKey);
    const path = `/settings/integrations/webhooks/${hook.id}`;
    const before = await page("GET", path, { cookie });
    expect(before.html).toContain("Endpoint not verified");
    expect(before.html).toContain(`action="${path}/verify"`);
    await ep.program({ secrets: [hook.secret], fallback: ANSWERS });
    const pressed = await page("POST", `${path}/verify`, { cookie, form: { back: path } });
    expect([pressed.status, pressed.location]).toEqual([303, path]);
    const got = await ep.waitFor(2);
    expect(JSON.parse(got[1]!.body).challenge).not.toBe(JSON.parse(got[0]!.body).challenge);
    const flashed = await page("GET", path, {
      cookie: `${cookie}; ${pressed.headers
        .getSetCookie()
        .map((c) => c.split(";")[0])
        .join("; ")}`,
    });
    expect(flashed.html).toContain("Challenge sent to");
    await eventually(async () => (await getHook(ws.apiKey, hook.id)).verifiedAt);
    const after = await page("GET", path, { cookie });
    expect(after.html).toContain("Endpoint verified");
    expect(after.html).not.toContain(`action="${path}/verify"`);
  });

  it("retrying a dropped challenge from the log sends a new one first in line, not behind the events it holds back", async () => {
    const { ws, ep, hook } = await setup();
    const [first] = await ep.waitFor(1);
    const id = await sendEvent(ws.apiKey, { type: "message.received", data: {} });
    await untilChallengeDropped(hook.id, ep);
    await ep.program({ secrets: [hook.secret], fallback: ANSWERS });
    const retried = await call("POST", `/v1/webhooks/${hook.id}/deliveries/${first!.headers["webhook-id"]}/retry`, { key: ws.apiKey });
    expect(retried.status).toBe(202);
    expect(retried.json).toMatchObject({ type: "endpoint.verification", status: "pending" });
    expect(retried.json.eventId).not.toBe(first!.headers["webhook-id"]);
    const got = await ep.waitFor(6);
    expect(got.map(isChallenge)).toEqual([true, true, true, true, true, false]);
    expect(eventIdsOf(got.slice(5))).toEqual([id]);
  });

  it("keeps delivering when D1 cannot record the verification, and the alarm writes it there once D1 answers", async () => {
    const ep = endpoint();
    await ep.program({ fallback: { status: 500 } });
    const ws = await createWorkspace();
    const hook = await createWebhook(ws.apiKey, { url: ep.url, events: ["message.received"] });
    await ep.waitFor(1);
    await ep.program({ secrets: [hook.secret], fallback: ANSWERS });
    const id = await sendEvent(ws.apiKey, { type: "message.received", data: {} });
    await settledLane(hook.id, (s) => s.events.length === 2);
    // The lane's D1 fails (as in an outage) while its challenge is answered.
    const failingDb = {
      prepare: () => {
        throw new Error("D1 is unavailable");
      },
      batch: () => Promise.reject(new Error("D1 is unavailable")),
    };
    await runInDurableObject(lane(hook.id), (instance: EndpointLane) => {
      (instance as unknown as { env: Env }).env = Object.create(env, { DB: { value: failingDb } }) as Env;
    });
    await runDurableObjectAlarm(lane(hook.id));
    const got = await ep.waitFor(3);
    expect(eventIdsOf(got.slice(2))).toEqual([id]);
    // (Not settledLane: the retry is armed for 5 s after the failure, which its own `due` cannot reproduce.)
    const state = await eventually(async () => {
      const s = await laneState(hook.id);
      return s.lane?.verified_sync_pending === 1 && s.alarm !== null && s;
    });
    expect(state.lane!.verified_at).toEqual(expect.any(Number));
    expect((await getHook(ws.apiKey, hook.id)).verifiedAt).toBeNull();
    expect(logs.error).toContain(`lane ${hook.id}: could not record its verification in D1 yet: Error: D1 is unavailable`);
    // D1 is back: the retry the alarm was armed for writes it.
    expect(state.alarm! - Date.now()).toBeLessThanOrEqual(5_000);
    await runInDurableObject(lane(hook.id), (instance: EndpointLane) => {
      (instance as unknown as { env: Env }).env = env;
    });
    await runDurableObjectAlarm(lane(hook.id));
    expect((await getHook(ws.apiKey, hook.id)).verifiedAt).toBe(new Date(state.lane!.verified_at!).toISOString());
    expect((await laneState(hook.id)).lane!.verified_sync_pending).toBe(0);
  });
});
