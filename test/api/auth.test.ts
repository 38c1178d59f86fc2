// Authentication and workspace isolation: a key sees only its own workspace.
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, call, createWebhook, createWorkspace } from "../support/helpers";

describe("authentication", () => {
  it.each([
    ["no Authorization header", undefined],
    ["a malformed header", "Token abc"],
    ["an unknown key", "Bearer whk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"],
    ["the admin token instead of a key", `Bearer ${ADMIN_TOKEN}`],
  ])("answers 401 with a JSON error for %s", async (_what, header) => {
    const res = await call("GET", "/v1/webhooks", { headers: header ? { authorization: header } : {} });
    expect(res.status).toBe(401);
    expect(res.json.error.code).toBe("unauthorized");
    expect(res.json.error.message).toEqual(expect.any(String));
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
  });

  it("answers 401 for a revoked key", async () => {
    const ws = await createWorkspace();
    const keys = await call("GET", `/v1/admin/workspaces/${ws.id}/keys`, { key: ADMIN_TOKEN });
    await call("DELETE", `/v1/admin/workspaces/${ws.id}/keys/${keys.json.data[0].id}`, { key: ADMIN_TOKEN });
    const res = await call("POST", "/v1/webhooks", { key: ws.apiKey, body: { url: "https://a.example.com", events: ["message.sent"] } });
    expect(res.status).toBe(401);
    expect(res.json.error.message).toMatch(/revoked/);
  });

  it("guards every admin route with ADMIN_TOKEN, not with workspace keys", async () => {
    const ws = await createWorkspace();
    for (const [method, path] of [
      ["POST", "/v1/admin/workspaces"],
      ["POST", `/v1/admin/workspaces/${ws.id}/keys`],
      ["GET", `/v1/admin/workspaces/${ws.id}/keys`],
      ["DELETE", `/v1/admin/workspaces/${ws.id}/keys/key_x`],
    ] as const) {
      const body = method === "POST" ? { name: "x" } : undefined;
      expect((await call(method, path, { body })).status).toBe(401);
      expect((await call(method, path, { key: ws.apiKey, body })).status).toBe(401);
      expect((await call(method, path, { key: "wrong-admin-token", body })).status).toBe(401);
    }
  });

  it("records when a key was last used", async () => {
    const { env } = await import("cloudflare:workers");
    const ws = await createWorkspace();
    const before = Date.now();
    await call("GET", "/v1/webhooks", { key: ws.apiKey });
    await new Promise((r) => setTimeout(r, 50));
    const row = await env.DB.prepare("SELECT last_used_at FROM api_keys WHERE workspace_id = ?")
      .bind(ws.id)
      .first<{ last_used_at: number }>();
    expect(row!.last_used_at).toBeGreaterThanOrEqual(before);
  });
});

describe("workspace isolation", () => {
  it("answers 404 for another workspace's webhook on every route, and changes nothing", async () => {
    const owner = await createWorkspace("Owner");
    const other = await createWorkspace("Other");
    const hook = await createWebhook(owner.apiKey);
    for (const [method, path, body] of [
      ["GET", `/v1/webhooks/${hook.id}`, undefined],
      ["PATCH", `/v1/webhooks/${hook.id}`, { description: "hijacked" }],
      ["POST", `/v1/webhooks/${hook.id}/disable`, undefined],
      ["POST", `/v1/webhooks/${hook.id}/enable`, undefined],
      ["DELETE", `/v1/webhooks/${hook.id}`, undefined],
    ] as const) {
      const res = await call(method, path, { key: other.apiKey, body });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.json.error.code).toBe("not_found");
    }
    expect((await call("GET", "/v1/webhooks", { key: other.apiKey })).json.data).toEqual([]);
    const still = await call("GET", `/v1/webhooks/${hook.id}`, { key: owner.apiKey });
    expect(still.json).toMatchObject({ description: "", enabled: true });
  });
});
