// A workspace's notification address receives nothing but one confirmation message until its owner confirms it
// (a landing page, then a POST); the workspace and its pages show the state and can resend (rate limited); the
// notices carry no text the workspace chose, save its URL quoted and marked.
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env } from "../../src/env";
import worker from "../../src/index";
import { disableNotice } from "../../src/quota/notice";
import { quotaOf } from "../../src/bindings";
import { ADMIN_TOKEN, call, createWebhook, eventually } from "../support/helpers";
import { cookiesOf, page, signIn } from "../support/pages";

interface Sent {
  from: string;
  to: string;
  subject: string;
  text: string;
}

/** The Worker with an EMAIL binding that records what it is asked to send. */
function withOutbox() {
  const outbox: Sent[] = [];
  const EMAIL = { send: async (message: Sent) => (outbox.push(message), { messageId: `m${outbox.length}` }) };
  const configured = Object.create(env, { EMAIL: { value: EMAIL } }) as Env;
  const callWith = async (method: string, path: string, key: string, body?: unknown) => {
    const res = await worker.fetch(
      new Request(`http://edge.test${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
      configured,
      createExecutionContext(),
    );
    return { status: res.status, headers: res.headers, json: (await res.json()) as any };
  };
  return { outbox, callWith };
}

/** The link of a confirmation message, as a path on this Worker. */
const linkOf = (message: Sent) => {
  const url = /https?:\/\/\S+\/settings\/confirm-email\/[A-Za-z0-9_-]{43}/.exec(message.text)?.[0];
  expect(url).toBeDefined();
  return new URL(url!).pathname;
};

const tokenOf = (html: string) => /name="token" value="([A-Za-z0-9_-]{43})"/.exec(html)?.[1];

/** Lets the workspace send another confirmation now (the last one went out "long ago"). */
const ageLastMessage = (workspaceId: string) =>
  env.DB.prepare("UPDATE workspaces SET notification_email_sent_at = notification_email_sent_at - 3600000 WHERE id = ?")
    .bind(workspaceId)
    .run();

const status = async (key: string) => (await call("GET", "/v1/workspace", { key })).json.notificationEmailStatus;

describe("notification address confirmation", () => {
  it("sends a new workspace's address one confirmation message with none of the workspace's text, and nothing else until confirmed", async () => {
    const { outbox, callWith } = withOutbox();
    const name = "Win a prize at https://evil.example now";
    const created = await callWith("POST", "/v1/admin/workspaces", ADMIN_TOKEN, { name, notificationEmail: "stranger@victim.example" });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ notificationEmail: "stranger@victim.example", notificationEmailStatus: "pending" });
    expect(outbox).toHaveLength(1);
    expect(outbox[0]).toMatchObject({ to: "stranger@victim.example", subject: "Confirm your address for webhook notices" });
    expect(outbox[0]!.text).not.toContain("prize");
    expect(outbox[0]!.text).not.toContain("evil.example");
    expect(await status(created.json.apiKey)).toBe("pending");

    // A webhook disabled by the quota while unconfirmed: the notice is not sent, and says why.
    const ws = created.json;
    const q = quotaOf(env.WORKSPACE_QUOTA, ws.id, null);
    for (let i = 0; i < 23; i++)
      await q.recordFailure({ webhookId: "wh_x", workspaceId: ws.id, eventId: `e${i}`, at: Date.now(), statusCode: 500, error: null });
    await q.recordFailure({ webhookId: "wh_x", workspaceId: ws.id, eventId: "e23", at: Date.now(), statusCode: 500, error: null });
    const notices = await eventually(async () => {
      const all = await q.notices();
      return all.length > 0 && all.every((n) => n.outcome !== "owed") && all;
    });
    expect(notices).toEqual([
      expect.objectContaining({ kind: "warning", outcome: "unconfirmed", message_id: null, recipient: "stranger@victim.example" }),
    ]);
    expect(outbox).toHaveLength(1);
  });

  it("confirms only through the link's landing page and its POST, once; a mail scanner's GET confirms nothing", async () => {
    const { outbox, callWith } = withOutbox();
    const ws = (await callWith("POST", "/v1/admin/workspaces", ADMIN_TOKEN, { name: "Acme", notificationEmail: "ops@acme.example" })).json;
    const path = linkOf(outbox[0]!);
    const landing = await page("GET", path);
    const again = await page("GET", path);
    expect(landing.status).toBe(200);
    expect(landing.html).toContain("ops@acme.example");
    expect(again.status).toBe(200);
    expect(await status(ws.apiKey)).toBe("pending");

    const confirmed = await page("POST", "/settings/confirm-email", { form: { token: tokenOf(landing.html)! } });
    expect(confirmed.status).toBe(200);
    expect(confirmed.html).toContain("Address confirmed");
    expect(await status(ws.apiKey)).toBe("confirmed");
    // Once only, and the link is dead after it.
    expect((await page("POST", "/settings/confirm-email", { form: { token: tokenOf(landing.html)! } })).status).toBe(404);
    expect((await page("GET", path)).status).toBe(404);
    // A made-up token confirms nothing.
    expect((await page("POST", "/settings/confirm-email", { form: { token: "A".repeat(43) } })).status).toBe(404);
    expect((await page("GET", "/settings/confirm-email/short")).status).toBe(404);
  });

  it("starts a changed address over: unconfirmed, sent its own message, the old link dead; clearing it ends everything", async () => {
    const { outbox, callWith } = withOutbox();
    const ws = (await callWith("POST", "/v1/admin/workspaces", ADMIN_TOKEN, { name: "Acme", notificationEmail: "one@acme.example" })).json;
    const first = linkOf(outbox[0]!);
    await page("POST", "/settings/confirm-email", { form: { token: tokenOf((await page("GET", first)).html)! } });
    expect(await status(ws.apiKey)).toBe("confirmed");

    await ageLastMessage(ws.id);
    const changed = await callWith("PATCH", "/v1/workspace", ws.apiKey, { notificationEmail: "two@acme.example" });
    expect(changed.json).toMatchObject({ notificationEmail: "two@acme.example", notificationEmailStatus: "pending" });
    expect(outbox.map((m) => m.to)).toEqual(["one@acme.example", "two@acme.example"]);
    // The same address sent again is no change: no second message.
    await callWith("PATCH", "/v1/workspace", ws.apiKey, { notificationEmail: "two@acme.example" });
    expect(outbox).toHaveLength(2);

    const cleared = await callWith("PATCH", "/v1/workspace", ws.apiKey, { notificationEmail: null });
    expect(cleared.json).toMatchObject({ notificationEmail: null, notificationEmailStatus: "none" });
    expect((await page("GET", linkOf(outbox[1]!))).status).toBe(404);
  });

  it("resends on request, at most once every 2 minutes, and refuses when there is nothing to confirm", async () => {
    const { outbox, callWith } = withOutbox();
    const ws = (await callWith("POST", "/v1/admin/workspaces", ADMIN_TOKEN, { name: "Acme", notificationEmail: "ops@acme.example" })).json;
    const soon = await callWith("POST", "/v1/workspace/notification-email/resend", ws.apiKey);
    expect(soon.status).toBe(429);
    expect(soon.json.error.code).toBe("rate_limited");
    expect(Number(soon.headers.get("retry-after"))).toBeGreaterThan(60);
    expect(outbox).toHaveLength(1);

    await ageLastMessage(ws.id);
    const resent = await callWith("POST", "/v1/workspace/notification-email/resend", ws.apiKey);
    expect(resent.status).toBe(200);
    expect(resent.json.notificationEmailStatus).toBe("pending");
    expect(outbox.map((m) => m.to)).toEqual(["ops@acme.example", "ops@acme.example"]);
    // The first link stopped working; the new one confirms.
    expect((await page("GET", linkOf(outbox[0]!))).status).toBe(404);
    await page("POST", "/settings/confirm-email", { form: { token: tokenOf((await page("GET", linkOf(outbox[1]!))).html)! } });
    expect(await status(ws.apiKey)).toBe("confirmed");

    const done = await callWith("POST", "/v1/workspace/notification-email/resend", ws.apiKey);
    expect([done.status, done.json.error.code]).toEqual([409, "notification_email_confirmed"]);
    const bare = (await callWith("POST", "/v1/admin/workspaces", ADMIN_TOKEN, { name: "No address" })).json;
    expect(bare.notificationEmailStatus).toBe("none");
    const none = await callWith("POST", "/v1/workspace/notification-email/resend", bare.apiKey);
    expect([none.status, none.json.error.code]).toEqual([409, "notification_email_not_set"]);
    expect(outbox).toHaveLength(2);
  });

  it("shows the state on the webhook's settings page, with a resend button while unconfirmed", async () => {
    const { outbox, callWith } = withOutbox();
    const ws = (await callWith("POST", "/v1/admin/workspaces", ADMIN_TOKEN, { name: "Acme", notificationEmail: "ops@acme.example" })).json;
    const hook = await createWebhook(ws.apiKey);
    const cookie = await signIn(ws.apiKey);
    const pending = await page("GET", `/settings/integrations/webhooks/${hook.id}`, { cookie });
    expect(pending.html).toContain("waiting for confirmation");
    expect(pending.html).toContain(`action="/settings/integrations/webhooks/${hook.id}/notification-email/resend"`);
    // Too soon: the page says so rather than sending.
    const refused = await page("POST", `/settings/integrations/webhooks/${hook.id}/notification-email/resend`, { cookie, form: {} });
    expect(refused.status).toBe(303);
    const shown = await page("GET", `/settings/integrations/webhooks/${hook.id}`, { cookie: cookiesOf(refused, cookie) });
    expect(shown.html).toMatch(/less than 2 minutes ago/);

    await page("POST", "/settings/confirm-email", { form: { token: tokenOf((await page("GET", linkOf(outbox[0]!))).html)! } });
    const confirmed = await page("GET", `/settings/integrations/webhooks/${hook.id}`, { cookie });
    expect(confirmed.html).toMatch(/Status: <strong>confirmed<\/strong>/);
    expect(confirmed.html).not.toContain("Resend confirmation");
  });

  // No name or description reaches a notice: DisableNoticeInput and WarningNoticeInput have no field for them.
  it("keeps the workspace's own words out of the notices: no endpoint text; the URL quoted and marked", () => {
    const { subject, text } = disableNotice({
      webhook: { id: "wh_1", url: 'https://crm.example.com/"\nVisit https://evil.example' },
      limit: 30,
      windowSeconds: 1800,
      failuresInWindow: 31,
      recentFailures: [
        { at: 0, eventId: "evt_1", statusCode: 302, error: "redirect to https://evil.example/claim not followed" },
        { at: 0, eventId: "evt_2", statusCode: null, error: "connection failed: https://evil.example refused" },
      ],
      disabledAt: 0,
    });
    expect(subject).toBe("Webhook wh_1 disabled after repeated failures");
    for (const words of ["evil.example/claim", "refused"]) expect(text).not.toContain(words);
    expect(text).toContain(
      'as set by the workspace (quoted, not written by us): "https://crm.example.com/\\"\\nVisit https://evil.example"',
    );
    expect(text.split("\n").filter((line) => line.includes("evil.example"))).toHaveLength(1);
    expect(text).toContain("evt_1  302  redirect (HTTP 302) not followed");
    expect(text).toContain("evt_2  no response  connection failed");
  });

  it("seeds the local development workspace as confirmed, so the walkthrough's emails go out", async () => {
    await env.DB.exec(env.DEV_SEED_SQL.replace(/^--.*$/gm, "").replace(/\n(?!INSERT)/g, " "));
    expect(await status("whk_dev_local_key_do_not_use_in_production")).toBe("confirmed");
  });
});
