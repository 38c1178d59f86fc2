// The URL policy in force is applied at every attempt, not only when a webhook is written: a webhook stored while
// private URLs were allowed receives nothing once they are not, and stays editable.
import { createExecutionContext, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { EndpointLane } from "../../src/delivery/lane/endpoint-lane";
import type { Env } from "../../src/env";
import worker from "../../src/index";
import { call, createWebhook, createWorkspace, sendEvent } from "../support/helpers";
import { lane, laneState, settledLane } from "../support/lane";
import { endpoint } from "../support/receiver";

/** The Worker's bindings as after a restart with ALLOW_PRIVATE_URLS=false (defined, not assigned: env is a proxy that would take the write). */
const strictEnv = (): Env => Object.create(env, { ALLOW_PRIVATE_URLS: { value: "false" } }) as Env;

/** Makes a lane instance run under the strict policy, as it would after the operator's restart. */
async function restartLaneStrict(webhookId: string) {
  await runInDurableObject(lane(webhookId), (instance: EndpointLane) => {
    (instance as unknown as { env: Env }).env = strictEnv();
  });
}

async function strictCall(method: string, path: string, key: string, body?: unknown) {
  const init: RequestInit = { method, headers: { authorization: `Bearer ${key}`, "content-type": "application/json" } };
  if (body !== undefined) init.body = JSON.stringify(body);
  const res = await worker.fetch(new Request(`http://edge.test${path}`, init), strictEnv(), createExecutionContext());
  return { status: res.status, json: (await res.json()) as any };
}

describe("URL policy at attempt time", () => {
  it("sends nothing to a private URL once private URLs are not allowed: a failed attempt with url_not_allowed, retried and counted", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    const hook = await createWebhook(ws.apiKey, { url: ep.url, events: ["contact.created"] });
    // Allowed while ALLOW_PRIVATE_URLS is true: the first event arrives.
    await sendEvent(ws.apiKey, { type: "contact.created", data: { n: 1 } });
    await ep.waitFor(1);

    await restartLaneStrict(hook.id);
    const refused = await sendEvent(ws.apiKey, { type: "contact.created", data: { n: 2 } });
    const state = await settledLane(hook.id, (s) => s.attempts.length === 2);
    const attempt = state.attempts.find((a) => a.event_id === refused)!;
    expect(attempt).toMatchObject({ status_code: null, error: expect.stringMatching(/^url_not_allowed: url must use https, got http/) });
    expect(state.events.find((e) => e.id === refused)).toMatchObject({ status: "pending", attempt_count: 1 });
    expect(await ep.requests()).toHaveLength(1);

    // Like any failed attempt: retried on schedule (still refused) and counted against the workspace's quota.
    await runDurableObjectAlarm(lane(hook.id));
    const after = await settledLane(hook.id, (s) => s.attempts.length === 3);
    expect(after.attempts.at(-1)).toMatchObject({ event_id: refused, error: expect.stringMatching(/^url_not_allowed: /) });
    expect((await call("GET", "/v1/quota", { key: ws.apiKey })).json.failures).toBe(2);
    expect(await ep.requests()).toHaveLength(1);
    const log = await call("GET", `/v1/webhooks/${hook.id}/deliveries/${refused}`, { key: ws.apiKey });
    expect(log.json.attempts[0]).toMatchObject({ statusCode: null, error: expect.stringMatching(/^url_not_allowed: /) });
  });

  it("refuses a stored https URL to an IPv4-compatible loopback at attempt time too", async () => {
    const ws = await createWorkspace();
    const hook = await createWebhook(ws.apiKey, { url: "https://[::127.0.0.1]:1/hooks", events: ["contact.created"] });
    await restartLaneStrict(hook.id);
    await sendEvent(ws.apiKey, { type: "contact.created", data: {} });
    const state = await settledLane(hook.id, (s) => s.attempts.length === 1);
    expect(state.attempts[0]).toMatchObject({
      status_code: null,
      error: expect.stringMatching(/^url_not_allowed: url points at a loopback.*\[::7f00:1\]/),
    });
    expect((await laneState(hook.id)).events[0]!.status).toBe("pending");
  });

  it("lets a PATCH that leaves the URL as stored succeed under the stricter policy, and judges a changed URL", async () => {
    const ws = await createWorkspace();
    const hook = await createWebhook(ws.apiKey, { url: "http://127.0.0.1:9/hooks", events: ["contact.created"] });
    const withoutUrl = await strictCall("PATCH", `/v1/webhooks/${hook.id}`, ws.apiKey, { description: "renamed" });
    expect(withoutUrl).toMatchObject({ status: 200, json: { description: "renamed", url: hook.url } });
    const sameUrl = await strictCall("PATCH", `/v1/webhooks/${hook.id}`, ws.apiKey, { url: hook.url, events: ["contact.updated"] });
    expect(sameUrl).toMatchObject({ status: 200, json: { events: ["contact.updated"], url: hook.url } });
    const changed = await strictCall("PATCH", `/v1/webhooks/${hook.id}`, ws.apiKey, { url: "http://127.0.0.1:10/hooks" });
    expect(changed).toMatchObject({ status: 400, json: { error: { code: "url_scheme_not_allowed", param: "url" } } });
    const sneaky = await strictCall("PATCH", `/v1/webhooks/${hook.id}`, ws.apiKey, { url: ` ${hook.url}` });
    expect(sneaky).toMatchObject({ status: 400, json: { error: { code: "invalid_url" } } });
    expect((await call("GET", `/v1/webhooks/${hook.id}`, { key: ws.apiKey })).json.url).toBe(hook.url);
  });
});
