// Test events: a realistic, signed sample of each type, sent now, answered with the attempt and logged.
import { describe, expect, it } from "vitest";
import { EVENT_TYPES } from "../../src/events/catalog";
import { call, createWebhook, createWorkspace } from "../support/helpers";
import { laneState } from "../support/lane";
import { endpoint } from "../support/receiver";

const contactShape = {
  id: expect.any(Number),
  firstName: expect.any(String),
  lastName: expect.any(String),
  phone: expect.stringMatching(/^\+\d+$/),
  email: expect.stringContaining("@"),
  tags: expect.any(Array),
};

describe("test events", () => {
  it("delivers a sample of each of the nine types, signed and verifiable, in respond.io's shapes", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    const hook = await createWebhook(ws.apiKey, { url: ep.url, events: ["message.received"] });
    await ep.program({ secrets: [hook.secret] });

    for (const type of EVENT_TYPES) {
      const res = await call("POST", `/v1/webhooks/${hook.id}/test`, { key: ws.apiKey, body: { type } });
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ type, status: "delivered", test: true, deliveredAt: expect.any(String) });
      expect(res.json.attempts).toEqual([
        { at: expect.any(String), statusCode: 200, durationMs: expect.any(Number), error: null, responseBody: expect.any(String) },
      ]);
    }
    // Sent at once, not through the queue: every request is already there.
    const got = await ep.requests();
    expect(got).toHaveLength(9);
    const bodies = got.map((r) => JSON.parse(r.body));
    expect(bodies.map((b) => b.event_type)).toEqual([...EVENT_TYPES]);
    for (const req of got) {
      expect(req.standardValid).toBe(true);
      expect(req.respondIoValid).toBe(true);
      expect(req.headers["webhook-id"]).toBe(JSON.parse(req.body).event_id);
    }
    const byType = Object.fromEntries(bodies.map((b) => [b.event_type, b]));
    for (const type of EVENT_TYPES) expect(byType[type].contact).toMatchObject(contactShape);
    expect(byType["contact.updated"].contact.assignee).toMatchObject({ id: expect.any(Number), email: expect.any(String) });
    for (const type of ["message.received", "message.sent"]) {
      expect(byType[type].message).toMatchObject({
        traffic: type === "message.sent" ? "outgoing" : "incoming",
        message: { type: "text", text: expect.any(String) },
      });
      expect(byType[type].channel).toMatchObject({ id: expect.any(Number), source: expect.any(String) });
    }
    expect(byType["conversation.closed"].conversation).toMatchObject({
      category: expect.any(String),
      summary: expect.any(String),
      openedTime: expect.any(Number),
      closedTime: expect.any(Number),
    });
    expect(["add", "remove"]).toContain(byType["contact.tag.updated"].action);
    expect(byType["contact.tag.updated"].tag).toEqual(expect.any(String));
    expect(byType["comment.created"].comment).toMatchObject({
      text: expect.any(String),
      mentionedUserEmails: [expect.stringContaining("@")],
    });

    // Logged as test deliveries.
    const log = await call("GET", `/v1/webhooks/${hook.id}/deliveries`, { key: ws.apiKey });
    expect(log.json.data).toHaveLength(9);
    expect(log.json.data.every((d: { test: boolean; status: string }) => d.test && d.status === "delivered")).toBe(true);
  });

  it("reports a failing endpoint's answer, tries once, and counts nothing against the quota", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    await ep.program({ fallback: { status: 500, body: "nope" } });
    const hook = await createWebhook(ws.apiKey, { url: ep.url, events: ["contact.created", "message.received"] });
    const res = await call("POST", `/v1/webhooks/${hook.id}/test`, { key: ws.apiKey });
    expect(res.status).toBe(200);
    // Without a type: the webhook's first event type.
    expect(res.json).toMatchObject({ type: "contact.created", status: "dropped", deliveredAt: null, nextAttemptAt: null });
    expect(res.json.attempts).toEqual([
      expect.objectContaining({ statusCode: 500, error: "endpoint answered HTTP 500", responseBody: "nope" }),
    ]);
    expect((await call("GET", "/v1/quota", { key: ws.apiKey })).json.failures).toBe(0);
    await new Promise((r) => setTimeout(r, 300));
    expect(await ep.requests()).toHaveLength(1);
    const state = await laneState(hook.id);
    expect(state.events.map((e) => [e.status, e.test])).toEqual([["dropped", 1]]);
    // A test event is not something to recover.
    expect(
      (await call("POST", `/v1/webhooks/${hook.id}/recover`, { key: ws.apiKey, body: { since: new Date(0).toISOString() } })).json,
    ).toEqual({ recovered: 0 });
  });

  it("reaches a disabled webhook, so its endpoint can be checked before enabling it; refuses an unknown type", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    const hook = await createWebhook(ws.apiKey, { url: ep.url });
    await call("POST", `/v1/webhooks/${hook.id}/disable`, { key: ws.apiKey });
    const res = await call("POST", `/v1/webhooks/${hook.id}/test`, { key: ws.apiKey, body: { type: "comment.created" } });
    expect(res.json.status).toBe("delivered");
    expect(await ep.requests()).toHaveLength(1);
    const bad = await call("POST", `/v1/webhooks/${hook.id}/test`, { key: ws.apiKey, body: { type: "message.deleted" } });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatchObject({ code: "unknown_event_type", param: "type" });
    const other = await createWorkspace("Other");
    expect((await call("POST", `/v1/webhooks/${hook.id}/test`, { key: other.apiKey })).status).toBe(404);
  });
});
