// What an endpoint receives: every event type, the flat body, both signatures, and only what it subscribed to.
import { describe, expect, it } from "vitest";
import { EVENT_TYPES } from "../../src/events/catalog";
import { call, createWebhook, createWorkspace, eventually, sendEvent } from "../support/helpers";
import { laneState } from "../support/lane";
import { endpoint, eventIdsOf } from "../support/receiver";

describe("delivery to a subscribed endpoint", () => {
  it("delivers each of the nine event types with the flat body and both signatures", async () => {
    const ws = await createWorkspace();
    const all = endpoint();
    const hook = await createWebhook(ws.apiKey, { url: all.url, events: [...EVENT_TYPES] });
    await all.program({ secrets: [hook.secret] });

    const sent: { id: string; type: string; occurredAt: string }[] = [];
    for (const [i, type] of EVENT_TYPES.entries()) {
      const occurredAt = new Date(Date.UTC(2026, 10, 21, 10, 0, i)).toISOString();
      const id = await sendEvent(ws.apiKey, {
        type,
        occurredAt,
        data: { contact: { id: 100 + i, firstName: "Ana" }, event_type: "spoofed", seq: i },
      });
      sent.push({ id, type, occurredAt });
    }

    const got = await all.waitFor(9);
    expect(got).toHaveLength(9);
    got.forEach((req, i) => {
      const expected = sent[i]!;
      expect(req.method).toBe("POST");
      expect(req.headers["content-type"]).toBe("application/json");
      expect(JSON.parse(req.body)).toEqual({
        event_type: expected.type,
        event_id: expected.id,
        timestamp: Date.parse(expected.occurredAt),
        contact: { id: 100 + i, firstName: "Ana" },
        seq: i,
      });
      expect(Object.keys(JSON.parse(req.body)).slice(0, 3)).toEqual(["event_type", "event_id", "timestamp"]);
      expect(req.headers["webhook-id"]).toBe(expected.id);
      expect(Number(req.headers["webhook-timestamp"])).toBeCloseTo(req.at / 1000, -1);
      // One HMAC entry (v1) and one Ed25519 entry (v1a, docs/signatures.md), space-separated.
      expect(req.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=* v1a,[A-Za-z0-9+/]{86}==$/);
      expect(req.standardValid).toBe(true);
      expect(req.respondIoValid).toBe(true);
    });
  });

  it("does not deliver to an unsubscribed or disabled webhook; two subscribers both get the event", async () => {
    const ws = await createWorkspace();
    const [a, b, unsubscribed, disabled] = [endpoint(), endpoint(), endpoint(), endpoint()];
    await createWebhook(ws.apiKey, { url: a.url, events: ["message.received"] });
    await createWebhook(ws.apiKey, { url: b.url, events: ["message.received", "contact.created"] });
    const other = await createWebhook(ws.apiKey, { url: unsubscribed.url, events: ["contact.created"] });
    const off = await createWebhook(ws.apiKey, { url: disabled.url, events: ["message.received", "contact.created"] });
    await call("POST", `/v1/webhooks/${off.id}/disable`, { key: ws.apiKey });

    const first = await sendEvent(ws.apiKey, { type: "message.received", data: { n: 1 } });
    const second = await sendEvent(ws.apiKey, { type: "contact.created", data: { n: 2 } });

    expect(eventIdsOf(await a.waitFor(1))).toEqual([first]);
    expect(eventIdsOf(await b.waitFor(2))).toEqual([first, second]);
    expect(eventIdsOf(await unsubscribed.waitFor(1))).toEqual([second]);
    // The disabled webhook's lane stored both events as skipped (kept for recover) and sent nothing.
    const skipped = await eventually(async () => {
      const state = await laneState(off.id);
      return state.events.length === 2 && state.events;
    });
    expect(skipped.map((e) => [e.id, e.status])).toEqual([
      [first, "skipped"],
      [second, "skipped"],
    ]);
    expect(await disabled.requests()).toEqual([]);
    expect(eventIdsOf(await a.requests())).toEqual([first]);
    expect((await laneState(other.id)).events.map((e) => e.id)).toEqual([second]);
  });

  it("sends the event to a webhook's new URL right after a PATCH", async () => {
    const ws = await createWorkspace();
    const [before, after] = [endpoint(), endpoint()];
    const hook = await createWebhook(ws.apiKey, { url: before.url, events: ["contact.updated"] });
    await sendEvent(ws.apiKey, { type: "contact.updated", data: { v: 1 } });
    await before.waitFor(1);
    await call("PATCH", `/v1/webhooks/${hook.id}`, { key: ws.apiKey, body: { url: after.url } });
    const id = await sendEvent(ws.apiKey, { type: "contact.updated", data: { v: 2 } });
    expect(eventIdsOf(await after.waitFor(1))).toEqual([id]);
    expect(await before.requests()).toHaveLength(1);
  });

  it("delivers nothing more after the webhook is deleted, and forgets its events", async () => {
    const ws = await createWorkspace();
    const [gone, witness] = [endpoint(), endpoint()];
    const hook = await createWebhook(ws.apiKey, { url: gone.url, events: ["comment.created"] });
    await createWebhook(ws.apiKey, { url: witness.url, events: ["comment.created"] });
    await gone.program({ fallback: { status: 500 } });
    await sendEvent(ws.apiKey, { type: "comment.created", data: {} });
    await gone.waitFor(1);
    expect((await call("DELETE", `/v1/webhooks/${hook.id}`, { key: ws.apiKey })).status).toBe(204);
    const state = await laneState(hook.id);
    expect(state.events).toEqual([]);
    expect(state.alarm).toBeNull();
    const later = await sendEvent(ws.apiKey, { type: "comment.created", data: {} });
    expect(eventIdsOf(await witness.waitFor(2))).toContain(later);
    expect(await gone.requests()).toHaveLength(1);
  });
});
