// Limits per workspace (docs/limits.md): what one workspace may create and send, visible in GET /v1/workspace,
// changed by the operator, and refused past them with the limit named, changing nothing.
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, LIMITS } from "../../src/lib/limits";
import { ADMIN_TOKEN, call, createWebhook, createWorkspace } from "../support/helpers";
import { endpoint } from "../support/receiver";

const setLimits = (id: string, limits: Record<string, number | null>) =>
  call("PATCH", `/v1/admin/workspaces/${id}`, { key: ADMIN_TOKEN, body: { limits } });

const webhookRows = async (workspaceId: string) =>
  (await env.DB.prepare("SELECT count(*) AS n FROM webhooks WHERE workspace_id = ?").bind(workspaceId).first<{ n: number }>())!.n;

/** A filter whose JSON is about `bytes` long, in values of at most 256 characters (the default value limit). */
function filterOfSize(bytes: number): Record<string, string[]> {
  const filter: Record<string, string[]> = {};
  let left = bytes;
  for (let path = 0; path < 10 && left > 0; path++) {
    const values: string[] = [];
    for (let i = 0; i < 50 && left > 0; i++) {
      const value = "v".repeat(Math.min(250, Math.max(1, left - 3)));
      values.push(value);
      left -= value.length + 3;
    }
    filter[`contact.f${path}`] = values;
  }
  return filter;
}

describe("limits per workspace", () => {
  it("shows each limit and the usage in GET /v1/workspace, with the documented defaults", async () => {
    const ws = await createWorkspace();
    await createWebhook(ws.apiKey, { url: endpoint().url });
    const res = await call("GET", "/v1/workspace", { key: ws.apiKey });
    expect(res.status).toBe(200);
    expect(res.json.limits).toEqual({ webhooks: 100, webhookConfigBytes: 16_384, filterValueLength: 256, testEventsPerMinute: 10 });
    expect(res.json.limits).toEqual(DEFAULT_LIMITS);
    expect(res.json.usage).toEqual({ webhooks: 1 });
  });

  it("refuses the webhook past the limit with 409 limit_reached naming it, and creates nothing", async () => {
    const ws = await createWorkspace();
    expect((await setLimits(ws.id, { webhooks: 3 })).status).toBe(200);
    for (let i = 0; i < 3; i++)
      expect(
        (await call("POST", "/v1/webhooks", { key: ws.apiKey, body: { url: endpoint().url, events: ["contact.created"] } })).status,
      ).toBe(201);
    const over = await call("POST", "/v1/webhooks", { key: ws.apiKey, body: { delivery: "poll", events: ["contact.created"] } });
    expect(over.status).toBe(409);
    expect(over.json.error).toMatchObject({ code: "limit_reached", param: "webhooks" });
    expect(over.json.error.message).toContain("3 webhooks");
    expect(await webhookRows(ws.id)).toBe(3);
    expect((await call("GET", "/v1/workspace", { key: ws.apiKey })).json.usage).toEqual({ webhooks: 3 });
  });

  it("holds the limit when creates race: exactly as many as the limit allows are kept, the rest refused", async () => {
    const ws = await createWorkspace();
    await setLimits(ws.id, { webhooks: 5 });
    const answers = await Promise.all(
      Array.from({ length: 12 }, () =>
        call("POST", "/v1/webhooks", { key: ws.apiKey, body: { url: endpoint().url, events: ["contact.created"] } }),
      ),
    );
    const created = answers.filter((a) => a.status === 201).length;
    expect(answers.every((a) => a.status === 201 || (a.status === 409 && a.json.error.code === "limit_reached"))).toBe(true);
    expect(created).toBe(5);
    expect(await webhookRows(ws.id)).toBe(5);
  });

  it("lets the operator raise, lower and reset a limit; a lowered limit refuses new webhooks and leaves existing ones alone", async () => {
    const ws = await createWorkspace();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await createWebhook(ws.apiKey, { url: endpoint().url })).id);
    const lowered = await setLimits(ws.id, { webhooks: 2 });
    expect(lowered.json.limits.webhooks).toBe(2);
    expect(lowered.json.usage).toEqual({ webhooks: 3 });
    expect(
      (await call("POST", "/v1/webhooks", { key: ws.apiKey, body: { url: endpoint().url, events: ["contact.created"] } })).status,
    ).toBe(409);
    // The existing ones keep working: read, edited, enabled.
    const edited = await call("PATCH", `/v1/webhooks/${ids[2]}`, { key: ws.apiKey, body: { description: "kept" } });
    expect(edited.status).toBe(200);
    expect((await call("GET", "/v1/webhooks", { key: ws.apiKey })).json.data).toHaveLength(3);
    const raised = await setLimits(ws.id, { webhooks: 500 });
    expect(raised.json.limits.webhooks).toBe(500);
    expect(
      (await call("POST", "/v1/webhooks", { key: ws.apiKey, body: { url: endpoint().url, events: ["contact.created"] } })).status,
    ).toBe(201);
    const reset = await setLimits(ws.id, { webhooks: null });
    expect(reset.json.limits).toEqual(DEFAULT_LIMITS);
    const read = await call("GET", `/v1/admin/workspaces/${ws.id}`, { key: ADMIN_TOKEN });
    expect(read.status).toBe(200);
    expect(read.json).toMatchObject({ id: ws.id, limits: DEFAULT_LIMITS, usage: { webhooks: 4 } });
  });

  it("refuses bad limit changes with 400, unknown workspaces with 404, and workspace keys with 401", async () => {
    const ws = await createWorkspace();
    for (const limits of [
      { webhooks: -1 },
      { webhooks: 1.5 },
      { webhooks: LIMITS.webhooks.max + 1 },
      { nope: 3 },
      { webhookConfigBytes: "big" },
    ]) {
      const res = await setLimits(ws.id, limits as unknown as Record<string, number>);
      expect(res.status, JSON.stringify(limits)).toBe(400);
      expect(res.json.error.param).toMatch(/^limits/);
    }
    expect((await setLimits("ws_nope", { webhooks: 5 })).status).toBe(404);
    expect((await call("PATCH", `/v1/admin/workspaces/${ws.id}`, { key: ws.apiKey, body: { limits: { webhooks: 1000 } } })).status).toBe(
      401,
    );
    expect((await call("GET", "/v1/workspace", { key: ws.apiKey })).json.limits).toEqual(DEFAULT_LIMITS);
  });

  it("refuses a configuration over webhookConfigBytes with 400 limit_reached naming its largest field, on create and PATCH", async () => {
    const ws = await createWorkspace();
    const big = filterOfSize(17_000);
    const created = await call("POST", "/v1/webhooks", {
      key: ws.apiKey,
      body: { url: endpoint().url, events: ["contact.created"], filter: big },
    });
    expect(created.status).toBe(400);
    expect(created.json.error).toMatchObject({ code: "limit_reached", param: "filter" });
    expect(created.json.error.message).toContain("16384");
    expect(await webhookRows(ws.id)).toBe(0);

    const hook = await createWebhook(ws.apiKey, { url: endpoint().url, filter: filterOfSize(15_000) });
    const headers = Object.fromEntries(Array.from({ length: 3 }, (_, i) => [`X-Big-${i}`, "h".repeat(1000)]));
    const patched = await call("PATCH", `/v1/webhooks/${hook.id}`, { key: ws.apiKey, body: { headers } });
    expect(patched.status).toBe(400);
    expect(patched.json.error).toMatchObject({ code: "limit_reached", param: "filter" });
    const after = await call("GET", `/v1/webhooks/${hook.id}`, { key: ws.apiKey });
    expect(after.json.headers).toEqual({});

    // Raised by the operator, the same configuration is taken.
    await setLimits(ws.id, { webhookConfigBytes: 32_768 });
    expect((await call("PATCH", `/v1/webhooks/${hook.id}`, { key: ws.apiKey, body: { headers } })).status).toBe(200);
  });

  it("refuses a filter string over filterValueLength with 400 invalid_filter naming its path", async () => {
    const ws = await createWorkspace();
    const res = await call("POST", "/v1/webhooks", {
      key: ws.apiKey,
      body: { url: endpoint().url, events: ["contact.created"], filter: { "contact.name": ["ok", "x".repeat(257)] } },
    });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code: "invalid_filter", param: "filter.contact.name" });
    expect(await webhookRows(ws.id)).toBe(0);
    expect(
      (
        await call("POST", "/v1/webhooks", {
          key: ws.apiKey,
          body: { url: endpoint().url, events: ["contact.created"], filter: { "contact.name": "x".repeat(256) } },
        })
      ).status,
    ).toBe(201);
  });

  it("decides every configuration by its JSON size: accepted exactly when within the limit (property)", async () => {
    const ws = await createWorkspace();
    await setLimits(ws.id, { webhookConfigBytes: 2048, webhooks: 1000 });
    let refused = 0;
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 2600 }), fc.string({ maxLength: 300 }), async (filterBytes, description) => {
        const url = endpoint().url;
        const body = { url, events: ["contact.created"], description, filter: filterBytes > 0 ? filterOfSize(filterBytes) : {} };
        const size = new TextEncoder().encode(
          JSON.stringify({ url, description, events: body.events, filter: body.filter, headers: {} }),
        ).length;
        const res = await call("POST", "/v1/webhooks", { key: ws.apiKey, body });
        if (res.status === 400 && res.json.error.code === "description_too_long") return;
        if (size <= 2048) {
          expect(res.status).toBe(201);
          accepted++;
        } else {
          expect(res.status).toBe(400);
          expect(res.json.error.code).toBe("limit_reached");
          refused++;
        }
      }),
      { numRuns: 40 },
    );
    expect(accepted).toBeGreaterThan(3);
    expect(refused).toBeGreaterThan(3);
  });

  it("answers 429 rate_limited with Retry-After past testEventsPerMinute per webhook, and sends nothing more", async () => {
    const ws = await createWorkspace();
    await setLimits(ws.id, { testEventsPerMinute: 3 });
    const ep = endpoint();
    const hook = await createWebhook(ws.apiKey, { url: ep.url });
    const other = await createWebhook(ws.apiKey, { url: ep.url });
    for (let i = 0; i < 3; i++) expect((await call("POST", `/v1/webhooks/${hook.id}/test`, { key: ws.apiKey })).status).toBe(200);
    const limited = await call("POST", `/v1/webhooks/${hook.id}/test`, { key: ws.apiKey });
    expect(limited.status).toBe(429);
    expect(limited.json.error.code).toBe("rate_limited");
    expect(limited.json.error.message).toContain("testEventsPerMinute");
    const wait = Number(limited.headers.get("retry-after"));
    expect(wait).toBeGreaterThanOrEqual(1);
    expect(wait).toBeLessThanOrEqual(60);
    expect(await ep.requests()).toHaveLength(3);
    // Per webhook: another webhook of the workspace still has its own minute.
    expect((await call("POST", `/v1/webhooks/${other.id}/test`, { key: ws.apiKey })).status).toBe(200);
  });
});
