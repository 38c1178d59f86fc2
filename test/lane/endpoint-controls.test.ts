// Endpoint controls: a rate limit per endpoint, its own retry schedule, Retry-After, custom headers and
// filters beyond the event type, against the real receiver; and every bad value refused, nothing saved.
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MAX_RETRY_AFTER_MS, nextAttemptAt, parseRetryAfter } from "../../src/delivery/schedule";
import { matchesFilter } from "../../src/lib/endpoint-controls";
import { call, createWebhook, createWorkspace, eventually, sendEvent } from "../support/helpers";
import { lane, laneState, settledLane } from "../support/lane";
import { endpoint, eventIdsOf } from "../support/receiver";

const valid = { url: "https://receiver.example.com/hooks", events: ["message.received"] };

async function countWebhooks(workspaceId: string) {
  return (await env.DB.prepare("SELECT count(*) AS n FROM webhooks WHERE workspace_id = ?").bind(workspaceId).first<{ n: number }>())!.n;
}

describe("endpoint controls: the webhook object", () => {
  it("has respond.io's defaults unless set, and keeps or resets each control on PATCH", async () => {
    const ws = await createWorkspace();
    const plain = await createWebhook(ws.apiKey);
    expect(plain).toMatchObject({ rateLimitPerSecond: null, retryDelaysSeconds: null, headers: {}, filter: {} });

    const controls = {
      rateLimitPerSecond: 5,
      retryDelaysSeconds: [60, 300, 900],
      headers: { Authorization: "Bearer crm-token", "X-Api-Key": "k_1" },
      filter: { "message.traffic": "incoming", "channel.source": ["whatsapp", "telegram"] },
    };
    const hook = await createWebhook(ws.apiKey, controls);
    expect(hook).toMatchObject(controls);
    expect((await call("GET", `/v1/webhooks/${hook.id}`, { key: ws.apiKey })).json).toMatchObject(controls);

    const described = await call("PATCH", `/v1/webhooks/${hook.id}`, { key: ws.apiKey, body: { description: "only this" } });
    expect(described.json).toMatchObject({ ...controls, description: "only this" });
    const reset = await call("PATCH", `/v1/webhooks/${hook.id}`, {
      key: ws.apiKey,
      body: { rateLimitPerSecond: null, retryDelaysSeconds: null, headers: {}, filter: {} },
    });
    expect(reset.json).toMatchObject({ rateLimitPerSecond: null, retryDelaysSeconds: null, headers: {}, filter: {} });
    expect((await call("GET", "/v1/webhooks", { key: ws.apiKey })).json.data[1]).toMatchObject(reset.json);
  });

  it.each([
    ["a rate of 0", { rateLimitPerSecond: 0 }, "invalid_rate_limit", "rateLimitPerSecond"],
    ["a rate of 1001", { rateLimitPerSecond: 1001 }, "invalid_rate_limit", "rateLimitPerSecond"],
    ["a fractional rate", { rateLimitPerSecond: 2.5 }, "invalid_rate_limit", "rateLimitPerSecond"],
    ["a rate given as text", { rateLimitPerSecond: "5" }, "invalid_rate_limit", "rateLimitPerSecond"],
    ["11 delays", { retryDelaysSeconds: Array(11).fill(1) }, "invalid_retry_delays", "retryDelaysSeconds"],
    ["no delays", { retryDelaysSeconds: [] }, "invalid_retry_delays", "retryDelaysSeconds"],
    ["a delay of 0", { retryDelaysSeconds: [30, 0] }, "invalid_retry_delays", "retryDelaysSeconds[1]"],
    ["a delay over a day", { retryDelaysSeconds: [86_401] }, "invalid_retry_delays", "retryDelaysSeconds[0]"],
    ["a fractional delay", { retryDelaysSeconds: [1.5] }, "invalid_retry_delays", "retryDelaysSeconds[0]"],
    ["a schedule that is not a list", { retryDelaysSeconds: "30,60" }, "invalid_retry_delays", "retryDelaysSeconds"],
    ["a header value with CR/LF", { headers: { "X-Token": "a\r\nX-Evil: 1" } }, "invalid_header_value", "headers.X-Token"],
    ["a header value with a NUL", { headers: { "X-Token": "a\u0000b" } }, "invalid_header_value", "headers.X-Token"],
    ["a header name with a space", { headers: { "X Token": "a" } }, "invalid_header", "headers.X Token"],
    ["a header name with a colon", { headers: { "X-Token:": "a" } }, "invalid_header", "headers.X-Token:"],
    ["an empty header name", { headers: { "": "a" } }, "invalid_header", "headers."],
    ["11 headers", { headers: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`X-H${i}`, "v"])) }, "invalid_header", "headers"],
    ["a header value over 1000 characters", { headers: { "X-Long": "v".repeat(1001) } }, "invalid_header", "headers.X-Long"],
    ["a header value that is not text", { headers: { "X-Num": 5 } }, "invalid_header", "headers.X-Num"],
    ["a header name given twice", { headers: { "X-A": "1", "x-a": "2" } }, "invalid_header", "headers.x-a"],
    ["content-type", { headers: { "Content-Type": "text/plain" } }, "reserved_header", "headers.Content-Type"],
    ["content-length", { headers: { "content-length": "1" } }, "reserved_header", "headers.content-length"],
    ["host", { headers: { Host: "evil.example" } }, "reserved_header", "headers.Host"],
    [
      "traceparent",
      { headers: { TraceParent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" } },
      "reserved_header",
      "headers.TraceParent",
    ],
    ["tracestate", { headers: { TraceState: "rojo=00f067aa0ba902b7" } }, "reserved_header", "headers.TraceState"],
    ["user-agent", { headers: { "User-Agent": "me" } }, "reserved_header", "headers.User-Agent"],
    ["a webhook-* header", { headers: { "Webhook-Signature": "v1,forged" } }, "reserved_header", "headers.Webhook-Signature"],
    ["x-webhook-signature", { headers: { "X-Webhook-Signature": "forged" } }, "reserved_header", "headers.X-Webhook-Signature"],
    ["11 filter entries", { filter: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, i])) }, "invalid_filter", "filter"],
    ["a filter value that is an object", { filter: { message: { traffic: "incoming" } } }, "invalid_filter", "filter.message"],
    ["a filter list holding an object", { filter: { "channel.source": ["whatsapp", {}] } }, "invalid_filter", "filter.channel.source"],
    ["an empty filter list", { filter: { "channel.source": [] } }, "invalid_filter", "filter.channel.source"],
    ["a filter path with an empty segment", { filter: { "message..traffic": "incoming" } }, "invalid_filter", "filter.message..traffic"],
    ["a filter that is a list", { filter: ["message.traffic"] }, "invalid_filter", "filter"],
    ["a __proto__ header, which a record would drop", JSON.parse('{"headers": {"__proto__": "x"}}'), "invalid_header", "headers.__proto__"],
    [
      "a __proto__ filter path, which a record would drop",
      JSON.parse('{"filter": {"__proto__": {"a": 1}}}'),
      "invalid_filter",
      "filter.__proto__",
    ],
  ])("refuses %s with a specific code, saving nothing", async (_what, change, code, param) => {
    const ws = await createWorkspace();
    const created = await call("POST", "/v1/webhooks", { key: ws.apiKey, body: { ...valid, ...change } });
    expect(created.status).toBe(400);
    expect(created.json.error).toMatchObject({ code, param, message: expect.any(String) });
    expect(await countWebhooks(ws.id)).toBe(0);

    const hook = await createWebhook(ws.apiKey);
    const patched = await call("PATCH", `/v1/webhooks/${hook.id}`, { key: ws.apiKey, body: change });
    expect(patched.status).toBe(400);
    expect(patched.json.error).toMatchObject({ code, param });
    const { secret: _s, ...unchanged } = hook;
    expect((await call("GET", `/v1/webhooks/${hook.id}`, { key: ws.apiKey })).json).toEqual(unchanged);
  });
});

describe("endpoint controls: delivery", () => {
  it("spreads a burst over the rate limit, in order, one attempt at a time, dropping nothing", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    const hook = await createWebhook(ws.apiKey, { url: ep.url, events: ["message.received"], rateLimitPerSecond: 5 });
    await ep.program({ secrets: [hook.secret] });
    const batch = await call("POST", "/v1/events/batch", {
      key: ws.apiKey,
      body: { events: Array.from({ length: 50 }, (_, i) => ({ type: "message.received", data: { i } })) },
    });
    expect(batch.status).toBe(202);

    // While the burst drains, the events wait as pending, the alarm armed for the next token.
    const waiting = await eventually(async () => {
      const state = await laneState(hook.id);
      return state.events.length === 50 && state.events.some((e) => e.status === "delivered") && state;
    });
    expect(waiting.events.filter((e) => e.status === "pending").length).toBeGreaterThan(30);

    const got = await ep.waitFor(50, 30_000);
    expect(eventIdsOf(got)).toEqual(batch.json.ids);
    expect(got.every((r) => r.standardValid && r.respondIoValid)).toBe(true);
    const gaps = got.slice(1).map((r, i) => r.at - got[i]!.at);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(190);
    expect(got.at(-1)!.at - got[0]!.at).toBeGreaterThanOrEqual(9_000);
    const state = await settledLane(hook.id, (s) => s.events.every((e) => e.status === "delivered"));
    expect(state.attempts).toHaveLength(50);
  }, 60_000);

  it("retries on the webhook's own schedule: [1, 1] drops after 3 attempts, asserted on the alarm", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    await ep.program({ fallback: { status: 500 } });
    const hook = await createWebhook(ws.apiKey, { url: ep.url, events: ["message.received"], retryDelaysSeconds: [1, 1] });
    const id = await sendEvent(ws.apiKey, { type: "message.received", data: {} });
    for (const n of [1, 2]) {
      const state = await settledLane(hook.id, (s) => s.attempts.length === n);
      const last = state.attempts[n - 1]!;
      expect(state.alarm).toBe(last.at + last.duration_ms + 1000);
      await runDurableObjectAlarm(lane(hook.id));
    }
    const state = await settledLane(hook.id, (s) => s.attempts.length === 3);
    expect(state.events.map((e) => [e.id, e.status, e.attempt_count])).toEqual([[id, "dropped", 3]]);
    expect(await ep.requests()).toHaveLength(3);
  });

  it("applies a changed schedule from the next retry", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    await ep.program({ fallback: { status: 500 } });
    const hook = await createWebhook(ws.apiKey, { url: ep.url, events: ["message.received"] });
    await sendEvent(ws.apiKey, { type: "message.received", data: {} });
    let state = await settledLane(hook.id, (s) => s.attempts.length === 1);
    expect(state.alarm).toBe(state.attempts[0]!.at + state.attempts[0]!.duration_ms + 30_000);
    await call("PATCH", `/v1/webhooks/${hook.id}`, { key: ws.apiKey, body: { retryDelaysSeconds: [7, 7, 7, 7] } });
    await runDurableObjectAlarm(lane(hook.id));
    state = await settledLane(hook.id, (s) => s.attempts.length === 2);
    expect(state.alarm).toBe(state.attempts[1]!.at + state.attempts[1]!.duration_ms + 7_000);
  });

  it("waits for a 503's Retry-After before the next attempt, and says so in the log", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    await ep.program({ script: [{ status: 503, headers: { "retry-after": "3" } }], fallback: { status: 200 } });
    const hook = await createWebhook(ws.apiKey, { url: ep.url, events: ["message.received"], retryDelaysSeconds: [1] });
    const id = await sendEvent(ws.apiKey, { type: "message.received", data: {} });
    const state = await settledLane(hook.id, (s) => s.attempts.length === 1);
    const first = state.attempts[0]!;
    expect(state.alarm).toBe(first.at + first.duration_ms + 3000);
    expect(first.error).toBe("endpoint answered HTTP 503; its Retry-After asks for 3 s before the next attempt");
    // Left to its own alarm: the retry comes no sooner than the endpoint asked.
    const got = await ep.waitFor(2, 10_000);
    expect(got[1]!.at - got[0]!.at).toBeGreaterThanOrEqual(3000);
    const log = await call("GET", `/v1/webhooks/${hook.id}/deliveries/${id}`, { key: ws.apiKey });
    expect(log.json).toMatchObject({ status: "delivered", attempts: [{ statusCode: 503, error: first.error }, { statusCode: 200 }] });
  });

  it("reads Retry-After as seconds or an HTTP date, only ever later than the schedule, capped at an hour", () => {
    const now = Date.parse("2026-12-01T10:00:00Z");
    expect(parseRetryAfter("20", now)).toBe(20_000);
    expect(parseRetryAfter(" 0 ", now)).toBe(0);
    expect(parseRetryAfter("Tue, 01 Dec 2026 10:00:45 GMT", now)).toBe(45_000);
    expect(parseRetryAfter("Tue, 01 Dec 2026 09:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("999999", now)).toBe(MAX_RETRY_AFTER_MS);
    expect([parseRetryAfter(null, now), parseRetryAfter("", now), parseRetryAfter("soon", now), parseRetryAfter("-5", now)]).toEqual([
      null,
      null,
      null,
      null,
    ]);
    expect(nextAttemptAt(1, 1000, [30], 20_000)).toBe(31_000);
    expect(nextAttemptAt(1, 1000, [30], 45_000)).toBe(46_000);
    expect(nextAttemptAt(2, 1000, [30], 45_000)).toBeNull();
  });

  it("caps a 429's Retry-After at an hour", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    await ep.program({ script: [{ status: 429, headers: { "retry-after": "86400" } }], fallback: { status: 200 } });
    const hook = await createWebhook(ws.apiKey, { url: ep.url, events: ["message.received"] });
    await sendEvent(ws.apiKey, { type: "message.received", data: {} });
    const state = await settledLane(hook.id, (s) => s.attempts.length === 1);
    const first = state.attempts[0]!;
    expect(state.alarm).toBe(first.at + first.duration_ms + 3_600_000);
    await runDurableObjectAlarm(lane(hook.id));
    await settledLane(hook.id, (s) => s.events[0]?.status === "delivered");
  });

  it("sends the webhook's own headers with every attempt and test event, beside the service's", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    const headers = { Authorization: "Bearer crm-token", "X-Api-Key": "k_123" };
    const hook = await createWebhook(ws.apiKey, { url: ep.url, events: ["message.received"], headers });
    await ep.program({ secrets: [hook.secret] });
    await sendEvent(ws.apiKey, { type: "message.received", data: {} });
    const test = await call("POST", `/v1/webhooks/${hook.id}/test`, { key: ws.apiKey, body: {} });
    expect(test.json.status).toBe("delivered");
    const got = await ep.waitFor(2);
    for (const request of got) {
      expect(request.headers).toMatchObject({
        authorization: "Bearer crm-token",
        "x-api-key": "k_123",
        "content-type": "application/json",
      });
      expect(request.standardValid && request.respondIoValid).toBe(true);
    }
  });

  it("delivers only what the filter matches, and stores nothing else for that webhook", async () => {
    const ws = await createWorkspace();
    const [filtered, all] = [endpoint(), endpoint()];
    const only = await createWebhook(ws.apiKey, {
      url: filtered.url,
      events: ["message.received"],
      filter: { "message.traffic": "incoming", "channel.source": ["whatsapp", "telegram"] },
    });
    const every = await createWebhook(ws.apiKey, { url: all.url, events: ["message.received"] });
    const send = (traffic: string, source: string) =>
      sendEvent(ws.apiKey, { type: "message.received", data: { message: { traffic, type: "text" }, channel: { source } } });
    const inWhatsapp = await send("incoming", "whatsapp");
    const outWhatsapp = await send("outgoing", "whatsapp");
    const inTelegram = await send("incoming", "telegram");
    const inEmail = await send("incoming", "email");
    const noMessage = await sendEvent(ws.apiKey, { type: "message.received", data: { channel: { source: "whatsapp" } } });

    expect(eventIdsOf(await all.waitFor(5))).toEqual([inWhatsapp, outWhatsapp, inTelegram, inEmail, noMessage]);
    expect(eventIdsOf(await filtered.waitFor(2))).toEqual([inWhatsapp, inTelegram]);
    const state = await settledLane(only.id);
    expect(state.events.map((e) => e.id)).toEqual([inWhatsapp, inTelegram]);
    expect((await laneState(every.id)).events).toHaveLength(5);

    // A test event is sent whatever the filter says.
    const test = await call("POST", `/v1/webhooks/${only.id}/test`, { key: ws.apiKey, body: { type: "message.received" } });
    expect(test.json).toMatchObject({ status: "delivered", test: true });
  });

  it("matches a filter on the delivered body: dotted paths, equality or one-of, all must match", () => {
    const body = { event_type: "message.received", message: { traffic: "incoming", n: 1, bot: false, tag: null }, list: [{ a: 1 }] };
    expect(matchesFilter({}, body)).toBe(true);
    expect(matchesFilter({ event_type: "message.received" }, body)).toBe(true);
    expect(matchesFilter({ "message.traffic": "incoming", "message.n": 1 }, body)).toBe(true);
    expect(matchesFilter({ "message.traffic": "incoming", "message.n": 2 }, body)).toBe(false);
    expect(matchesFilter({ "message.n": "1" }, body)).toBe(false);
    expect(matchesFilter({ "message.bot": [true, false] }, body)).toBe(true);
    expect(matchesFilter({ "message.tag": null }, body)).toBe(true);
    expect(matchesFilter({ "message.missing": null }, body)).toBe(false);
    expect(matchesFilter({ "list.0.a": 1 }, body)).toBe(true);
    expect(matchesFilter({ message: "incoming" }, body)).toBe(false);
    expect(matchesFilter({ "message.traffic.length": 8 }, body)).toBe(false);
    expect(matchesFilter({ "__proto__.x": 1, "constructor.name": "Object" }, body)).toBe(false);
  });
});
