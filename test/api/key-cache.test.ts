// Authentication without a D1 query per request: the isolate's key cache and its bounds — a revocation here
// applies at once, one made elsewhere within the TTL, and a bad key reaches D1 at most once per negative TTL.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { cachedKey, cacheKey, KEY_CACHE_SIZE, KEY_CACHE_TTL_MS, NEGATIVE_TTL_MS } from "../../src/api/key-cache";
import type { Env } from "../../src/env";
import worker from "../../src/index";
import { ADMIN_TOKEN, call, createWorkspace } from "../support/helpers";

afterEach(() => {
  vi.useRealTimers();
});

/** The Worker with a D1 binding that records every statement it is given. */
function countingWorker() {
  const statements: string[] = [];
  const db = new Proxy(env.DB, {
    get(target, prop) {
      if (prop === "prepare") {
        return (sql: string) => {
          statements.push(sql);
          return target.prepare(sql);
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const counted = Object.create(env, { DB: { value: db } }) as Env;
  return {
    keyLookups: () => statements.filter((sql) => /from "api_keys"/.test(sql) && /^select/i.test(sql)).length,
    async get(path: string, key: string) {
      const ctx = createExecutionContext();
      const res = await worker.fetch(new Request(`http://edge.test${path}`, { headers: { authorization: `Bearer ${key}` } }), counted, ctx);
      await waitOnExecutionContext(ctx);
      return res.status;
    },
  };
}

const revokeInD1 = (keyId: string) => env.DB.prepare("UPDATE api_keys SET revoked_at = ? WHERE id = ?").bind(Date.now(), keyId).run();

async function firstKeyId(workspaceId: string): Promise<string> {
  return (await call("GET", `/v1/admin/workspaces/${workspaceId}/keys`, { key: ADMIN_TOKEN })).json.data[0].id;
}

describe("API key cache", () => {
  it("authenticates repeated requests with one D1 lookup", async () => {
    const ws = await createWorkspace();
    const w = countingWorker();
    for (let i = 0; i < 20; i++) expect(await w.get("/v1/webhooks", ws.apiKey)).toBe(200);
    expect(w.keyLookups()).toBe(1);
  });

  it("refuses a key revoked in this isolate at once", async () => {
    const ws = await createWorkspace();
    expect((await call("GET", "/v1/webhooks", { key: ws.apiKey })).status).toBe(200);
    await call("DELETE", `/v1/admin/workspaces/${ws.id}/keys/${await firstKeyId(ws.id)}`, { key: ADMIN_TOKEN });
    expect((await call("GET", "/v1/webhooks", { key: ws.apiKey })).status).toBe(401);
  });

  it("stops a key revoked by another isolate within the TTL, not later", async () => {
    const ws = await createWorkspace();
    expect((await call("GET", "/v1/webhooks", { key: ws.apiKey })).status).toBe(200);
    const cachedAt = Date.now();
    await revokeInD1(await firstKeyId(ws.id));
    // This isolate still holds the key as valid...
    expect((await call("GET", "/v1/webhooks", { key: ws.apiKey })).status).toBe(200);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(cachedAt + KEY_CACHE_TTL_MS - 1_000);
    expect((await call("GET", "/v1/webhooks", { key: ws.apiKey })).status).toBe(200);
    // ... until its entry expires: then D1 is asked again and says revoked.
    vi.setSystemTime(cachedAt + KEY_CACHE_TTL_MS + 1_000);
    expect((await call("GET", "/v1/webhooks", { key: ws.apiKey })).status).toBe(401);
  });

  it("lets a flood of one bad key reach D1 once per negative TTL", async () => {
    const w = countingWorker();
    const bad = `whk_${crypto.randomUUID().replaceAll("-", "")}`;
    const started = Date.now();
    for (let i = 0; i < 50; i++) expect(await w.get("/v1/webhooks", bad)).toBe(401);
    expect(w.keyLookups()).toBe(1);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(started + NEGATIVE_TTL_MS + 1_000);
    for (let i = 0; i < 50; i++) expect(await w.get("/v1/webhooks", bad)).toBe(401);
    expect(w.keyLookups()).toBe(2);
  });

  it("serves a workspace's change made here from D1, not from the cache", async () => {
    const ws = await createWorkspace("Fresh", "old@fresh.example");
    expect((await call("GET", "/v1/workspace", { key: ws.apiKey })).json.notificationEmail).toBe("old@fresh.example");
    await call("PATCH", "/v1/workspace", { key: ws.apiKey, body: { notificationEmail: "new@fresh.example" } });
    expect((await call("GET", "/v1/workspace", { key: ws.apiKey })).json.notificationEmail).toBe("new@fresh.example");
  });

  it("holds at most KEY_CACHE_SIZE keys, dropping the oldest first", () => {
    const now = Date.now();
    for (let i = 0; i <= KEY_CACHE_SIZE; i++) cacheKey(`bound-test-${i}`, undefined, now);
    expect(cachedKey("bound-test-0", now)).toBeUndefined();
    expect(cachedKey("bound-test-1", now)).toEqual({ found: undefined });
    expect(cachedKey(`bound-test-${KEY_CACHE_SIZE}`, now)).toEqual({ found: undefined });
    expect(cachedKey("bound-test-1", now + NEGATIVE_TTL_MS)).toBeUndefined();
  });
});
