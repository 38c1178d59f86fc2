// The batch field of a push webhook through the API (docs/batches.md): set, shown, changed and reset on create, PATCH
// and GET; every value outside {"maxEvents": 2-100, "maxWaitMs": 0-10000} refused with 400 invalid_batch, saving nothing.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { call, createWebhook, createWorkspace, setLimits } from "../support/helpers";

const URL_ = "https://crm.example.com/hooks";

/** Bad batches and the param each names: the field itself, or the key inside it that is wrong. */
const BAD: [unknown, string][] = [
  [{ maxEvents: 0 }, "batch.maxEvents"],
  [{ maxEvents: 1 }, "batch.maxEvents"],
  [{ maxEvents: 101 }, "batch.maxEvents"],
  [{ maxEvents: 2.5 }, "batch.maxEvents"],
  [{ maxEvents: "50" }, "batch.maxEvents"],
  [{ maxEvents: 10, maxWaitMs: -1 }, "batch.maxWaitMs"],
  [{ maxEvents: 10, maxWaitMs: 10_001 }, "batch.maxWaitMs"],
  [{ maxEvents: 10, maxWaitMs: 1.5 }, "batch.maxWaitMs"],
  [{}, "batch.maxEvents"],
  [{ maxEvents: 10, size: 3 }, "batch.size"],
  ["50", "batch"],
  [50, "batch"],
  [[50], "batch"],
];

describe("batch on the webhook API", () => {
  it("is null unless set; a set batch is returned by create, GET and the list, with maxWaitMs 0 when left out", async () => {
    const { apiKey } = await createWorkspace();
    const plain = await createWebhook(apiKey, { url: URL_ });
    expect(plain.batch).toBeNull();

    const hook = await createWebhook(apiKey, { url: URL_, batch: { maxEvents: 50 } });
    expect(hook.batch).toEqual({ maxEvents: 50, maxWaitMs: 0 });
    const got = await call("GET", `/v1/webhooks/${hook.id}`, { key: apiKey });
    expect(got.json.batch).toEqual({ maxEvents: 50, maxWaitMs: 0 });
    const list = await call("GET", "/v1/webhooks", { key: apiKey });
    expect(list.json.data.find((w: { id: string }) => w.id === hook.id).batch).toEqual({ maxEvents: 50, maxWaitMs: 0 });

    const both = await createWebhook(apiKey, { url: URL_, batch: { maxEvents: 100, maxWaitMs: 10_000 } });
    expect(both.batch).toEqual({ maxEvents: 100, maxWaitMs: 10_000 });
  });

  it("is changed by PATCH, kept by a PATCH that leaves it out, and turned off by null", async () => {
    const { apiKey } = await createWorkspace();
    const hook = await createWebhook(apiKey, { url: URL_ });
    const patch = (body: unknown) => call("PATCH", `/v1/webhooks/${hook.id}`, { key: apiKey, body });

    expect((await patch({ batch: { maxEvents: 2, maxWaitMs: 250 } })).json.batch).toEqual({ maxEvents: 2, maxWaitMs: 250 });
    expect((await patch({ description: "ledger" })).json.batch).toEqual({ maxEvents: 2, maxWaitMs: 250 });
    // A new batch replaces the old one whole: a left-out maxWaitMs is its default, not the previous value.
    expect((await patch({ batch: { maxEvents: 20 } })).json.batch).toEqual({ maxEvents: 20, maxWaitMs: 0 });
    const off = await patch({ batch: null });
    expect(off.status).toBe(200);
    expect(off.json.batch).toBeNull();
    expect((await call("GET", `/v1/webhooks/${hook.id}`, { key: apiKey })).json.batch).toBeNull();
  });

  it("refuses every value outside the ranges with 400 invalid_batch naming the field, on create and PATCH, saving nothing", async () => {
    const { apiKey } = await createWorkspace();
    const hook = await createWebhook(apiKey, { url: URL_, batch: { maxEvents: 5, maxWaitMs: 100 } });
    for (const [batch, param] of BAD) {
      const what = JSON.stringify(batch);
      const created = await call("POST", "/v1/webhooks", { key: apiKey, body: { url: URL_, events: ["message.received"], batch } });
      expect(created.status, what).toBe(400);
      expect(created.json.error, what).toMatchObject({ code: "invalid_batch", param });
      expect(created.json.error.message, what).toMatch(/\S/);
      const patched = await call("PATCH", `/v1/webhooks/${hook.id}`, { key: apiKey, body: { batch, description: "changed" } });
      expect(patched.status, what).toBe(400);
      expect(patched.json.error, what).toMatchObject({ code: "invalid_batch", param });
    }
    const after = await call("GET", `/v1/webhooks/${hook.id}`, { key: apiKey });
    expect(after.json).toMatchObject({ batch: { maxEvents: 5, maxWaitMs: 100 }, description: "" });
    expect((await call("GET", "/v1/webhooks", { key: apiKey })).json.data).toHaveLength(1);
  });

  it("is refused for a polling webhook (400 invalid_batch, param batch) at create and PATCH; null is no batch and is taken", async () => {
    const { apiKey } = await createWorkspace();
    const created = await call("POST", "/v1/webhooks", {
      key: apiKey,
      body: { delivery: "poll", events: ["contact.created"], batch: { maxEvents: 10 } },
    });
    expect(created.status).toBe(400);
    expect(created.json.error).toMatchObject({ code: "invalid_batch", param: "batch" });
    expect((await call("GET", "/v1/webhooks", { key: apiKey })).json.data).toHaveLength(0);

    const poll = await call("POST", "/v1/webhooks", { key: apiKey, body: { delivery: "poll", events: ["contact.created"], batch: null } });
    expect(poll.status).toBe(201);
    expect(poll.json.batch).toBeNull();
    const patched = await call("PATCH", `/v1/webhooks/${poll.json.id}`, { key: apiKey, body: { batch: { maxEvents: 10 } } });
    expect(patched.status).toBe(400);
    expect(patched.json.error).toMatchObject({ code: "invalid_batch", param: "batch" });
    expect((await call("GET", `/v1/webhooks/${poll.json.id}`, { key: apiKey })).json.batch).toBeNull();
  });

  it("does not count toward webhookConfigBytes: a configuration just within the limit still takes the largest batch", async () => {
    const ws = await createWorkspace();
    await setLimits(ws.id, { webhookConfigBytes: 1024 });
    const events = ["message.received"];
    const sized = (pad: string) =>
      new TextEncoder().encode(JSON.stringify({ url: URL_, description: "", events, filter: {}, headers: { "x-pad": pad } })).length;
    const pad = "p".repeat(1024 - sized(""));
    expect(sized(pad)).toBe(1024);
    const res = await call("POST", "/v1/webhooks", {
      key: ws.apiKey,
      body: { url: URL_, events, headers: { "x-pad": pad }, batch: { maxEvents: 100, maxWaitMs: 10_000 } },
    });
    expect(res.status, res.text).toBe(201);
    // One byte more of a sized field is refused: the limit is really there, and batch is not what it measures.
    const over = await call("POST", "/v1/webhooks", { key: ws.apiKey, body: { url: URL_, events, headers: { "x-pad": `${pad}p` } } });
    expect(over.json.error).toMatchObject({ code: "limit_reached", param: "headers" });
  });

  it("accepts exactly the whole numbers within range, whatever else is sent (property)", async () => {
    const { apiKey } = await createWorkspace();
    const hook = await createWebhook(apiKey, { url: URL_ });
    const number = fc.oneof(
      fc.integer({ min: -5, max: 10_010 }),
      fc.double({ min: -10, max: 10_010, noNaN: true }),
      fc.constantFrom(0, 1, 2, 100, 101, 10_000, 10_001, -0),
    );
    const value = fc.oneof({ weight: 4, arbitrary: number }, fc.string({ maxLength: 4 }), fc.constant(null), fc.boolean());
    // Valid ones too, drawn on their own, so that both branches are exercised often.
    const valid = fc.record(
      { maxEvents: fc.integer({ min: 2, max: 100 }), maxWaitMs: fc.integer({ min: 0, max: 10_000 }) },
      { requiredKeys: ["maxEvents"] },
    );
    const batch = fc.oneof(valid, fc.record({ maxEvents: value, maxWaitMs: value }, { requiredKeys: ["maxEvents"] }));
    const whole = (n: unknown, min: number, max: number) => typeof n === "number" && Number.isInteger(n) && n >= min && n <= max;
    let accepted = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(batch, async (b) => {
        const ok = whole(b.maxEvents, 2, 100) && (!("maxWaitMs" in b) || whole(b.maxWaitMs, 0, 10_000));
        const res = await call("PATCH", `/v1/webhooks/${hook.id}`, { key: apiKey, body: { batch: b } });
        if (ok) {
          expect(res.status, JSON.stringify(b)).toBe(200);
          // Through JSON, as the client sent it (-0 arrives as 0).
          const sent = JSON.parse(JSON.stringify(b));
          expect(res.json.batch).toEqual({ maxEvents: sent.maxEvents, maxWaitMs: sent.maxWaitMs ?? 0 });
          accepted++;
        } else {
          expect(res.status, JSON.stringify(b)).toBe(400);
          expect(res.json.error.code).toBe("invalid_batch");
          expect(res.json.error.param).toMatch(/^batch\.(maxEvents|maxWaitMs)$/);
          refused++;
        }
      }),
      { numRuns: 200 },
    );
    expect(accepted).toBeGreaterThan(10);
    expect(refused).toBeGreaterThan(10);
  }, 60_000);
});
