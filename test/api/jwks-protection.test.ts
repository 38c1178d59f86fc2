// The public JWKS routes cost D1 reads only on a cache miss: answers come from caches.default (keyed by path, counted
// here as the D1 statements the Worker prepares), a change of keys drops the cached set, a set is never served past
// the end of its rotation grace, and misses are limited per client address by JWKS_LIMITER (429 with Retry-After).
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { call, createWebhook, createWorkspace } from "../support/helpers";

/** JWKS_LIMITER in wrangler.toml: misses per client address per 60 s (test/api/rate-limits.test.ts checks it). */
const JWKS_LIMIT = 60;

/** env with a D1 binding that counts the statements the Worker prepares: each is one D1 query. */
function countingEnv() {
  const counter = { queries: 0 };
  const db = env.DB;
  const DB = new Proxy(db, {
    get(target, prop) {
      if (prop === "prepare")
        return (sql: string) => {
          counter.queries++;
          return target.prepare(sql);
        };
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { env: { ...env, DB } as Env, counter };
}

/** A GET to the Worker from `address`, waiting for what it does after answering (the cache write). */
async function get(e: Env, path: string, address: string, headers: Record<string, string> = {}) {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(`http://edge.test${path}`, { headers: { "cf-connecting-ip": address, ...headers } }), e, ctx);
  const text = await res.text();
  await waitOnExecutionContext(ctx);
  return { status: res.status, headers: res.headers, text, json: text ? JSON.parse(text) : undefined };
}

const address = () => `198.51.100.${Math.floor(Math.random() * 250) + 1}-${crypto.randomUUID().slice(0, 8)}`;

afterEach(() => {
  vi.useRealTimers();
});

describe("public JWKS: cached", () => {
  it.each([
    ["a webhook's", async () => `/v1/webhooks/${(await createWebhook((await createWorkspace()).apiKey)).id}/jwks.json`],
    [
      "a workspace's alerts",
      async () => {
        const ws = await createWorkspace();
        await call("PATCH", "/v1/workspace", { key: ws.apiKey, body: { alertUrl: "https://ops.example.com/alerts" } });
        return `/v1/workspaces/${ws.id}/alerts/jwks.json`;
      },
    ],
  ])("reads D1 once for %s set, then answers 50 requests from the cache with the same body and etag", async (_, pathOf) => {
    const path = await pathOf();
    const { env: e, counter } = countingEnv();
    const from = address();
    const first = await get(e, path, from);
    expect(first.status).toBe(200);
    expect(counter.queries).toBe(1);
    const etag = first.headers.get("etag");
    for (let i = 0; i < 50; i++) {
      // A query string does not make a miss: one cache entry per path.
      const again = await get(e, i % 2 ? path : `${path}?nonce=${i}`, from);
      expect(again.status).toBe(200);
      expect(again.text).toBe(first.text);
      expect(again.headers.get("etag")).toBe(etag);
      expect(again.headers.get("cache-control")).toBe("public, max-age=300");
      expect(again.headers.get("access-control-allow-origin")).toBe("*");
      expect([...again.headers.keys()].filter((h) => h.startsWith("x-jwks"))).toEqual([]);
    }
    // If-None-Match from the cache too.
    const notModified = await get(e, path, from, { "if-none-match": etag! });
    expect(notModified.status).toBe(304);
    expect(counter.queries).toBe(1);
  });

  it("caches an unknown id's 404 (standard error shape) briefly: the same id reads D1 once", async () => {
    const { env: e, counter } = countingEnv();
    const from = address();
    const path = `/v1/webhooks/wh_${crypto.randomUUID()}/jwks.json`;
    for (let i = 0; i < 10; i++) {
      const res = await get(e, path, from);
      expect(res.status).toBe(404);
      expect(res.json).toEqual({ error: { code: "not_found", message: expect.stringContaining("no webhook") } });
      expect(res.headers.get("cache-control")).toBe("public, max-age=60");
    }
    expect(counter.queries).toBe(1);
  });

  it("drops the cached set when the keys change (rotate-secret, rotate-alert-secret, delete), and never serves one past its grace", async () => {
    const ws = await createWorkspace();
    const hook = await createWebhook(ws.apiKey);
    await call("PATCH", "/v1/workspace", { key: ws.apiKey, body: { alertUrl: "https://ops.example.com/alerts" } });
    const { env: e, counter } = countingEnv();
    const from = address();
    const paths = { hook: `/v1/webhooks/${hook.id}/jwks.json`, alerts: `/v1/workspaces/${ws.id}/alerts/jwks.json` };
    for (const path of Object.values(paths)) expect((await get(e, path, from)).json.keys).toHaveLength(1);
    expect(counter.queries).toBe(2);

    expect((await call("POST", `/v1/webhooks/${hook.id}/rotate-secret`, { key: ws.apiKey })).status).toBe(200);
    const rotated = await call("POST", "/v1/workspace/rotate-alert-secret", { key: ws.apiKey });
    expect(rotated.status).toBe(200);
    for (const path of Object.values(paths)) expect((await get(e, path, from)).json.keys).toHaveLength(2);
    expect(counter.queries).toBe(4);
    // Cached again: no more reads while the grace lasts.
    for (const path of Object.values(paths)) expect((await get(e, path, from)).json.keys).toHaveLength(2);
    expect(counter.queries).toBe(4);

    // The moment the grace ends the cached two-key sets are misses: read again, one key each.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.parse(rotated.json.previousSecretExpiresAt) + 1);
    for (const path of Object.values(paths)) expect((await get(e, path, from)).json.keys).toHaveLength(1);
    expect(counter.queries).toBe(6);
    vi.useRealTimers();

    expect((await call("DELETE", `/v1/webhooks/${hook.id}`, { key: ws.apiKey })).status).toBe(204);
    expect((await get(e, paths.hook, from)).status).toBe(404);
  });
});

describe("public JWKS: rate limited per client address", () => {
  it(`answers 429 rate_limited with Retry-After once an address misses the cache more than ${JWKS_LIMIT} times in 60 s; cached sets and other addresses still answer`, async () => {
    const ws = await createWorkspace();
    const known = `/v1/workspaces/${ws.id}/alerts/jwks.json`;
    await call("PATCH", "/v1/workspace", { key: ws.apiKey, body: { alertUrl: "https://ops.example.com/alerts" } });
    const { env: e, counter } = countingEnv();
    const noisy = address();
    expect((await get(e, known, noisy)).status).toBe(200);

    // Random ids: each one a miss, each one a D1 read, until the address is over the limit.
    const statuses: number[] = [];
    while (statuses.length < JWKS_LIMIT * 3 && !statuses.includes(429)) {
      const path =
        statuses.length % 2
          ? `/v1/webhooks/wh_${crypto.randomUUID()}/jwks.json`
          : `/v1/workspaces/ws_${crypto.randomUUID()}/alerts/jwks.json`;
      statuses.push((await get(e, path, noisy)).status);
    }
    const passed = statuses.filter((s) => s !== 429);
    expect(statuses.at(-1)).toBe(429);
    expect(new Set(passed)).toEqual(new Set([404]));
    // The first request counted too: the limit is reached at the 60th miss (more only if a 60 s window ended meanwhile).
    expect(passed.length + 1).toBeGreaterThanOrEqual(JWKS_LIMIT);
    const readsWhenLimited = counter.queries;
    expect(readsWhenLimited).toBe(passed.length + 1);

    const limited = await get(e, `/v1/webhooks/wh_${crypto.randomUUID()}/jwks.json`, noisy);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("60");
    expect(limited.headers.get("cache-control")).toBe("no-store");
    expect(limited.json).toEqual({ error: { code: "rate_limited", message: expect.stringContaining("retry in 60 s") } });
    // Refused requests read nothing.
    expect(counter.queries).toBe(readsWhenLimited);

    // The set it already fetched is still answered from the cache, with no read; another address is not limited.
    expect((await get(e, known, noisy)).status).toBe(200);
    expect(counter.queries).toBe(readsWhenLimited);
    expect((await get(e, `/v1/webhooks/wh_${crypto.randomUUID()}/jwks.json`, address())).status).toBe(404);
    expect(counter.queries).toBe(readsWhenLimited + 1);
  });

  it("documents 429 on both JWKS routes in /openapi.json", async () => {
    const { json } = await call("GET", "/openapi.json");
    for (const path of ["/v1/webhooks/{id}/jwks.json", "/v1/workspaces/{workspaceId}/alerts/jwks.json"]) {
      expect(Object.keys(json.paths[path].get.responses)).toContain("429");
      expect(json.paths[path].get.description).toContain("JWKS_LIMITER");
    }
  });
});
