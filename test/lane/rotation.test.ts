// Secret rotation: for 24 h both secrets sign, so a receiver holding either verifies; then only the new.
// The grace period is crossed by moving the clock (vi.setSystemTime reaches the worker and its lanes).
import { runDurableObjectAlarm } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it, vi } from "vitest";
import { signingSecrets } from "../../src/lib/rotation";
import type { RecordedRequest } from "../support/receiver";
import { call, createWebhook, createWorkspace, sendEvent } from "../support/helpers";
import { lane, settledLane } from "../support/lane";
import { endpoint } from "../support/receiver";

const DAY = 86_400_000;

/** Whether a receiver holding only `secret` accepts the request (Standard Webhooks, at the current clock). */
function verifies(secret: string, req: RecordedRequest): boolean {
  try {
    new Webhook(secret).verify(req.body, req.headers);
    return true;
  } catch {
    return false;
  }
}

afterEach(() => {
  vi.useRealTimers();
});

describe("secret rotation", () => {
  it("signs with both secrets for 24 h, then with the new one only", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    const hook = await createWebhook(ws.apiKey, { url: ep.url, events: ["message.received"] });
    const old: string = hook.secret;

    const rotated = await call("POST", `/v1/webhooks/${hook.id}/rotate-secret`, { key: ws.apiKey });
    expect(rotated.status).toBe(200);
    const fresh: string = rotated.json.secret;
    expect(fresh).toMatch(/^whsec_/);
    expect(fresh).not.toBe(old);
    const graceEnds = Date.parse(rotated.json.previousSecretExpiresAt);
    expect(graceEnds - Date.parse(rotated.json.updatedAt)).toBe(DAY);
    expect((await call("GET", `/v1/webhooks/${hook.id}`, { key: ws.apiKey })).json).not.toHaveProperty("secret");

    await sendEvent(ws.apiKey, { type: "message.received", data: { n: 1 } });
    const [during] = await ep.waitFor(1);
    expect(during!.headers["webhook-signature"]!.split(" ").filter((entry) => entry.startsWith("v1,"))).toHaveLength(2);
    expect(verifies(old, during!)).toBe(true);
    expect(verifies(fresh, during!)).toBe(true);
    expect(verifies("whsec_" + btoa("not the secret at all!!"), during!)).toBe(false);
    await settledLane(hook.id, (s) => s.events[0]?.status === "delivered");

    // A minute after the grace ends (the clock moved, not waited for): only the new secret signs.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(graceEnds + 60_000);
    expect((await call("GET", `/v1/webhooks/${hook.id}`, { key: ws.apiKey })).json.previousSecretExpiresAt).toBeNull();
    await sendEvent(ws.apiKey, { type: "message.received", data: { n: 2 } });
    // The lane holds the event for the ordering window on the moved clock; run its alarm rather than wait.
    await settledLane(hook.id, (s) => s.events.length === 2);
    await runDurableObjectAlarm(lane(hook.id));
    const [, after] = await ep.waitFor(2);
    expect(Number(after!.headers["webhook-timestamp"]) * 1000).toBeGreaterThanOrEqual(graceEnds);
    expect(after!.headers["webhook-signature"]!.split(" ").filter((entry) => entry.startsWith("v1,"))).toHaveLength(1);
    expect(verifies(fresh, after!)).toBe(true);
    expect(verifies(old, after!)).toBe(false);
  });

  it("lets a second rotation end the first one's grace, and answers 404 for another workspace's webhook", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    const hook = await createWebhook(ws.apiKey, { url: ep.url, events: ["message.received"] });
    const first = (await call("POST", `/v1/webhooks/${hook.id}/rotate-secret`, { key: ws.apiKey })).json.secret;
    const second = (await call("POST", `/v1/webhooks/${hook.id}/rotate-secret`, { key: ws.apiKey })).json.secret;
    await sendEvent(ws.apiKey, { type: "message.received", data: {} });
    const [req] = await ep.waitFor(1);
    expect([verifies(hook.secret, req!), verifies(first, req!), verifies(second, req!)]).toEqual([false, true, true]);
    const other = await createWorkspace("Other");
    expect((await call("POST", `/v1/webhooks/${hook.id}/rotate-secret`, { key: other.apiKey })).status).toBe(404);
  });

  it("chooses the signing secrets at the attempt's time, to the millisecond", () => {
    const lane = { secret: "whsec_new", previousSecret: "whsec_old", previousSecretExpiresAt: 1_000 };
    expect(signingSecrets(lane, 999)).toEqual(["whsec_new", "whsec_old"]);
    expect(signingSecrets(lane, 1_000)).toEqual(["whsec_new"]);
    expect(signingSecrets({ ...lane, previousSecret: null, previousSecretExpiresAt: null }, 0)).toEqual(["whsec_new"]);
  });
  it("a rotation during a backlog: each request is signed by the secrets in force when it was sent, stamped with that second", async () => {
    // The lane signs the next event while a request is out (endpoint-lane.ts `presigned`); that signature
    // must never outlive the config it was made under, nor the second it is stamped with.
    const ws = await createWorkspace();
    const ep = endpoint();
    // Request 20 is answered slowly: the rotation reaches the lane while it is out, after the lane signed
    // request 21 under the old config.
    const quick = Array.from({ length: 19 }, () => ({ status: 200 }));
    await ep.program({ script: [...quick, { status: 200, delayMs: 600 }], fallback: { status: 200 } });
    const hook = await createWebhook(ws.apiKey, { url: ep.url, events: ["message.received"] });
    const old: string = hook.secret;
    const events = Array.from({ length: 40 }, (_, i) => ({ type: "message.received", data: { i } }));
    expect((await call("POST", "/v1/events/batch", { key: ws.apiKey, body: { events } })).status).toBe(202);
    await ep.waitFor(20);
    const rotated = await call("POST", `/v1/webhooks/${hook.id}/rotate-secret`, { key: ws.apiKey });
    expect(rotated.status).toBe(200);
    const got = await ep.waitFor(40);
    const before = got.slice(0, 20);
    const after = got.slice(20);
    for (const req of got) {
      expect(verifies(old, req)).toBe(true);
      // Stamped with the second it left in, give or take the receiver's arrival a moment later.
      const stamped = Number(req.headers["webhook-timestamp"]) * 1000;
      expect(req.at - stamped).toBeGreaterThanOrEqual(0);
      expect(req.at - stamped).toBeLessThan(2000);
    }
    for (const req of before)
      expect(req.headers["webhook-signature"]!.split(" ").filter((entry) => entry.startsWith("v1,"))).toHaveLength(1);
    for (const req of after) {
      expect(req.headers["webhook-signature"]!.split(" ").filter((entry) => entry.startsWith("v1,"))).toHaveLength(2);
      expect(verifies(rotated.json.secret, req)).toBe(true);
    }
  });
});
