// Alerts: the workspace's alertUrl receives its operational events (webhook.disabled, quota.warning,
// dead_letter.created) through a lane of their own: signed with alertSecret (Standard Webhooks), ordered,
// retried, logged; their failures count against nothing.
import { createMessageBatch, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { alertLaneName, quotaOf } from "../../src/bindings";
import { toQueuedEvent } from "../../src/events/ingest";
import worker from "../../src/index";
import { call, createWebhook, createWorkspace, eventually, sendEvent } from "../support/helpers";
import { lane, settledLane } from "../support/lane";
import { captureLogs } from "../support/logs";
import { cookiesOf, page, signIn } from "../support/pages";
import { endpoint, type Endpoint } from "../support/receiver";

const quota = (workspaceId: string) => quotaOf(env.WORKSPACE_QUOTA, workspaceId, null);

/** A workspace whose alertUrl is a real receiver that verifies with the alert secret. */
async function workspaceWithAlerts(fallback: { status: number } = { status: 200 }) {
  const ws = await createWorkspace("Acme", "ops@acme.example");
  const alerts = endpoint();
  const res = await call("PATCH", "/v1/workspace", { key: ws.apiKey, body: { alertUrl: alerts.url } });
  expect(res.status).toBe(200);
  const secret = res.json.alertSecret as string;
  await alerts.program({ fallback, secrets: [secret] });
  return { ws, alerts, secret };
}

/** Drives a webhook's retries (its alarm) until it is disabled. */
async function failUntilDisabled(key: string, webhookId: string) {
  for (;;) {
    const hook = (await call("GET", `/v1/webhooks/${webhookId}`, { key })).json;
    if (!hook.enabled) return hook;
    await settledLane(webhookId);
    if (!(await runDurableObjectAlarm(lane(webhookId)))) await new Promise((r) => setTimeout(r, 50));
  }
}

const bodiesOf = async (alerts: Endpoint) => (await alerts.requests()).map((r) => JSON.parse(r.body) as Record<string, unknown>);

describe("alertUrl and its secret", () => {
  it("returns the secret once, when alertUrl is first set; GET shows the URL and never the secret", async () => {
    const ws = await createWorkspace();
    expect((await call("GET", "/v1/workspace", { key: ws.apiKey })).json.alertUrl).toBeNull();
    const first = await call("PATCH", "/v1/workspace", { key: ws.apiKey, body: { alertUrl: "https://ops.example.com/alerts" } });
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({
      alertUrl: "https://ops.example.com/alerts",
      alertSecret: expect.stringMatching(/^whsec_[A-Za-z0-9+/=]{32}$/),
    });
    const again = await call("PATCH", "/v1/workspace", { key: ws.apiKey, body: { alertUrl: "https://ops.example.com/other" } });
    expect(again.json.alertUrl).toBe("https://ops.example.com/other");
    expect(again.json).not.toHaveProperty("alertSecret");
    const read = await call("GET", "/v1/workspace", { key: ws.apiKey });
    expect(read.json.alertUrl).toBe("https://ops.example.com/other");
    expect(read.text).not.toContain("whsec_");
    // notificationEmail is kept when only alertUrl changes, and the other way round.
    await call("PATCH", "/v1/workspace", { key: ws.apiKey, body: { notificationEmail: "ops@example.com" } });
    expect((await call("GET", "/v1/workspace", { key: ws.apiKey })).json).toMatchObject({
      notificationEmail: "ops@example.com",
      alertUrl: "https://ops.example.com/other",
    });
  });

  it("refuses a URL the policy refuses, with param alertUrl, and saves nothing of the request", async () => {
    const ws = await createWorkspace();
    for (const [alertUrl, code] of [
      ["ftp://ops.example.com/x", "url_scheme_not_allowed"],
      ["https://ops.example.com/x#frag", "invalid_url"],
      ["not a url", "invalid_url"],
      [42, "validation_failed"],
    ] as const) {
      const res = await call("PATCH", "/v1/workspace", { key: ws.apiKey, body: { alertUrl, notificationEmail: "x@example.com" } });
      expect(res.status, String(alertUrl)).toBe(400);
      expect(res.json.error).toMatchObject({ code, param: "alertUrl" });
    }
    expect((await call("GET", "/v1/workspace", { key: ws.apiKey })).json).toMatchObject({ alertUrl: null, notificationEmail: null });
  });

  it("rotates the secret: both sign for the grace; without an alertUrl, 409 alert_url_not_set", async () => {
    const bare = await createWorkspace();
    const refused = await call("POST", "/v1/workspace/rotate-alert-secret", { key: bare.apiKey });
    expect(refused.status).toBe(409);
    expect(refused.json.error.code).toBe("alert_url_not_set");
    expect((await call("POST", "/v1/workspace/alerts/test", { key: bare.apiKey })).json.error.code).toBe("alert_url_not_set");

    const { ws, alerts, secret: old } = await workspaceWithAlerts();
    const rotated = await call("POST", "/v1/workspace/rotate-alert-secret", { key: ws.apiKey });
    expect(rotated.status).toBe(200);
    const { alertSecret, previousSecretExpiresAt } = rotated.json;
    expect(alertSecret).not.toBe(old);
    expect(Date.parse(previousSecretExpiresAt) - Date.now()).toBeGreaterThan(23 * 3600 * 1000);
    // Each secret alone verifies the test alert.
    for (const secret of [old, alertSecret]) {
      await alerts.program({ secrets: [secret] });
      const sent = await call("POST", "/v1/workspace/alerts/test", { key: ws.apiKey });
      expect(sent.status).toBe(200);
      expect(sent.json).toMatchObject({ type: "alert.test", test: true, status: "delivered" });
      expect((await alerts.requests()).at(-1)!.standardValid).toBe(true);
    }
    const log = await call("GET", "/v1/workspace/alerts", { key: ws.apiKey });
    expect(log.json.data.map((d: { type: string }) => d.type)).toEqual(["alert.test", "alert.test"]);
  });
});

describe("operational events at the alertUrl", () => {
  const logs = captureLogs();
  const recorded = (event: { id: string; workspaceId: string }) =>
    `dead letter recorded: ${event.id} of ${event.workspaceId} (handing it to a webhook's lane kept failing until the queue gave up on it)`;
  it("sends quota.warning at 80% and webhook.disabled at the 31st failure, once each, signed, in order", async () => {
    const { ws, alerts } = await workspaceWithAlerts();
    const failing = endpoint();
    await failing.program({ fallback: { status: 500 } });
    const hook = await createWebhook(ws.apiKey, { url: failing.url, events: ["message.received"] });
    // 23 failures of another webhook, as lanes report them, then this webhook's own.
    for (let i = 0; i < 23; i++) {
      await quota(ws.id).recordFailure({
        webhookId: "wh_other",
        workspaceId: ws.id,
        eventId: `evt_${i}`,
        at: Date.now(),
        statusCode: 500,
        error: "HTTP 500",
      });
    }
    for (let i = 0; i < 3; i++) await sendEvent(ws.apiKey, { type: "message.received", data: { i } });
    const disabled = await failUntilDisabled(ws.apiKey, hook.id);
    expect(disabled.disabledReason).toBe("failure_quota");

    const got = await alerts.waitFor(2);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await alerts.requests()).toHaveLength(2);
    expect(got.every((r) => r.standardValid === true && r.respondIoValid === true)).toBe(true);
    const [warning, off] = await bodiesOf(alerts);
    expect(warning).toEqual({
      event_type: "quota.warning",
      event_id: expect.stringMatching(/^evt_/),
      timestamp: expect.any(Number),
      failures: 24,
      limit: 30,
      windowSeconds: 1800,
    });
    expect(off).toEqual({
      event_type: "webhook.disabled",
      event_id: expect.stringMatching(/^evt_/),
      timestamp: Date.parse(disabled.disabledAt),
      webhookId: hook.id,
      url: failing.url,
      reason: "failure_quota",
      disabledAt: disabled.disabledAt,
    });
    expect(got[1]!.headers["webhook-id"]).toBe(off!.event_id);

    // Logged like deliveries, and the alerts' own attempts counted against nothing.
    const log = await call("GET", "/v1/workspace/alerts", { key: ws.apiKey });
    expect(log.json.data.map((d: { type: string; status: string }) => [d.type, d.status])).toEqual([
      ["webhook.disabled", "delivered"],
      ["quota.warning", "delivered"],
    ]);
    const one = await call("GET", `/v1/workspace/alerts/${off!.event_id}`, { key: ws.apiKey });
    expect(one.json).toMatchObject({ payload: off, headers: expect.objectContaining({ "webhook-id": off!.event_id }) });
    // The quota's alarm run again raises nothing more.
    await runDurableObjectAlarm(quota(ws.id));
    await new Promise((r) => setTimeout(r, 1200));
    expect(await alerts.requests()).toHaveLength(2);
    expect((await quota(ws.id).alerts()).map((a) => [a.type, a.outcome])).toEqual([
      ["webhook.disabled", "sent"],
      ["quota.warning", "sent"],
    ]);
  });

  it("sends webhook.disabled with reason gone after a 410", async () => {
    const { ws, alerts } = await workspaceWithAlerts();
    const gone = endpoint();
    await gone.program({ fallback: { status: 410 } });
    const hook = await createWebhook(ws.apiKey, { url: gone.url, events: ["contact.created"] });
    await sendEvent(ws.apiKey, { type: "contact.created", data: {} });
    const disabled = await failUntilDisabled(ws.apiKey, hook.id);
    expect(disabled.disabledReason).toBe("gone");
    await alerts.waitFor(1);
    expect(await bodiesOf(alerts)).toEqual([
      expect.objectContaining({ event_type: "webhook.disabled", webhookId: hook.id, reason: "gone", url: gone.url }),
    ]);
  });

  it("retries a failing alertUrl on the schedule without touching the quota, and a 410 there disables nothing", async () => {
    const { ws, alerts } = await workspaceWithAlerts({ status: 200 });
    await alerts.program({ script: [{ status: 503 }, { status: 410 }], fallback: { status: 200 } });
    const gone = endpoint();
    await gone.program({ fallback: { status: 410 } });
    const hook = await createWebhook(ws.apiKey, { url: gone.url, events: ["contact.created"] });
    await sendEvent(ws.apiKey, { type: "contact.created", data: {} });
    await failUntilDisabled(ws.apiKey, hook.id);
    const alertLane = alertLaneName(ws.id);
    // Two failed attempts at the alertUrl (503, then 410), each followed by a retry the schedule armed.
    for (let i = 0; i < 3; i++) {
      const state = await settledLane(alertLane, (s) => s.events.length === 1 && s.events[0]!.attempt_count === i && s.alarm !== null);
      expect(state.lane).toMatchObject({ kind: "alerts", enabled: 1 });
      if (i > 0) expect(state.alarm! - (state.events[0]!.first_at ?? 0)).toBeGreaterThanOrEqual(30_000);
      await runDurableObjectAlarm(lane(alertLane));
    }
    const got = await alerts.waitFor(3);
    expect(got.map((r) => r.outcome)).toEqual([503, 410, 200]);
    expect(new Set(got.map((r) => r.headers["webhook-id"])).size).toBe(1);
    // Only the webhook's one 410 counted; the alert lane is still on.
    expect((await call("GET", "/v1/quota", { key: ws.apiKey })).json.failures).toBe(1);
    expect((await settledLane(alertLane)).lane).toMatchObject({ enabled: 1, disabled_reason: null });
    const [alert] = (await call("GET", "/v1/workspace/alerts", { key: ws.apiKey })).json.data;
    expect(alert).toMatchObject({
      type: "webhook.disabled",
      status: "delivered",
      attempts: [{ statusCode: 503 }, { statusCode: 410 }, { statusCode: 200 }],
    });
  });

  it("sends dead_letter.created once per dead message, even when the queue redelivers it", async () => {
    const { ws, alerts } = await workspaceWithAlerts();
    const event = await toQueuedEvent(ws.id, { type: "comment.created", data: { text: "hi" } }, Date.now());
    const message = { id: `dlq-${crypto.randomUUID()}`, timestamp: new Date(), attempts: 1, body: event };
    for (let delivery = 0; delivery < 2; delivery++) {
      await worker.queue(createMessageBatch("edge-webhooks-events-dlq", [{ ...message, attempts: delivery + 1 }]), env);
    }
    await alerts.waitFor(1);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await bodiesOf(alerts)).toEqual([
      expect.objectContaining({
        event_type: "dead_letter.created",
        eventId: event.id,
        type: "comment.created",
        reason: expect.stringContaining("kept failing"),
      }),
    ]);
    expect(logs.warn).toEqual([recorded(event), recorded(event)]);
  });

  it("sends nothing once alertUrl is cleared, and a workspace without one gets no alerts lane", async () => {
    const { ws, alerts } = await workspaceWithAlerts();
    expect((await call("PATCH", "/v1/workspace", { key: ws.apiKey, body: { alertUrl: null } })).json.alertUrl).toBeNull();
    const event = await toQueuedEvent(ws.id, { type: "comment.created", data: {} }, Date.now());
    await worker.queue(
      createMessageBatch("edge-webhooks-events-dlq", [
        { id: `dlq-${crypto.randomUUID()}`, timestamp: new Date(), attempts: 1, body: event },
      ]),
      env,
    );
    await new Promise((r) => setTimeout(r, 1500));
    expect(await alerts.requests()).toEqual([]);
    expect(logs.warn).toEqual([recorded(event)]);
    expect((await call("POST", "/v1/workspace/alerts/test", { key: ws.apiKey })).status).toBe(409);

    const bare = await createWorkspace();
    expect((await call("GET", "/v1/workspace/alerts", { key: bare.apiKey })).json).toEqual({ data: [], nextCursor: null });
    await eventually(async () => (await quota(bare.id).alerts()).length === 0);
  });
});

describe("the Alerts page", () => {
  it("sets the alert URL (secret shown once), refuses a bad one in words, tests, rotates after asking, and lists the alerts", async () => {
    const ws = await createWorkspace();
    let cookie = await signIn(ws.apiKey);
    const list = await page("GET", "/settings/integrations/webhooks", { cookie });
    expect(list.html).toContain('href="/settings/integrations/alerts"');
    const empty = await page("GET", "/settings/integrations/alerts", { cookie });
    expect(empty.status).toBe(200);
    expect(empty.html).toContain("Set an alert URL to receive them");

    const bad = await page("POST", "/settings/integrations/alerts", { cookie, form: { alertUrl: "ftp://ops.example.com/x" } });
    expect(bad.status).toBe(400);
    expect(bad.html).toContain('aria-invalid="true"');
    expect(bad.html).toContain('value="ftp://ops.example.com/x"');

    const alerts = endpoint();
    const set = await page("POST", "/settings/integrations/alerts", { cookie, form: { alertUrl: alerts.url } });
    expect(set.status).toBe(200);
    const secret = /id="secret"[^>]*value="(whsec_[^"]+)"/.exec(set.html)?.[1];
    expect(secret).toBeDefined();
    await alerts.program({ secrets: [secret!] });

    const tested = await page("POST", "/settings/integrations/alerts/test", { cookie, form: { back: "/settings/integrations/alerts" } });
    expect(tested.status).toBe(303);
    cookie = cookiesOf(tested, cookie);
    const after = await page("GET", "/settings/integrations/alerts", { cookie });
    expect(after.html).toContain("Test alert delivered");
    expect(after.html).toContain("alert.test");
    expect((await alerts.requests())[0]!.standardValid).toBe(true);

    const ask = await page("GET", "/settings/integrations/alerts/rotate-secret", { cookie });
    expect(ask.html).toContain("Rotate the alert secret?");
    const rotated = await page("POST", "/settings/integrations/alerts/rotate-secret", { cookie, form: {} });
    const next = /id="secret"[^>]*value="(whsec_[^"]+)"/.exec(rotated.html)?.[1];
    expect(next).toBeDefined();
    expect(next).not.toBe(secret);
    expect(rotated.html).toContain("The previous secret keeps signing too until");
  });
});
