// The webhook settings API, as a workspace's developer uses it.
import { describe, expect, it } from "vitest";
import { call, createWebhook, createWorkspace } from "../support/helpers";

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe("webhook settings API", () => {
  it("creates a webhook and returns its whsec_ signing secret once", async () => {
    const { apiKey } = await createWorkspace();
    const res = await call("POST", "/v1/webhooks", {
      key: apiKey,
      body: { url: "https://crm.example.com/hooks", events: ["message.received", "contact.created"], description: "CRM sync" },
    });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({
      id: expect.stringMatching(/^wh_[0-9a-z]{26}$/),
      url: "https://crm.example.com/hooks",
      events: ["message.received", "contact.created"],
      description: "CRM sync",
      enabled: true,
      disabledReason: null,
      disabledAt: null,
      createdAt: expect.stringMatching(ISO),
      updatedAt: expect.stringMatching(ISO),
    });
    expect(atob(res.json.secret.slice("whsec_".length))).toHaveLength(24);

    const got = await call("GET", `/v1/webhooks/${res.json.id}`, { key: apiKey });
    expect(got.status).toBe(200);
    expect(got.json).not.toHaveProperty("secret");
    const { secret: _secret, ...withoutSecret } = res.json;
    expect(got.json).toEqual(withoutSecret);
  });

  it("removes duplicate event types and defaults the description to empty", async () => {
    const { apiKey } = await createWorkspace();
    const hook = await createWebhook(apiKey, { events: ["contact.updated", "contact.updated", "comment.created"] });
    expect(hook.events).toEqual(["contact.updated", "comment.created"]);
    expect(hook.description).toBe("");
  });

  it("lists the workspace's webhooks oldest first, without secrets", async () => {
    const { apiKey } = await createWorkspace();
    const a = await createWebhook(apiKey, { description: "a" });
    const b = await createWebhook(apiKey, { description: "b" });
    const res = await call("GET", "/v1/webhooks", { key: apiKey });
    expect(res.status).toBe(200);
    expect(res.json.data.map((w: { id: string }) => w.id)).toEqual([a.id, b.id]);
    expect(res.json.data.every((w: object) => !("secret" in w))).toBe(true);
  });

  it("patches only the fields given and bumps updatedAt", async () => {
    const { apiKey } = await createWorkspace();
    const hook = await createWebhook(apiKey, { description: "before" });
    await new Promise((r) => setTimeout(r, 5));
    const res = await call("PATCH", `/v1/webhooks/${hook.id}`, {
      key: apiKey,
      body: { events: ["conversation.closed"], url: "https://new.example.com/in" },
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ url: "https://new.example.com/in", events: ["conversation.closed"], description: "before" });
    expect(Date.parse(res.json.updatedAt)).toBeGreaterThan(Date.parse(hook.updatedAt));
    expect(res.json.createdAt).toBe(hook.createdAt);

    const empty = await call("PATCH", `/v1/webhooks/${hook.id}`, { key: apiKey, body: {} });
    expect(empty.status).toBe(200);
    expect(empty.json).toEqual(res.json);
  });

  it("disables manually and enables again", async () => {
    const { apiKey } = await createWorkspace();
    const hook = await createWebhook(apiKey);
    const off = await call("POST", `/v1/webhooks/${hook.id}/disable`, { key: apiKey });
    expect(off.status).toBe(200);
    expect(off.json).toMatchObject({ enabled: false, disabledReason: "manual", disabledAt: expect.stringMatching(ISO) });
    const again = await call("POST", `/v1/webhooks/${hook.id}/disable`, { key: apiKey });
    expect(again.json.disabledAt).toBe(off.json.disabledAt);

    const on = await call("POST", `/v1/webhooks/${hook.id}/enable`, { key: apiKey });
    expect(on.status).toBe(200);
    expect(on.json).toMatchObject({ enabled: true, disabledReason: null, disabledAt: null });
  });

  it("deletes a webhook, after which it is gone", async () => {
    const { apiKey } = await createWorkspace();
    const hook = await createWebhook(apiKey);
    const res = await call("DELETE", `/v1/webhooks/${hook.id}`, { key: apiKey });
    expect(res.status).toBe(204);
    expect(res.text).toBe("");
    expect((await call("GET", `/v1/webhooks/${hook.id}`, { key: apiKey })).status).toBe(404);
    expect((await call("DELETE", `/v1/webhooks/${hook.id}`, { key: apiKey })).json.error.code).toBe("not_found");
  });

  it("lists the nine respond.io event types with their names, without a key", async () => {
    const res = await call("GET", "/v1/event-types");
    expect(res.status).toBe(200);
    expect(res.json.data.map((t: { type: string; name: string }) => [t.type, t.name])).toEqual([
      ["message.received", "New Incoming Message"],
      ["message.sent", "New Outgoing Message"],
      ["contact.created", "New Contact"],
      ["contact.updated", "Contact Updated"],
      ["contact.tag.updated", "Contact Tag Updated"],
      ["contact.assignee.updated", "Contact Assignee Updated"],
      ["conversation.opened", "Conversation Opened"],
      ["conversation.closed", "Conversation Closed"],
      ["comment.created", "New Comment"],
    ]);
  });

  it("reads the workspace and sets and clears its notification email", async () => {
    const ws = await createWorkspace("Beta");
    const got = await call("GET", "/v1/workspace", { key: ws.apiKey });
    expect(got.json).toMatchObject({ id: ws.id, name: "Beta", notificationEmail: null });
    const set = await call("PATCH", "/v1/workspace", { key: ws.apiKey, body: { notificationEmail: "ops@beta.example" } });
    expect(set.status).toBe(200);
    expect(set.json.notificationEmail).toBe("ops@beta.example");
    const cleared = await call("PATCH", "/v1/workspace", { key: ws.apiKey, body: { notificationEmail: null } });
    expect(cleared.json.notificationEmail).toBeNull();
    const bad = await call("PATCH", "/v1/workspace", { key: ws.apiKey, body: { notificationEmail: "not-an-address" } });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatchObject({ code: "invalid_email", param: "notificationEmail" });
  });
});
