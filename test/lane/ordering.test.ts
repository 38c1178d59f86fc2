// One webhook = one lane: events arrive in acceptance order, one at a time, each exactly once.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { toQueuedEvent } from "../../src/events/ingest";
import type { QueuedEvent } from "../../src/events/queued-event";
import worker from "../../src/index";
import { call, createWebhook, createWorkspace } from "../support/helpers";
import { endpoint, eventIdsOf } from "../support/receiver";

async function deliverBatch(events: QueuedEvent[]) {
  const batch = createMessageBatch<QueuedEvent>(
    "edge-webhooks-events",
    events.map((body, i) => ({ id: `msg-${body.id}-${i}`, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, env);
  return getQueueResult(batch, ctx);
}

describe("ordering", () => {
  it("delivers 200 events sent in a burst in acceptance order, each exactly once, one at a time", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    await ep.program({ fallback: { status: 200, randomDelayMs: [0, 15] } });
    await createWebhook(ws.apiKey, { url: ep.url, events: ["message.received", "message.sent"] });

    const accepted: string[] = [];
    for (let i = 0; i < 100; i++) {
      const res = await call("POST", "/v1/events", {
        key: ws.apiKey,
        body: { type: i % 2 ? "message.sent" : "message.received", data: { i } },
      });
      accepted.push(res.json.id);
    }
    const batch = await call("POST", "/v1/events/batch", {
      key: ws.apiKey,
      body: { events: Array.from({ length: 100 }, (_, i) => ({ type: "message.received", data: { i: 100 + i } })) },
    });
    expect(batch.status).toBe(202);
    accepted.push(...batch.json.ids);

    const got = await ep.waitFor(200, 30_000);
    expect(eventIdsOf(got)).toEqual(accepted);
    expect(new Set(eventIdsOf(got)).size).toBe(200);
    // One in flight at a time: every request started after the previous one was answered.
    const starts = got.map((r) => r.at);
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
  });

  it("puts an event the queue delivers late back in acceptance order", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    await createWebhook(ws.apiKey, { url: ep.url, events: ["contact.updated"] });
    const now = Date.now();
    const first = await toQueuedEvent(ws.id, { type: "contact.updated", data: { v: 1 } }, now);
    const second = await toQueuedEvent(ws.id, { type: "contact.updated", data: { v: 2 } }, now + 1);
    // The queue hands over the later event first, and the earlier one 300 ms later (inside ORDERING_WINDOW_MS).
    expect((await deliverBatch([second])).explicitAcks).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 300));
    expect((await deliverBatch([first])).explicitAcks).toHaveLength(1);
    expect(eventIdsOf(await ep.waitFor(2))).toEqual([first.id, second.id]);
  });

  it("sorts a batch the queue hands over out of order", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    await createWebhook(ws.apiKey, { url: ep.url, events: ["conversation.opened"] });
    const now = Date.now();
    const events = await Promise.all([0, 1, 2, 3].map((i) => toQueuedEvent(ws.id, { type: "conversation.opened", data: { i } }, now + i)));
    const result = await deliverBatch([events[2]!, events[0]!, events[3]!, events[1]!]);
    expect(result.explicitAcks).toHaveLength(4);
    expect(eventIdsOf(await ep.waitFor(4))).toEqual(events.map((e) => e.id));
  });
});

describe("exactly once", () => {
  it("delivers an event once when the queue delivers its message twice", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    await createWebhook(ws.apiKey, { url: ep.url, events: ["contact.created"] });
    const event = await toQueuedEvent(ws.id, { type: "contact.created", data: {} }, Date.now());
    await deliverBatch([event, event]);
    await deliverBatch([event]);
    const sentinel = await toQueuedEvent(ws.id, { type: "contact.created", data: { sentinel: true } }, Date.now());
    await deliverBatch([sentinel]);
    // Order is kept, so by the time the later sentinel arrives any duplicate would have arrived before it.
    expect(eventIdsOf(await ep.waitFor(2))).toEqual([event.id, sentinel.id]);
  });

  it("accepts the same idempotency id twice with the same event id and delivers it once", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    await createWebhook(ws.apiKey, { url: ep.url, events: ["message.received"] });
    const body = { type: "message.received", id: "msg-42:received", data: { text: "hi" } };
    const a = await call("POST", "/v1/events", { key: ws.apiKey, body });
    const b = await call("POST", "/v1/events", { key: ws.apiKey, body });
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(b.json.id).toBe(a.json.id);
    const batch = await call("POST", "/v1/events/batch", { key: ws.apiKey, body: { events: [body, { ...body, id: "msg-43" }] } });
    expect(batch.json.ids[0]).toBe(a.json.id);
    expect(eventIdsOf(await ep.waitFor(2))).toEqual([a.json.id, batch.json.ids[1]]);
  });

  it("keeps idempotency ids apart between workspaces", async () => {
    const [one, two] = [await createWorkspace("one"), await createWorkspace("two")];
    const body = { type: "message.received", id: "same-key", data: {} };
    const a = await call("POST", "/v1/events", { key: one.apiKey, body });
    const b = await call("POST", "/v1/events", { key: two.apiKey, body });
    expect(a.json.id).not.toBe(b.json.id);
  });
});
