// Rate limits through the Workers Rate Limiting binding: ingestion per workspace (INGEST_LIMITER) and sign-in per
// client address (SIGN_IN_LIMITER) answer 429 with Retry-After; other workspaces and addresses are not affected.
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { LIMITER_PERIOD_SECONDS } from "../../src/lib/rate-limit";
import { eventIdFor } from "../../src/events/ingest";
import { call, createWebhook, createWorkspace, nested } from "../support/helpers";
import { endpoint } from "../support/receiver";

/** Sends requests, `parallel` at a time, until one answers 429 or `max` were sent; returns what came back. */
async function untilLimited(send: () => Promise<{ status: number }>, max: number, parallel = 20) {
  const statuses: number[] = [];
  while (statuses.length < max && !statuses.includes(429)) {
    statuses.push(...(await Promise.all(Array.from({ length: parallel }, send))).map((r) => r.status));
  }
  return statuses;
}

function signIn(address: string, apiKey: string) {
  return exports.default.fetch(
    new Request("http://edge.test/settings/sign-in", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: "http://edge.test", "cf-connecting-ip": address },
      body: new URLSearchParams({ apiKey, next: "/settings/integrations/webhooks" }).toString(),
      redirect: "manual",
    }),
  );
}

describe("rate limits", () => {
  it("declares the documented defaults in wrangler.toml, with the periods Retry-After uses", () => {
    const limiters = JSON.parse(env.WRANGLER_RATELIMITS) as { name: string; simple: { limit: number; period: number } }[];
    expect(Object.fromEntries(limiters.map((l) => [l.name, l.simple]))).toEqual({
      INGEST_LIMITER: { limit: 1000, period: 10 },
      INGEST_EVENTS_LIMITER: { limit: 1000, period: 10 },
      SIGN_IN_LIMITER: { limit: 10, period: 60 },
      JWKS_LIMITER: { limit: 60, period: 60 },
      PUBLIC_LIMITER: { limit: 60, period: 60 },
      ADMIN_LIMITER: { limit: 10, period: 60 },
    });
    for (const limiter of limiters)
      expect(LIMITER_PERIOD_SECONDS[limiter.name as keyof typeof LIMITER_PERIOD_SECONDS]).toBe(limiter.simple.period);
  });

  it("documents 429 on both ingestion routes in /openapi.json", async () => {
    const { json } = await call("GET", "/openapi.json");
    for (const path of ["/v1/events", "/v1/events/batch"]) expect(Object.keys(json.paths[path].post.responses)).toContain("429");
  });

  it("answers 429 rate_limited with Retry-After once a workspace passes 1000 ingestion requests in 10 s; another workspace is unaffected", async () => {
    const [noisy, quiet] = [await createWorkspace("noisy"), await createWorkspace("quiet")];
    // Requests count whether or not their body is valid: an empty object is cheap and refused after the count.
    const statuses = await untilLimited(() => call("POST", "/v1/events", { key: noisy.apiKey, body: {} }), 2100, 25);
    const passed = statuses.filter((s) => s !== 429);
    expect(statuses).toContain(429);
    expect(new Set(passed)).toEqual(new Set([400]));
    // At least the limit before the first refusal (more only if a 10 s window ended during the burst).
    expect(passed.length).toBeGreaterThanOrEqual(1000);

    const limited = await call("POST", "/v1/events", { key: noisy.apiKey, body: { type: "contact.created", data: {} } });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("10");
    expect(limited.json).toEqual({ error: { code: "rate_limited", message: expect.stringContaining("retry in 10 s") } });
    const batch = await call("POST", "/v1/events/batch", { key: noisy.apiKey, body: { events: [{ type: "contact.created", data: {} }] } });
    expect(batch.status).toBe(429);
    expect(batch.headers.get("retry-after")).toBe("10");
    // A refused request is queued nowhere, valid or not, and gets the 429 rather than its validation error.
    const hook = await createWebhook(noisy.apiKey, { url: endpoint().url, events: ["contact.created"] });
    const refused = await call("POST", "/v1/events/batch", {
      key: noisy.apiKey,
      body: { events: [{ type: "contact.created", data: {}, id: "over-the-limit" }] },
    });
    expect(refused.status).toBe(429);
    expect((await call("POST", "/v1/events", { key: noisy.apiKey, body: { type: "no.such.type", data: {} } })).status).toBe(429);
    const control = await call("POST", "/v1/events", {
      key: quiet.apiKey,
      body: { type: "contact.created", data: {}, id: "over-the-limit" },
    });
    expect(control.status).toBe(202);
    // The id the refused event would have had (ids with a key are derived from workspace and key).
    const wouldBe = await eventIdFor(noisy.id, "over-the-limit");
    await new Promise((r) => setTimeout(r, 1500));
    expect((await call("GET", `/v1/webhooks/${hook.id}/deliveries/${wouldBe}`, { key: noisy.apiKey })).status).toBe(404);
    // The limit is the workspace's: the rest of its API, and other workspaces, still answer.
    expect((await call("GET", "/v1/webhooks", { key: noisy.apiKey })).status).toBe(200);
    expect((await call("POST", "/v1/events", { key: quiet.apiKey, body: { type: "contact.created", data: {} } })).status).toBe(202);
  });

  it("counts batched events too: 10,000 in 10 s (INGEST_EVENTS_LIMITER) stop a workspace long before its request limit", async () => {
    const [bulk, quiet] = [await createWorkspace("bulk"), await createWorkspace("quiet")];
    // Batches of 100 events whose data nests too deep: counted, then refused (400) without queueing anything.
    const tooDeep = { events: Array.from({ length: 100 }, () => ({ type: "contact.created", data: nested(70) })) };
    const statuses = await untilLimited(() => call("POST", "/v1/events/batch", { key: bulk.apiKey, body: tooDeep }), 400, 10);
    const passed = statuses.filter((s) => s !== 429);
    expect(statuses).toContain(429);
    expect(new Set(passed)).toEqual(new Set([400]));
    // 100 batches of 100 events (1,000 units of 10) before the first refusal, far under INGEST_LIMITER's 1,000 requests.
    expect(passed.length).toBeGreaterThanOrEqual(100);
    expect(passed.length).toBeLessThan(1000);
    const limited = await call("POST", "/v1/events/batch", { key: bulk.apiKey, body: { events: [{ type: "contact.created", data: {} }] } });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("10");
    expect(limited.json.error.message).toContain("INGEST_EVENTS_LIMITER");
    const other = await call("POST", "/v1/events/batch", { key: quiet.apiKey, body: { events: [{ type: "contact.created", data: {} }] } });
    expect(other.status).toBe(202);
  });

  it("answers a readable 429 page with Retry-After after 10 sign-in attempts from one address in 60 s, even with the right key", async () => {
    const ws = await createWorkspace();
    const address = `198.51.100.${Math.floor(Math.random() * 250)}`;
    const statuses = await untilLimited(() => signIn(address, "whk_wrong"), 40, 1);
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.slice(0, -1).every((s) => s === 401)).toBe(true);
    expect(statuses.length - 1).toBeGreaterThanOrEqual(10);

    const limited = await signIn(address, ws.apiKey);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("60");
    expect(limited.headers.get("content-type")).toMatch(/^text\/html/);
    expect(limited.headers.getSetCookie()).toEqual([]);
    const html = await limited.text();
    expect(html).toContain("Too many sign-in attempts");
    expect(html).toContain("Wait 60 seconds");

    // Another address signs in with the same key.
    expect((await signIn("198.51.100.251", ws.apiKey)).status).toBe(303);
  });
});
