// The ingestion API: what it accepts, and every kind of bad input refused with its own code, enqueuing nothing.
import { describe, expect, it } from "vitest";
import { EVENT_TYPES } from "../../src/events/catalog";
import { call, createWebhook, createWorkspace } from "../support/helpers";
import { endpoint, eventIdsOf } from "../support/receiver";

describe("ingestion", () => {
  it("answers 202 with an evt_ id, and a batch with ids in request order", async () => {
    const ws = await createWorkspace();
    const one = await call("POST", "/v1/events", { key: ws.apiKey, body: { type: "message.sent", data: {} } });
    expect(one.status).toBe(202);
    expect(one.json).toEqual({ id: expect.stringMatching(/^evt_[0-9a-z]{26}$/) });
    const many = await call("POST", "/v1/events/batch", {
      key: ws.apiKey,
      body: { events: EVENT_TYPES.map((type) => ({ type, data: { type } })) },
    });
    expect(many.status).toBe(202);
    expect(many.json.ids).toHaveLength(9);
    expect(new Set(many.json.ids).size).toBe(9);
  });

  it("stamps the body's timestamp with the acceptance time when occurredAt is absent", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    await createWebhook(ws.apiKey, { url: ep.url, events: ["comment.created"] });
    const before = Date.now();
    await call("POST", "/v1/events", { key: ws.apiKey, body: { type: "comment.created", data: { text: "hey" } } });
    const after = Date.now();
    const [req] = await ep.waitFor(1);
    const body = JSON.parse(req!.body);
    expect(body.timestamp).toBeGreaterThanOrEqual(before);
    expect(body.timestamp).toBeLessThanOrEqual(after);
  });

  it("requires a workspace key", async () => {
    const res = await call("POST", "/v1/events", { body: { type: "message.sent", data: {} } });
    expect(res.status).toBe(401);
  });

  it("refuses bad input with a specific code and enqueues nothing", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    await createWebhook(ws.apiKey, { url: ep.url, events: [...EVENT_TYPES] });
    const cases: [
      string,
      { body?: unknown; rawBody?: string; headers?: Record<string, string>; path?: string },
      number,
      string,
      string?,
    ][] = [
      ["unknown type", { body: { type: "message.deleted", data: {} } }, 400, "unknown_event_type", "type"],
      ["data is a list", { body: { type: "message.sent", data: [1, 2] } }, 400, "invalid_data", "data"],
      ["data is a string", { body: { type: "message.sent", data: "hi" } }, 400, "invalid_data", "data"],
      ["data is null", { body: { type: "message.sent", data: null } }, 400, "invalid_data", "data"],
      ["data missing", { body: { type: "message.sent" } }, 400, "invalid_data", "data"],
      ["bad id characters", { body: { type: "message.sent", data: {}, id: "no spaces/allowed" } }, 400, "invalid_event_id", "id"],
      ["id too long", { body: { type: "message.sent", data: {}, id: "x".repeat(201) } }, 400, "invalid_event_id", "id"],
      ["bad occurredAt", { body: { type: "message.sent", data: {}, occurredAt: "yesterday" } }, 400, "invalid_occurred_at", "occurredAt"],
      ["unknown field", { body: { type: "message.sent", data: {}, payload: {} } }, 400, "unknown_field", "payload"],
      [
        "malformed JSON",
        { rawBody: '{"type": "message.sent", "data": {', headers: { "content-type": "application/json" } },
        400,
        "malformed_json",
      ],
      ["not JSON", { rawBody: "type=message.sent", headers: { "content-type": "text/plain" } }, 415, "unsupported_media_type"],
      [
        "body over 256 KiB",
        {
          rawBody: JSON.stringify({ type: "message.sent", data: { blob: "x".repeat(256 * 1024) } }),
          headers: { "content-type": "application/json" },
        },
        413,
        "payload_too_large",
      ],
      [
        "event over the queue's message size",
        { body: { type: "message.sent", data: { blob: "x".repeat(200_000) } } },
        413,
        "event_too_large",
        "data",
      ],
      ["empty batch", { path: "/v1/events/batch", body: { events: [] } }, 400, "events_empty", "events"],
      [
        "batch over 100",
        { path: "/v1/events/batch", body: { events: Array.from({ length: 101 }, () => ({ type: "message.sent", data: {} })) } },
        400,
        "batch_too_large",
        "events",
      ],
      [
        "one bad event in a batch",
        {
          path: "/v1/events/batch",
          body: {
            events: [
              { type: "message.sent", data: {} },
              { type: "nope", data: {} },
            ],
          },
        },
        400,
        "unknown_event_type",
        "events[1].type",
      ],
    ];
    for (const [what, request, status, code, param] of cases) {
      const res = await call("POST", request.path ?? "/v1/events", {
        key: ws.apiKey,
        body: request.body,
        rawBody: request.rawBody,
        headers: request.headers,
      });
      expect(res.status, what).toBe(status);
      expect(res.json.error.code, what).toBe(code);
      if (param) expect(res.json.error.param, what).toBe(param);
    }
    const sentinel = await call("POST", "/v1/events", { key: ws.apiKey, body: { type: "message.sent", data: { sentinel: true } } });
    // Everything refused came before the sentinel, so had any of it been enqueued it would have arrived first.
    expect(eventIdsOf(await ep.waitFor(1))).toEqual([sentinel.json.id]);
  });
});
