// The shared failure quota: more than FAILURE_QUOTA_LIMIT failed attempts in the window disables the
// webhook whose failure went over, emails the workspace once, and keeps its events as skipped.
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createWebhook, createWorkspace, eventually, sendEvent } from "../support/helpers";
import type { Env } from "../../src/env";
import { warningNotice } from "../../src/quota/notice";
import { quotaOf } from "../../src/bindings";
import { autoDisableReason } from "../../src/quota/decide";
import type { WorkspaceQuota } from "../../src/quota/workspace-quota";
import { lane, laneState, RETENTION_MS, settledLane } from "../support/lane";
import { captureLogs } from "../support/logs";
import { endpoint, eventIdsOf } from "../support/receiver";

const quota = (workspaceId: string) => quotaOf(env.WORKSPACE_QUOTA, workspaceId, null);

/** Drives the lane's retries (its alarm) until it has made `attempts` attempts. */
async function attemptUntil(webhookId: string, attempts: number) {
  for (;;) {
    const state = await settledLane(webhookId);
    if (state.attempts.length >= attempts) return state;
    if (!(await runDurableObjectAlarm(lane(webhookId)))) await new Promise((r) => setTimeout(r, 50));
  }
}

/** The workspace's disable notices once none is still owed (the quota's alarm sends them). */
function sentNotices(workspaceId: string) {
  return eventually(async () => {
    const notices = await disableNotices(workspaceId);
    return notices.length > 0 && notices.every((n) => n.outcome !== "owed") && notices;
  });
}

const disableNotices = async (workspaceId: string) => (await quota(workspaceId).notices()).filter((n) => n.kind === "disable");
const warnings = async (workspaceId: string) => (await quota(workspaceId).notices()).filter((n) => n.kind === "warning");

/**
 * A workspace whose notification address is already confirmed (test/notification-email.test.ts tests the link
 * itself): an unconfirmed address receives no notice.
 */
async function confirmedWorkspace(name: string, address: string) {
  const ws = await createWorkspace(name, address);
  await env.DB.prepare("UPDATE workspaces SET notification_email_confirmed_at = ? WHERE id = ?").bind(Date.now(), ws.id).run();
  return ws;
}

/** Fills the workspace's window with failures of some other webhook, as lanes report them. */
async function prefill(workspaceId: string, count: number) {
  for (let i = 0; i < count; i++) {
    await quota(workspaceId).recordFailure({
      webhookId: "wh_other",
      eventId: `evt_${i}`,
      at: Date.now(),
      statusCode: 500,
      error: "HTTP 500",
    });
  }
}

describe("failure quota", () => {
  it("disables nothing at 30 failures across two webhooks; the 31st disables the webhook it came from and emails once", async () => {
    const ws = await confirmedWorkspace("Acme", "ops@acme.example");
    const [a, b] = [endpoint(), endpoint()];
    await a.program({ fallback: { status: 500 } });
    await b.program({ fallback: { status: 503 } });
    const hookA = await createWebhook(ws.apiKey, { url: a.url, events: ["message.received"] });
    const hookB = await createWebhook(ws.apiKey, { url: b.url, events: ["contact.created"], description: "CRM" });
    for (let i = 0; i < 8; i++) {
      await sendEvent(ws.apiKey, { type: "message.received", data: { i } });
      await sendEvent(ws.apiKey, { type: "contact.created", data: { i } });
    }
    await attemptUntil(hookA.id, 15);
    await attemptUntil(hookB.id, 15);

    expect((await call("GET", "/v1/quota", { key: ws.apiKey })).json).toEqual({ limit: 30, windowSeconds: 1800, failures: 30 });
    for (const hook of [hookA, hookB]) {
      expect((await call("GET", `/v1/webhooks/${hook.id}`, { key: ws.apiKey })).json.enabled).toBe(true);
    }
    expect(await disableNotices(ws.id)).toEqual([]);
    // The 24th failure (80% of 30) warned the workspace once, before anything was disabled.
    const warned = await eventually(async () => {
      const sent = await warnings(ws.id);
      return sent.length > 0 && sent.every((n) => n.outcome !== "owed") && sent;
    });
    expect(warned).toEqual([
      expect.objectContaining({
        kind: "warning",
        recipient: "ops@acme.example",
        outcome: "sent",
        subject: "Webhooks failing: 24 of 30 failed attempts allowed in 30 minutes",
      }),
    ]);

    // The 31st failed attempt, B's.
    await runDurableObjectAlarm(lane(hookB.id));
    const disabledB = await eventually(async () => {
      const res = await call("GET", `/v1/webhooks/${hookB.id}`, { key: ws.apiKey });
      return res.json.enabled === false && res.json;
    });
    expect(disabledB).toMatchObject({ enabled: false, disabledReason: "failure_quota", disabledAt: expect.any(String) });
    const row = await env.DB.prepare("SELECT enabled, disabled_reason, disabled_at FROM webhooks WHERE id = ?").bind(hookB.id).first();
    expect(row).toEqual({ enabled: 0, disabled_reason: "failure_quota", disabled_at: Date.parse(disabledB.disabledAt) });
    expect((await call("GET", `/v1/webhooks/${hookA.id}`, { key: ws.apiKey })).json).toMatchObject({ enabled: true, disabledReason: null });
    expect((await call("GET", "/v1/quota", { key: ws.apiKey })).json.failures).toBe(31);

    // Deliveries stop at once: nothing pending, everything undelivered kept as skipped, and the alarm
    // left only for retention (the oldest finished event's expiry), not for another attempt.
    const stateB = await settledLane(hookB.id);
    expect(stateB.events.filter((e) => e.status === "pending")).toEqual([]);
    expect(stateB.events.filter((e) => e.status === "skipped").length).toBeGreaterThan(0);
    expect(stateB.events.every((e) => e.status === "skipped" || e.status === "dropped")).toBe(true);
    expect(stateB.alarm).toBe(Math.min(...stateB.events.map((e) => e.finished_at!)) + RETENTION_MS);
    await new Promise((r) => setTimeout(r, 300));
    expect(await b.requests()).toHaveLength(16);

    const notices = await sentNotices(ws.id);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({
      webhook_id: hookB.id,
      recipient: "ops@acme.example",
      outcome: "sent",
      message_id: expect.any(String),
      subject: `Webhook ${hookB.id} disabled after repeated failures`,
      disabled_at: Date.parse(disabledB.disabledAt),
    });
    // The notice is owed once: the quota's alarm run again sends nothing more; nor is the warning sent again.
    await runDurableObjectAlarm(quota(ws.id));
    expect(await disableNotices(ws.id)).toHaveLength(1);
    expect(await warnings(ws.id)).toHaveLength(1);
  });

  it("leaves another workspace's quota and webhooks untouched", async () => {
    const [one, two] = [await createWorkspace("one"), await createWorkspace("two")];
    const ep = endpoint();
    await ep.program({ fallback: { status: 500 } });
    const hook = await createWebhook(two.apiKey, { url: ep.url, events: ["message.sent"] });
    await prefill(one.id, 40);
    await sendEvent(two.apiKey, { type: "message.sent", data: {} });
    await attemptUntil(hook.id, 1);
    expect((await call("GET", "/v1/quota", { key: two.apiKey })).json.failures).toBe(1);
    expect((await call("GET", "/v1/quota", { key: one.apiKey })).json.failures).toBe(40);
    expect((await call("GET", `/v1/webhooks/${hook.id}`, { key: two.apiKey })).json.enabled).toBe(true);
  });

  it("counts only failures inside the sliding window, to the millisecond", async () => {
    const window = quota(`ws_window_${crypto.randomUUID()}`);
    const windowMs = 1800 * 1000;
    const t0 = Date.now() - windowMs;
    for (let i = 0; i < 30; i++) {
      const verdict = await window.recordFailure({ webhookId: "wh_a", eventId: `e${i}`, at: t0 + i, statusCode: 500, error: null });
      expect(verdict.exceeded).toBe(false);
    }
    // 31st while the first is still inside the window (it leaves at t0 + window): over the limit.
    expect(
      await window.recordFailure({ webhookId: "wh_b", eventId: "x", at: t0 + windowMs - 1, statusCode: 500, error: null }),
    ).toMatchObject({
      failures: 31,
      exceeded: true,
    });
    // One millisecond later the first failure has left the window.
    expect(await window.recordFailure({ webhookId: "wh_b", eventId: "y", at: t0 + windowMs, statusCode: 500, error: null })).toMatchObject({
      failures: 31,
      exceeded: true,
    });
    // Far later, only failures of the last 30 minutes count.
    expect(
      await window.recordFailure({ webhookId: "wh_b", eventId: "z", at: t0 + 3 * windowMs, statusCode: 500, error: null }),
    ).toMatchObject({
      failures: 1,
      exceeded: false,
    });
  });

  it("keeps its window when the quota object restarts", async () => {
    const ws = await createWorkspace();
    await prefill(ws.id, 12);
    await evictDurableObject(quota(ws.id));
    expect(await quota(ws.id).status()).toEqual({ limit: 30, windowSeconds: 1800, failures: 12 });
  });

  it("disables without an email, and without breaking, when the workspace has no address", async () => {
    const ws = await createWorkspace("No address");
    const ep = endpoint();
    await ep.program({ fallback: { status: 500 } });
    const hook = await createWebhook(ws.apiKey, { url: ep.url, events: ["message.sent"] });
    await prefill(ws.id, 30);
    await sendEvent(ws.apiKey, { type: "message.sent", data: {} });
    const disabled = await eventually(async () => {
      const res = await call("GET", `/v1/webhooks/${hook.id}`, { key: ws.apiKey });
      return res.json.enabled === false && res.json;
    });
    expect(disabled.disabledReason).toBe("failure_quota");
    const notices = await sentNotices(ws.id);
    expect(notices).toEqual([expect.objectContaining({ webhook_id: hook.id, recipient: null, message_id: null, outcome: "no_address" })]);
  });

  it("warns the workspace when its window reaches 80% of the limit, once per window", async () => {
    const ws = await confirmedWorkspace("Warned", "ops@warned.example");
    const q = quota(ws.id);
    const windowMs = 1800 * 1000;
    const t0 = Date.now() - 3 * windowMs;
    const fail = (i: number, at: number) =>
      q.recordFailure({ webhookId: "wh_a", workspaceId: ws.id, eventId: `e${i}`, at, statusCode: 500, error: null });
    for (let i = 0; i < 23; i++) await fail(i, t0 + i);
    expect(await warnings(ws.id)).toEqual([]);
    await fail(23, t0 + 23); // the 24th: 80% of 30
    expect(await warnings(ws.id)).toEqual([expect.objectContaining({ kind: "warning", webhook_id: "", disabled_at: t0 + 23 })]);
    for (let i = 24; i < 30; i++) await fail(i, t0 + i);
    expect(await warnings(ws.id)).toHaveLength(1);
    // A window later the count starts again: reaching 80% again warns again.
    for (let i = 0; i < 24; i++) await fail(100 + i, t0 + windowMs + 1000 + i);
    const both = await eventually(async () => {
      const sent = await warnings(ws.id);
      return sent.length === 2 && sent.every((n) => n.outcome !== "owed") && sent;
    });
    expect(both.map((n) => n.disabled_at).sort()).toEqual([t0 + 23, t0 + windowMs + 1000 + 23]);
    expect(both[0]).toMatchObject({ recipient: "ops@warned.example", outcome: "sent" });
    expect(
      warningNotice({ failures: 24, limit: 30, windowSeconds: 1800, at: 0, publicUrl: "https://webhooks.example.com" }).text,
    ).toContain("https://webhooks.example.com/settings/integrations/webhooks");
  });

  it("lets 410 Gone disable as gone, with no quota email, even over the limit", async () => {
    const ws = await createWorkspace("Gone", "ops@gone.example");
    await prefill(ws.id, 30);
    const verdict = await quota(ws.id).recordFailure({
      webhookId: "wh_gone",
      eventId: "e",
      at: Date.now(),
      statusCode: 410,
      error: "HTTP 410",
    });
    expect(verdict).toMatchObject({ failures: 31, exceeded: true, disable: "gone" });
    expect(await quota(ws.id).notices()).toEqual([]);
    expect(autoDisableReason(500, false)).toBeNull();
    expect(autoDisableReason(500, true)).toBe("failure_quota");
    expect(autoDisableReason(null, true)).toBe("failure_quota");
  });

  it("resumes delivery in order on enable, with the webhook's old failures no longer counting", async () => {
    const ws = await createWorkspace("Resume", "ops@resume.example");
    const ep = endpoint();
    await ep.program({ script: [{ status: 500 }], fallback: { status: 200 } });
    const hook = await createWebhook(ws.apiKey, { url: ep.url, events: ["conversation.closed"] });
    await prefill(ws.id, 30);
    const skipped = await sendEvent(ws.apiKey, { type: "conversation.closed", data: { n: 0 } });
    await eventually(async () => (await call("GET", `/v1/webhooks/${hook.id}`, { key: ws.apiKey })).json.enabled === false);
    const whileDisabled = await sendEvent(ws.apiKey, { type: "conversation.closed", data: { n: 1 } });
    await eventually(async () => (await laneState(hook.id)).events.length === 2);

    const enabled = await call("POST", `/v1/webhooks/${hook.id}/enable`, { key: ws.apiKey });
    expect(enabled.json).toMatchObject({ enabled: true, disabledReason: null, disabledAt: null });
    expect((await call("GET", "/v1/quota", { key: ws.apiKey })).json.failures).toBe(30);

    const after = [];
    for (let n = 2; n < 5; n++) after.push(await sendEvent(ws.apiKey, { type: "conversation.closed", data: { n } }));
    const got = await ep.waitFor(4);
    expect(eventIdsOf(got)).toEqual([skipped, ...after]);
    const state = await settledLane(hook.id);
    expect(state.events.map((e) => [e.id, e.status])).toEqual([
      [skipped, "skipped"],
      [whileDisabled, "skipped"],
      ...after.map((id) => [id, "delivered"]),
    ]);
  });
});

describe("disable notice", () => {
  const logs = captureLogs();
  /** Makes the quota object's email binding fail its next `times` sends, as Email Sending does before it is set up. */
  async function failSends(workspaceId: string, times: number) {
    await runInDurableObject(quota(workspaceId), (instance: WorkspaceQuota) => {
      const self = instance as unknown as { env: Env };
      const real = self.env.EMAIL!;
      let left = times;
      const send: SendEmail["send"] = async (message) => {
        if (left-- > 0) throw new Error("Email Sending is not set up for this domain");
        return real.send(message as Parameters<SendEmail["send"]>[0]);
      };
      self.env = { ...self.env, EMAIL: { send } as SendEmail };
    });
  }

  /** The quota's notice row and armed alarm once its attempt count reaches `attempts`. */
  function noticeAfter(workspaceId: string, attempts: number) {
    return eventually(async () => {
      const [notice] = await quota(workspaceId).notices();
      const alarm = await runInDurableObject(quota(workspaceId), (_i: WorkspaceQuota, state) => state.storage.getAlarm());
      return notice && notice.attempts === attempts && { notice, alarm };
    });
  }

  /** A webhook whose failure takes its workspace over the limit, while the next `failingSends` sends fail. */
  async function overTheLimit(name: string, failingSends: number) {
    const ws = await confirmedWorkspace(name, `ops@${name}.example`);
    const hook = await createWebhook(ws.apiKey, { events: ["message.sent"] });
    await prefill(ws.id, 30);
    await failSends(ws.id, failingSends);
    const verdict = await quota(ws.id).recordFailure({
      webhookId: hook.id,
      eventId: "evt_over",
      at: Date.now(),
      statusCode: 500,
      error: "HTTP 500",
    });
    expect(verdict).toMatchObject({ exceeded: true, disable: "failure_quota" });
    return { ws, hook };
  }

  it("is retried by the quota's own alarm 5 s after each failed send, then sent once", async () => {
    const { ws, hook } = await overTheLimit("retry", 2);
    for (const attempts of [1, 2]) {
      const { notice, alarm } = await noticeAfter(ws.id, attempts);
      expect(notice).toMatchObject({ webhook_id: hook.id, outcome: "owed", message_id: null });
      expect(alarm).toBe(notice.next_try_at);
      expect(notice.next_try_at).toBeGreaterThan(Date.now());
      await runDurableObjectAlarm(quota(ws.id));
    }
    const { notice, alarm } = await noticeAfter(ws.id, 3);
    expect(notice).toMatchObject({ outcome: "sent", recipient: "ops@retry.example", message_id: expect.any(String) });
    expect(alarm).toBeNull();
    expect(await quota(ws.id).notices()).toHaveLength(1);
    expect(logs.error).toEqual(
      [1, 2].map(
        (n) =>
          `workspace quota: disable notice for ${hook.id} could not be sent (attempt ${n}): Error: Email Sending is not set up for this domain`,
      ),
    );
  });

  it("is given up, loudly, after 10 failed sends, and the alarm stops", async () => {
    const { ws, hook } = await overTheLimit("give-up", 100);
    for (let attempts = 1; attempts < 10; attempts++) {
      const { notice, alarm } = await noticeAfter(ws.id, attempts);
      expect([notice.outcome, alarm]).toEqual(["owed", notice.next_try_at]);
      await runDurableObjectAlarm(quota(ws.id));
    }
    const { notice, alarm } = await noticeAfter(ws.id, 10);
    expect([notice.outcome, notice.message_id, alarm]).toEqual(["gave_up", null, null]);
    expect(logs.error.at(-1)).toBe(
      `workspace quota: disable notice for ${hook.id} could not be sent (attempt 10, giving up): Error: Email Sending is not set up for this domain`,
    );
    expect(logs.error).toHaveLength(10);
  });
});
