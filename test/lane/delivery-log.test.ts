// The delivery log: every attempt of every event, newest first, filtered and paged exactly; one delivery
// with the body that was sent; and clear errors for bad queries.
import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, createWebhook, createWorkspace, sendEvent } from "../support/helpers";
import { lane, settledLane } from "../support/lane";
import { endpoint } from "../support/receiver";

const TYPES = ["message.received", "contact.updated", "conversation.closed"] as const;

async function sendBatch(key: string, events: { type: string; data: Record<string, unknown> }[]): Promise<string[]> {
  const res = await call("POST", "/v1/events/batch", { key, body: { events } });
  expect(res.status).toBe(202);
  return res.json.ids;
}

/** Pages through the log with `query` and `limit`, checking every page's size and cursor. */
async function allPages(key: string, webhookId: string, query: string, limit: number) {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res = await call("GET", `/v1/webhooks/${webhookId}/deliveries?limit=${limit}${query}${cursor ? `&cursor=${cursor}` : ""}`, {
      key,
    });
    expect(res.status).toBe(200);
    ids.push(...res.json.data.map((d: { eventId: string }) => d.eventId));
    cursor = res.json.nextCursor;
    if (cursor) expect(res.json.data).toHaveLength(limit);
    pages++;
  } while (cursor);
  return { ids, pages };
}

describe("delivery log", () => {
  it("shows every attempt of an event that failed twice then succeeded, with codes, errors and response snippets", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    await ep.program({ script: [{ status: 503, body: "maintenance" }, { close: true }], fallback: { status: 200, body: "ok thanks" } });
    const hook = await createWebhook(ws.apiKey, { url: ep.url, events: ["message.received"] });
    const id = await sendEvent(ws.apiKey, { type: "message.received", data: { text: "hi" } });

    await settledLane(hook.id, (s) => s.attempts.length === 1);
    const pending = await call("GET", `/v1/webhooks/${hook.id}/deliveries`, { key: ws.apiKey });
    expect(pending.json.data).toEqual([
      expect.objectContaining({ eventId: id, status: "pending", deliveredAt: null, nextAttemptAt: expect.any(String) }),
    ]);
    expect(Date.parse(pending.json.data[0].nextAttemptAt) - Date.parse(pending.json.data[0].attempts[0].at)).toBeGreaterThanOrEqual(30_000);

    await runDurableObjectAlarm(lane(hook.id));
    await settledLane(hook.id, (s) => s.attempts.length === 2);
    await runDurableObjectAlarm(lane(hook.id));
    await settledLane(hook.id, (s) => s.attempts.length === 3);

    const res = await call("GET", `/v1/webhooks/${hook.id}/deliveries`, { key: ws.apiKey });
    expect(res.status).toBe(200);
    expect(res.json.nextCursor).toBeNull();
    const [delivery] = res.json.data;
    expect(delivery).toMatchObject({ eventId: id, type: "message.received", status: "delivered", test: false, nextAttemptAt: null });
    expect(delivery.attempts).toEqual([
      {
        at: expect.any(String),
        statusCode: 503,
        durationMs: expect.any(Number),
        error: "endpoint answered HTTP 503",
        responseBody: "maintenance",
      },
      {
        at: expect.any(String),
        statusCode: null,
        durationMs: expect.any(Number),
        error: expect.stringMatching(/^connection failed: /),
        responseBody: null,
      },
      { at: expect.any(String), statusCode: 200, durationMs: expect.any(Number), error: null, responseBody: "ok thanks" },
    ]);
    const times = delivery.attempts.map((a: { at: string }) => Date.parse(a.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(Date.parse(delivery.deliveredAt)).toBeGreaterThanOrEqual(times[2]);
    expect(Date.parse(delivery.createdAt)).toBeLessThanOrEqual(times[0]);

    // One delivery, with exactly the body the endpoint got.
    const one = await call("GET", `/v1/webhooks/${hook.id}/deliveries/${id}`, { key: ws.apiKey });
    expect(one.status).toBe(200);
    expect(one.json).toMatchObject({ eventId: id, status: "delivered", attempts: delivery.attempts });
    const received = await ep.requests();
    expect(received).toHaveLength(3);
    expect(one.json.payload).toEqual(JSON.parse(received[2]!.body));
  });

  it("shows the headers of a delivery's latest attempt exactly as the endpoint got them, signatures included", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    await ep.program({ script: [{ status: 503 }], fallback: { status: 200 } });
    const hook = await createWebhook(ws.apiKey, {
      url: ep.url,
      events: ["message.received"],
      headers: { "X-Tenant": "acme", "x-region": "eu" },
    });
    await ep.program({ script: [{ status: 503 }], fallback: { status: 200 }, secrets: [hook.secret] });
    const id = await sendEvent(ws.apiKey, { type: "message.received", data: { text: "hi" } });
    await settledLane(hook.id, (s) => s.attempts.length === 1);
    // A second passes, so the retry is signed with another timestamp than the first attempt.
    await new Promise((r) => setTimeout(r, 1000));
    await runDurableObjectAlarm(lane(hook.id));
    await settledLane(hook.id, (s) => s.attempts.length === 2 && s.events[0]!.status === "delivered");

    const received = await ep.requests();
    expect(received).toHaveLength(2);
    expect(received[0]!.headers["webhook-timestamp"]).not.toBe(received[1]!.headers["webhook-timestamp"]);
    const expectSentAs = (headers: Record<string, string>, request: (typeof received)[number]) => {
      expect(Object.keys(headers).sort()).toEqual([
        "content-type",
        "traceparent",
        "user-agent",
        "webhook-id",
        "webhook-signature",
        "webhook-timestamp",
        "x-region",
        "x-tenant",
        "x-webhook-signature",
      ]);
      expect(headers).toEqual(Object.fromEntries(Object.keys(headers).map((name) => [name, request.headers[name]])));
      expect([request.standardValid, request.respondIoValid]).toEqual([true, true]);
    };
    const one = await call("GET", `/v1/webhooks/${hook.id}/deliveries/${id}`, { key: ws.apiKey });
    expect(one.status).toBe(200);
    expectSentAs(one.json.headers, received[1]!);
    expect(one.json.headers).toMatchObject({ "webhook-id": id, "x-tenant": "acme", "content-type": "application/json" });
    // The list stays as it was: no headers there.
    const list = await call("GET", `/v1/webhooks/${hook.id}/deliveries`, { key: ws.apiKey });
    expect(list.json.data[0]).not.toHaveProperty("headers");

    // A test event has its one attempt's headers too.
    const test = await call("POST", `/v1/webhooks/${hook.id}/test`, { key: ws.apiKey });
    const testRead = await call("GET", `/v1/webhooks/${hook.id}/deliveries/${test.json.eventId}`, { key: ws.apiKey });
    expectSentAs(testRead.json.headers, (await ep.waitFor(3))[2]!);

    // An event never attempted (kept as skipped while the webhook is off) has none.
    expect((await call("POST", `/v1/webhooks/${hook.id}/disable`, { key: ws.apiKey })).status).toBe(200);
    const skipped = await sendEvent(ws.apiKey, { type: "message.received", data: { text: "later" } });
    await settledLane(hook.id, (s) => s.events.some((e) => e.id === skipped));
    const none = await call("GET", `/v1/webhooks/${hook.id}/deliveries/${skipped}`, { key: ws.apiKey });
    expect(none.json).toMatchObject({ status: "skipped", attempts: [], headers: null });
  });

  it("filters by status and type and pages exactly across 250 events, newest first", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    await ep.program({ fallback: { status: 204 } });
    const hook = await createWebhook(ws.apiKey, { url: ep.url, events: [...TYPES] });

    const typeOf = new Map<string, string>();
    const delivered: string[] = [];
    for (let batch = 0; batch < 2; batch++) {
      const events = Array.from({ length: 100 }, (_, i) => ({ type: TYPES[(batch * 100 + i) % 3]!, data: { n: batch * 100 + i } }));
      const ids = await sendBatch(ws.apiKey, events);
      ids.forEach((id, i) => typeOf.set(id, events[i]!.type));
      delivered.push(...ids);
    }
    await ep.waitFor(200, 30_000);
    await settledLane(hook.id, (s) => s.events.length === 200 && s.events.every((e) => e.status === "delivered"));

    // 50 more while the webhook is off: kept as skipped.
    expect((await call("POST", `/v1/webhooks/${hook.id}/disable`, { key: ws.apiKey })).status).toBe(200);
    const events = Array.from({ length: 50 }, (_, i) => ({ type: TYPES[(200 + i) % 3]!, data: { n: 200 + i } }));
    const skipped = await sendBatch(ws.apiKey, events);
    skipped.forEach((id, i) => typeOf.set(id, events[i]!.type));
    await settledLane(hook.id, (s) => s.events.length === 250);

    const all = [...delivered, ...skipped].reverse();
    expect(await allPages(ws.apiKey, hook.id, "", 100)).toEqual({ ids: all, pages: 3 });
    expect((await allPages(ws.apiKey, hook.id, "", 7)).ids).toEqual(all);
    expect((await allPages(ws.apiKey, hook.id, "&status=skipped", 20)).ids).toEqual([...skipped].reverse());
    expect((await allPages(ws.apiKey, hook.id, "&status=delivered", 33)).ids).toEqual([...delivered].reverse());
    expect((await allPages(ws.apiKey, hook.id, "&status=dropped", 10)).ids).toEqual([]);
    for (const type of TYPES) {
      expect((await allPages(ws.apiKey, hook.id, `&type=${type}`, 30)).ids).toEqual(all.filter((id) => typeOf.get(id) === type));
    }
    expect((await allPages(ws.apiKey, hook.id, "&status=skipped&type=contact.updated", 4)).ids).toEqual(
      [...skipped].reverse().filter((id) => typeOf.get(id) === "contact.updated"),
    );

    // The default page is 50.
    const first = await call("GET", `/v1/webhooks/${hook.id}/deliveries`, { key: ws.apiKey });
    expect(first.json.data).toHaveLength(50);
    expect(first.json.data.map((d: { eventId: string }) => d.eventId)).toEqual(all.slice(0, 50));
  });

  it("answers bad queries with a clear 400, and another workspace's webhook or an unknown event with 404", async () => {
    const ws = await createWorkspace();
    const other = await createWorkspace("Other");
    const hook = await createWebhook(ws.apiKey);
    const path = `/v1/webhooks/${hook.id}/deliveries`;
    const cases: [string, string, string][] = [
      ["?limit=0", "validation_failed", "limit"],
      ["?limit=101", "validation_failed", "limit"],
      ["?limit=abc", "validation_failed", "limit"],
      ["?status=failed", "validation_failed", "status"],
      ["?type=message.deleted", "unknown_event_type", "type"],
      ["?cursor=not-a-cursor", "invalid_cursor", "cursor"],
    ];
    for (const [query, code, param] of cases) {
      const res = await call("GET", path + query, { key: ws.apiKey });
      expect({ query, status: res.status, code: res.json.error.code, param: res.json.error.param }).toEqual({
        query,
        status: 400,
        code,
        param,
      });
      expect(res.json.error.message).toMatch(new RegExp(param));
    }
    expect((await call("GET", path, { key: other.apiKey })).status).toBe(404);
    expect((await call("GET", `/v1/webhooks/wh_nope/deliveries`, { key: ws.apiKey })).status).toBe(404);
    const unknown = await call("GET", `${path}/evt_unknown`, { key: ws.apiKey });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe("not_found");
    expect((await call("GET", path, { key: ws.apiKey })).json).toEqual({ data: [], nextCursor: null });
  });
});
