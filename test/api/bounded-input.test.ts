// Bounded input at the door: data nested deeper than 64 levels is refused with 400 data_too_deep, and no body of any
// shape or size answers 5xx; what is accepted arrives intact.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_DATA_DEPTH } from "../../src/events/queued-event";
import { nestsDeeperThan } from "../../src/lib/json-depth";
import { call, createWebhook, createWorkspace, nested } from "../support/helpers";
import { endpoint } from "../support/receiver";

const raw = (key: string, path: string, text: string) =>
  call("POST", path, { key, rawBody: text, headers: { "content-type": "application/json" } });

describe("nesting depth", () => {
  it("measures objects and arrays together, without recursion", () => {
    expect(nestsDeeperThan({}, 1)).toBe(false);
    expect(nestsDeeperThan({ a: [1] }, 1)).toBe(true);
    expect(nestsDeeperThan(nested(64), 64)).toBe(false);
    expect(nestsDeeperThan(nested(65), 64)).toBe(true);
    // Deep enough to overflow any recursive walk, and wide.
    const deep = JSON.parse(`{"a":${"[".repeat(200_000)}${"]".repeat(200_000)}}`);
    expect(nestsDeeperThan(deep, 64)).toBe(true);
    expect(nestsDeeperThan({ wide: Array.from({ length: 50_000 }, (_, i) => ({ i })) }, 64)).toBe(false);
  });

  it("accepts 64 levels and delivers them intact: JSON and the queue's copies handle that depth", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    await createWebhook(ws.apiKey, { url: ep.url, events: ["contact.created"] });
    const data = nested(MAX_DATA_DEPTH);
    expect(structuredClone(data)).toEqual(data);
    expect(JSON.parse(JSON.stringify(data))).toEqual(data);
    const res = await call("POST", "/v1/events", { key: ws.apiKey, body: { type: "contact.created", data } });
    expect(res.status).toBe(202);
    const [got] = await ep.waitFor(1);
    expect(JSON.parse(got!.body).d).toEqual(data.d);
  });

  it("refuses 65 levels with data_too_deep on data, and in a batch names the event", async () => {
    const ws = await createWorkspace();
    const one = await call("POST", "/v1/events", { key: ws.apiKey, body: { type: "contact.created", data: nested(65) } });
    expect(one).toMatchObject({ status: 400, json: { error: { code: "data_too_deep", param: "data" } } });
    const batch = await call("POST", "/v1/events/batch", {
      key: ws.apiKey,
      body: {
        events: [
          { type: "contact.created", data: {} },
          { type: "contact.created", data: nested(65) },
        ],
      },
    });
    expect(batch).toMatchObject({ status: 400, json: { error: { code: "data_too_deep", param: "events[1].data" } } });
  });

  it.each([4_000, 6_000, 100_000])("refuses %i levels with 400, never 5xx", async (levels) => {
    const ws = await createWorkspace();
    const text = `{"type":"contact.created","data":{"a":${"[".repeat(levels)}${"]".repeat(levels)}}}`;
    const res = await raw(ws.apiKey, "/v1/events", text);
    expect(res).toMatchObject({ status: 400, json: { error: { code: "data_too_deep", param: "data" } } });
    const whole = await raw(ws.apiKey, "/v1/events", "[".repeat(levels) + "]".repeat(levels));
    expect(whole.status).toBe(400);
  });
});

/** Random JSON of every kind: deep, wide, unicode, huge numbers, prototype-looking keys. */
const key = fc.oneof(
  fc.string(),
  fc.constantFrom("__proto__", "constructor", "prototype", "event_type", "event_id", "timestamp", "toString", ""),
);
const leaf = fc.oneof(
  fc.string({ unit: "binary" }),
  fc.double(),
  fc.integer(),
  fc.bigInt().map((n) => Number(n)),
  fc.boolean(),
  fc.constant(null),
);
const json = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    fc.array(tie("value"), { maxLength: 6 }),
    fc.dictionary(key, tie("value"), { maxKeys: 6 }),
  ),
})).value;
/** Raw text too, for what JSON.stringify never writes: huge exponents, deep brackets, broken JSON. */
const text = fc.oneof(
  json.map((v) => JSON.stringify(v) ?? "null"),
  fc.record({ type: fc.constantFrom("contact.created", "nope"), data: json }).map((v) => JSON.stringify(v)),
  fc.integer({ min: 1, max: 3000 }).map((n) => `{"type":"contact.created","data":{"x":${"[".repeat(n)}${"]".repeat(n)}}}`),
  fc.integer({ min: 1, max: 400 }).map((n) => `{"type":"contact.created","data":{"n":1e${n},"m":-${"9".repeat(n)}}}`),
  fc.constantFrom(
    '{"type":"contact.created","data":{"__proto__":{"polluted":1}}}',
    '{"__proto__":{"type":"x"}}',
    "{",
    '{"a":1}}',
    "\uFEFF{}",
    "",
  ),
  fc.string({ unit: "binary" }),
);

describe("no body of any shape answers 5xx", () => {
  it("answers 2xx or 4xx to thousands of random bodies on /v1/events and /v1/events/batch, and delivers every accepted event", async () => {
    // Four workspaces taking turns, so the burst stays under each one's ingestion rate limit (1000 per 10 s).
    const tenants = await Promise.all(
      [0, 1, 2, 3].map(async (i) => {
        const ws = await createWorkspace(`tenant ${i}`);
        const ep = endpoint();
        await createWebhook(ws.apiKey, { url: ep.url, events: ["contact.created"] });
        return { ws, ep, accepted: 0 };
      }),
    );
    let run = 0;
    await fc.assert(
      fc.asyncProperty(text, fc.boolean(), async (body, asBatch) => {
        const tenant = tenants[run++ % tenants.length]!;
        const res = await raw(tenant.ws.apiKey, asBatch ? "/v1/events/batch" : "/v1/events", asBatch ? `{"events":[${body}]}` : body);
        expect(res.status, `${res.status} ${res.text.slice(0, 300)} for ${body.slice(0, 200)}`).toBeLessThan(500);
        expect(res.status).not.toBe(429);
        if (res.status >= 400) expect(res.json?.error?.code, res.text.slice(0, 300)).toMatch(/^[a-z_]+$/);
        if (res.status === 202) tenant.accepted += asBatch ? res.json.ids.length : 1;
      }),
      { numRuns: 2000 },
    );
    // Every accepted event reaches its endpoint, once: none was lost to a neighbour.
    for (const { ep, accepted } of tenants) {
      expect(accepted).toBeGreaterThan(25);
      const got = await ep.waitFor(accepted, 60_000);
      expect(new Set(got.map((r) => JSON.parse(r.body).event_id)).size).toBe(accepted);
      expect(got).toHaveLength(accepted);
    }
  }, 180_000);
});
