// Event data keeps every key its producer sent, `__proto__` and `constructor` included: byte for byte in the stored
// payload and in the body the endpoint receives, one event or a batch, without ever touching an object's prototype;
// and a filter's dotted path reads own keys only.
import { describe, expect, it } from "vitest";
import { valueAt } from "../../src/lib/endpoint-controls";
import { call, createWebhook, createWorkspace, eventually } from "../support/helpers";
import { endpoint } from "../support/receiver";

const DATA =
  '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"keep":1,"nested":{"__proto__":{"deep":true}}}';

/** The body the endpoint must receive for `data` (raw JSON text): the envelope, then the producer's keys as sent. */
const expectedBody = (type: string, id: string, timestamp: number, data: string) =>
  `{"event_type":"${type}","event_id":"${id}","timestamp":${timestamp},${data.slice(1)}`;

function expectNoPollution() {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(({} as Record<string, unknown>).deep).toBeUndefined();
  expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain("polluted");
}

async function storedPayloadText(key: string, webhookId: string, eventId: string) {
  return eventually(async () => {
    const res = await call("GET", `/v1/webhooks/${webhookId}/deliveries/${eventId}`, { key });
    return res.status === 200 && res.json.status === "delivered" && res.text;
  });
}

describe("__proto__ and constructor in event data", () => {
  it("delivers and stores them byte for byte, with no prototype touched", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    const hook = await createWebhook(ws.apiKey, { url: ep.url, events: ["contact.created"] });
    const sent = await call("POST", "/v1/events", {
      key: ws.apiKey,
      rawBody: `{"type":"contact.created","occurredAt":"2026-12-01T10:00:00.000Z","data":${DATA}}`,
      headers: { "content-type": "application/json" },
    });
    expect(sent.status).toBe(202);
    expectNoPollution();
    const [request] = await ep.waitFor(1);
    expect(request!.method).toBe("POST");
    expect(request!.body).toBe(expectedBody("contact.created", sent.json.id, Date.parse("2026-12-01T10:00:00.000Z"), DATA));
    const stored = await storedPayloadText(ws.apiKey, hook.id, sent.json.id);
    expect(stored).toContain(`"payload":${request!.body}`);
    expectNoPollution();
  });

  it("keeps them in every event of a batch", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    await createWebhook(ws.apiKey, { url: ep.url, events: ["contact.created", "contact.updated"] });
    const second = '{"constructor":"text","__proto__":[1,2]}';
    const sent = await call("POST", "/v1/events/batch", {
      key: ws.apiKey,
      rawBody: `{"events":[{"type":"contact.created","occurredAt":"2026-12-01T10:00:00.000Z","data":${DATA}},{"type":"contact.updated","occurredAt":"2026-12-01T10:00:01.000Z","data":${second}}]}`,
      headers: { "content-type": "application/json" },
    });
    expect(sent.status).toBe(202);
    const got = await ep.waitFor(2);
    expect(got.map((r) => r.body)).toEqual([
      expectedBody("contact.created", sent.json.ids[0], Date.parse("2026-12-01T10:00:00.000Z"), DATA),
      expectedBody("contact.updated", sent.json.ids[1], Date.parse("2026-12-01T10:00:01.000Z"), second),
    ]);
    expectNoPollution();
  });

  it("still refuses data that is not an object, and data nested too deep through __proto__ keys", async () => {
    const ws = await createWorkspace();
    for (const data of ["[]", '"text"', "null", "1"]) {
      const res = await call("POST", "/v1/events", {
        key: ws.apiKey,
        rawBody: `{"type":"contact.created","data":${data}}`,
        headers: { "content-type": "application/json" },
      });
      expect(res.status).toBe(400);
      expect(res.json.error).toMatchObject({ code: "invalid_data", param: "data" });
    }
    const deep = '{"__proto__":'.repeat(64) + "{}" + "}".repeat(64);
    const res = await call("POST", "/v1/events", {
      key: ws.apiKey,
      rawBody: `{"type":"contact.created","data":${deep}}`,
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code: "data_too_deep", param: "data" });
    const batch = await call("POST", "/v1/events/batch", {
      key: ws.apiKey,
      rawBody: `{"events":[{"type":"contact.created","data":{}},{"type":"contact.created","data":${deep}}]}`,
      headers: { "content-type": "application/json" },
    });
    expect(batch.json.error).toMatchObject({ code: "data_too_deep", param: "events[1].data" });
    expectNoPollution();
  });

  it("reads a filter's dotted path through own keys only: __proto__.x is the producer's key, never the prototype", async () => {
    expect(valueAt({}, "__proto__")).toBeUndefined();
    expect(valueAt({}, "constructor.name")).toBeUndefined();
    expect(valueAt({ a: 1 }, "a.toString")).toBeUndefined();
    expect(valueAt(JSON.parse('{"__proto__":{"x":"yes"}}'), "__proto__.x")).toBe("yes");

    const ws = await createWorkspace();
    const ep = endpoint();
    const hook = await createWebhook(ws.apiKey, {
      url: ep.url,
      events: ["contact.created"],
      filter: { "__proto__.polluted": "yes", "constructor.name": ["Object", "Ada"] },
    });
    const send = (data: string) =>
      call("POST", "/v1/events", {
        key: ws.apiKey,
        rawBody: `{"type":"contact.created","data":${data}}`,
        headers: { "content-type": "application/json" },
      });
    const skipped = (await send('{"keep":1}')).json.id;
    const matched = (await send('{"__proto__":{"polluted":"yes"},"constructor":{"name":"Ada"}}')).json.id;
    const [request, ...more] = await ep.waitFor(1);
    expect(JSON.parse(request!.body).event_id).toBe(matched);
    expect(more).toEqual([]);
    // The one that did not match is not stored for this webhook.
    expect((await call("GET", `/v1/webhooks/${hook.id}/deliveries/${skipped}`, { key: ws.apiKey })).status).toBe(404);
    expectNoPollution();
  });
});
