// Adaptive concurrency (docs/ordering.md) end to end: the setting through the API, and a lane finding the limit of a
// real receiver whose capacity changes during the run, never above maxInFlight, losing nothing and keeping each
// key's order; its limit in the stats.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { call, createWebhook, createWorkspace, eventually } from "../support/helpers";
import { laneState } from "../support/lane";
import { page, signIn } from "../support/pages";
import { byKey, driveUntil, inAcceptanceOrder, successesOf } from "../support/parallel";
import { endpoint } from "../support/receiver";

const contactOf = (r: { body: string }) => JSON.stringify((JSON.parse(r.body) as { contact?: { id?: unknown } }).contact?.id ?? null);

describe("concurrency setting", () => {
  it('defaults to fixed, takes adaptive under key and none, and becomes fixed on a change to "endpoint"', async () => {
    const ws = await createWorkspace();
    expect(await createWebhook(ws.apiKey)).toMatchObject({ concurrency: "fixed" });
    const hook = await createWebhook(ws.apiKey, { ordering: "key", orderingKey: "contact.id", concurrency: "adaptive", maxInFlight: 30 });
    expect(hook).toMatchObject({ concurrency: "adaptive", maxInFlight: 30 });
    const none = await call("PATCH", `/v1/webhooks/${hook.id}`, { key: ws.apiKey, body: { ordering: "none" } });
    expect(none.json).toMatchObject({ ordering: "none", concurrency: "adaptive" });
    const back = await call("PATCH", `/v1/webhooks/${hook.id}`, { key: ws.apiKey, body: { ordering: "endpoint" } });
    expect(back.json).toMatchObject({ ordering: "endpoint", concurrency: "fixed", maxInFlight: 1 });
    const refused = await call("PATCH", `/v1/webhooks/${hook.id}`, { key: ws.apiKey, body: { concurrency: "adaptive" } });
    expect(refused.status).toBe(400);
    expect(refused.json.error).toMatchObject({ code: "invalid_concurrency", param: "concurrency" });
    expect((await call("GET", `/v1/webhooks/${hook.id}`, { key: ws.apiKey })).json).toMatchObject({ concurrency: "fixed" });
  });

  it.each([
    ["adaptive with endpoint", { concurrency: "adaptive" }],
    ["an unknown concurrency", { ordering: "none", concurrency: "auto" }],
    ["a number", { ordering: "none", concurrency: 5 }],
  ])("refuses %s with 400 invalid_concurrency", async (_, body) => {
    const ws = await createWorkspace();
    const res = await call("POST", "/v1/webhooks", {
      key: ws.apiKey,
      body: { url: "https://receiver.example.com/h", events: ["message.received"], ...body },
    });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code: "invalid_concurrency", param: "concurrency" });
  });

  it("reports no limit for a fixed webhook", async () => {
    const ws = await createWorkspace();
    const hook = await createWebhook(ws.apiKey, { ordering: "none", maxInFlight: 20 });
    const stats = await call("GET", `/v1/webhooks/${hook.id}/stats?period=1h`, { key: ws.apiKey });
    expect(stats.json.concurrencyLimit).toBeNull();
    expect(stats.json.series.every((p: { concurrencyLimit: unknown }) => p.concurrencyLimit === null)).toBe(true);
  });
});

describe("Retry-After under adaptive concurrency", () => {
  it.each([
    ["an adaptive webhook pauses as a whole", "adaptive", true],
    ["a fixed webhook pauses only the event", "fixed", false],
  ])(
    "%s on a 503 with Retry-After",
    async (_, concurrency, pauses) => {
      const ws = await createWorkspace();
      const ep = endpoint();
      await ep.program({ script: [{ status: 503, headers: { "retry-after": "2" } }], fallback: { status: 200 } });
      await createWebhook(ws.apiKey, {
        url: ep.url,
        events: ["message.received"],
        ordering: "none",
        maxInFlight: 10,
        concurrency,
        retryDelaysSeconds: [1],
      });
      const send = async (n: number) => {
        const events = Array.from({ length: n }, (_, i) => ({ type: "message.received", data: { n: i } }));
        expect((await call("POST", "/v1/events/batch", { key: ws.apiKey, body: { events } })).status).toBe(202);
      };
      // Real alarms only: one driven by hand runs what was due by the time it was armed for, the pause's end included.
      await send(1);
      const [refused] = await ep.waitFor(1);
      await send(5);
      const all = await ep.waitFor(7, 20_000);
      const others = all.filter((r) => r !== refused && r.body !== refused!.body);
      expect(others.length).toBeGreaterThanOrEqual(5);
      const earliest = Math.min(...others.map((r) => r.arrivedHr));
      // The other events waited for the Retry-After (2 s) from the refusal's answer, or did not.
      if (pauses) expect(earliest - refused!.answeredHr!).toBeGreaterThanOrEqual(1_900);
      else expect(earliest - refused!.answeredHr!).toBeLessThan(1_900);
    },
    30_000,
  );
});

describe("refusals and the failure quota", () => {
  it("counts a refusal that came while it was the only attempt out", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    await ep.program({ fallback: { status: 503 } });
    await createWebhook(ws.apiKey, { url: ep.url, events: ["message.received"], ordering: "none", concurrency: "adaptive" });
    const res = await call("POST", "/v1/events", { key: ws.apiKey, body: { type: "message.received", data: {} } });
    expect(res.status).toBe(202);
    await ep.waitFor(1);
    await eventually(async () => (await call("GET", "/v1/quota", { key: ws.apiKey })).json.failures === 1, 10_000, "the failure counted");
  });
});

describe("concurrency in the settings pages", () => {
  it("chooses adaptive in the Advanced section, shows the API's message under in-order delivery, and the limit on the page", async () => {
    const ws = await createWorkspace();
    const cookie = await signIn(ws.apiKey);
    const blank = await page("GET", "/settings/integrations/webhooks/new", { cookie });
    expect(blank.html).toContain('id="concurrency"');
    const base = { url: "https://crm.example.com/a", events: ["message.received"], description: "" };
    const inOrder = await page("POST", "/settings/integrations/webhooks", { cookie, form: { ...base, concurrency: "adaptive" } });
    expect(inOrder.status).toBe(400);
    expect(inOrder.html).toMatch(/id="concurrency-error">.*needs ordering &quot;key&quot; or &quot;none&quot;/s);
    const created = await page("POST", "/settings/integrations/webhooks", {
      cookie,
      form: { ...base, ordering: "none", maxInFlight: "20", concurrency: "adaptive" },
    });
    expect(created.status).toBe(201);
    const [hook] = (await call("GET", "/v1/webhooks", { key: ws.apiKey })).json.data;
    expect(hook).toMatchObject({ ordering: "none", maxInFlight: 20, concurrency: "adaptive" });
    const edit = await page("GET", `/settings/integrations/webhooks/${hook.id}/edit`, { cookie });
    expect(edit.html).toMatch(/<option value="adaptive" selected="">/);
    const detail = await page("GET", `/settings/integrations/webhooks/${hook.id}`, { cookie });
    expect(detail.html).toMatch(/Requests at once \(adaptive\)<\/dt>\s*<dd>1 now/);
  });
});

describe("adaptive concurrency against a receiver whose capacity changes", () => {
  it("follows the capacity (8, then 2, then 20) under the ceiling, losing nothing and keeping each key's order", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 30, max: 60 }), fc.integer({ min: 25, max: 50 }), async (keys, delayMs) => {
        const ceiling = 24;
        const phases = [
          { capacity: 8, events: 160 },
          { capacity: 2, events: 60 },
          { capacity: 20, events: 320 },
        ];
        const total = phases.reduce((n, p) => n + p.events, 0);
        const ws = await createWorkspace();
        const ep = endpoint();
        await ep.program({ fallback: { status: 200, delayMs }, capacity: phases[0]!.capacity });
        const hook = await createWebhook(ws.apiKey, {
          url: ep.url,
          events: ["message.received"],
          ordering: "key",
          orderingKey: "contact.id",
          maxInFlight: ceiling,
          concurrency: "adaptive",
          retryDelaysSeconds: Array(10).fill(1),
        });
        const accepted: string[] = [];
        for (let from = 0; from < total; from += 100) {
          const events = Array.from({ length: Math.min(100, total - from) }, (_, i) => ({
            type: "message.received",
            data: { contact: { id: (from + i) % keys }, n: from + i },
          }));
          const res = await call("POST", "/v1/events/batch", { key: ws.apiKey, body: { events } });
          expect(res.status).toBe(202);
          accepted.push(...(res.json.ids as string[]));
        }

        // While the lane delivers: the receiver's capacity moves on as the events of each phase arrive, and the
        // webhook's limit is read from its stats.
        const samples: { phase: number; limit: number }[] = [];
        let phase = 0;
        let running = true;
        const watcher = (async () => {
          while (running) {
            const delivered = [...successesOf(await ep.requests()).keys()].length;
            const next = phases.findIndex((_, i) => delivered < phases.slice(0, i + 1).reduce((n, p) => n + p.events, 0));
            if (next > phase) {
              phase = next;
              await ep.setCapacity(phases[phase]!.capacity);
            }
            const stats = await call("GET", `/v1/webhooks/${hook.id}/stats?period=1h`, { key: ws.apiKey });
            samples.push({ phase, limit: stats.json.concurrencyLimit });
            await new Promise((r) => setTimeout(r, 100));
          }
        })();
        const state = await driveUntil(
          hook.id,
          (s) => s.events.length === total && s.events.every((e) => e.status === "delivered"),
          90_000,
        );
        running = false;
        await watcher;

        const report = await ep.report();
        // Never more out than the ceiling.
        expect(report.peakOpen).toBeLessThanOrEqual(ceiling);
        // Nothing lost: every event delivered, at the receiver too.
        expect(state.events.map((e) => e.status)).toEqual(Array(total).fill("delivered"));
        const successes = successesOf(report.requests);
        expect(accepted.every((id) => (successes.get(id) ?? 0) >= 1)).toBe(true);
        // Each key in order of acceptance (a refused event arrives again before the next of its key).
        for (const [key, group] of byKey(report.requests, contactOf)) {
          expect(inAcceptanceOrder(group, accepted), `key ${key}`).toBe(true);
        }
        // The limit follows the capacity: near 8, then down to 2 or 3, then well above 8.
        const of = (p: number) => samples.filter((s) => s.phase === p).map((s) => s.limit);
        expect(Math.max(...of(0))).toBeGreaterThanOrEqual(5);
        expect(Math.max(...of(0).slice(Math.floor(of(0).length / 2)))).toBeLessThanOrEqual(9);
        expect(of(1).at(-1)).toBeLessThanOrEqual(3);
        expect(Math.max(...of(2))).toBeGreaterThanOrEqual(12);
        expect(Math.max(...samples.map((s) => s.limit))).toBeLessThanOrEqual(ceiling);
        // The limit's history is in the chart: the newest 5-minute point holds a limit.
        const stats = await call("GET", `/v1/webhooks/${hook.id}/stats?period=1h`, { key: ws.apiKey });
        expect(stats.json.series.at(-1).concurrencyLimit).toBeGreaterThanOrEqual(1);
        // Few refused: overload answers are the probes' cost, and none of them counted against the quota.
        const refused = report.requests.filter((r) => r.outcome === 503).length;
        expect(refused / report.requests.length).toBeLessThanOrEqual(0.25);
        expect(refused).toBeGreaterThan(0);
        expect((await call("GET", "/v1/quota", { key: ws.apiKey })).json.failures).toBe(0);
        expect((await laneState(hook.id)).lane?.enabled).toBe(1);
      }),
      { numRuns: 2 },
    );
  }, 240_000);
});
