// Authentication without a D1 query per request: the isolate's key cache and its bounds — a revocation here
// applies at once, one made elsewhere within the TTL, and a bad key reaches D1 at most once per negative TTL.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  type ActiveKey,
  cachedKey,
  cacheKey,
  KEY_CACHE_SIZE,
  KEY_CACHE_TTL_MS,
  MISS_CACHE_SIZE,
  NEGATIVE_TTL_MS,
} from "../../src/api/key-cache";
import { countingWorker } from "../support/counting";
import { ADMIN_TOKEN, call, createWorkspace } from "../support/helpers";

afterEach(() => {
  vi.useRealTimers();
});

/** The Worker counting its D1 lookups of API keys. */
function countingKeyLookups() {
  const w = countingWorker();
  return {
    keyLookups: () => w.statements.filter((sql) => /from "api_keys"/.test(sql) && /^select/i.test(sql)).length,
    get: async (path: string, key: string) => (await w.fetch(path, { headers: { authorization: `Bearer ${key}` } })).status,
  };
}

const revokeInD1 = (keyId: string) => env.DB.prepare("UPDATE api_keys SET revoked_at = ? WHERE id = ?").bind(Date.now(), keyId).run();

async function firstKeyId(workspaceId: string): Promise<string> {
  return (await call("GET", `/v1/admin/workspaces/${workspaceId}/keys`, { key: ADMIN_TOKEN })).json.data[0].id;
}

describe("API key cache", () => {
  it("authenticates repeated requests with one D1 lookup", async () => {
    const ws = await createWorkspace();
    const w = countingKeyLookups();
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
    const w = countingKeyLookups();
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

  it("holds at most KEY_CACHE_SIZE known keys and MISS_CACHE_SIZE misses apart, each dropping its oldest first: misses never push a known key out", () => {
    const now = Date.now();
    const known = (id: string) => ({ key: { id }, workspace: { id: "ws_bound" } }) as unknown as ActiveKey;
    cacheKey("bound-known", known("key_bound"), now);
    for (let i = 0; i <= MISS_CACHE_SIZE; i++) cacheKey(`bound-miss-${i}`, undefined, now);
    expect(cachedKey("bound-known", now)?.found?.key.id).toBe("key_bound");
    expect(cachedKey("bound-miss-0", now)).toBeUndefined();
    expect(cachedKey("bound-miss-1", now)).toEqual({ found: undefined });
    expect(cachedKey(`bound-miss-${MISS_CACHE_SIZE}`, now)).toEqual({ found: undefined });
    expect(cachedKey("bound-miss-1", now + NEGATIVE_TTL_MS)).toBeUndefined();

    for (let i = 0; i < KEY_CACHE_SIZE; i++) cacheKey(`bound-known-${i}`, known(`key_${i}`), now);
    expect(cachedKey("bound-known", now)).toBeUndefined();
    expect(cachedKey("bound-known-0", now)?.found?.key.id).toBe("key_0");
    expect(cachedKey("bound-known-0", now + KEY_CACHE_TTL_MS)).toBeUndefined();
  });
});
