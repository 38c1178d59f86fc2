// The operator's admin API: workspaces and their keys, behind ADMIN_TOKEN.
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, call, createWorkspace } from "../support/helpers";

describe("admin API", () => {
  it("creates a workspace with a first key that works at once", async () => {
    const res = await call("POST", "/v1/admin/workspaces", {
      key: ADMIN_TOKEN,
      body: { name: "Acme", notificationEmail: "ops@acme.example" },
    });
    expect(res.status).toBe(201);
    expect(res.json).toEqual({
      id: expect.stringMatching(/^ws_/),
      name: "Acme",
      notificationEmail: "ops@acme.example",
      notificationEmailStatus: "pending",
      dataLocation: null,
      apiKey: expect.stringMatching(/^whk_[A-Za-z0-9_-]{32}$/),
    });
    expect((await call("GET", "/v1/webhooks", { key: res.json.apiKey })).status).toBe(200);
  });

  it("stores keys only as hashes", async () => {
    const { env } = await import("cloudflare:workers");
    const ws = await createWorkspace();
    const rows = await env.DB.prepare("SELECT * FROM api_keys WHERE workspace_id = ?").bind(ws.id).all();
    expect(rows.results).toHaveLength(1);
    expect(JSON.stringify(rows.results)).not.toContain(ws.apiKey);
    expect(rows.results[0]).toMatchObject({ key_hash: expect.stringMatching(/^[0-9a-f]{64}$/), prefix: ws.apiKey.slice(0, 12) });
  });

  it("issues more keys, lists them, and revokes one without touching the others", async () => {
    const ws = await createWorkspace();
    const issued = await call("POST", `/v1/admin/workspaces/${ws.id}/keys`, { key: ADMIN_TOKEN });
    expect(issued.status).toBe(201);
    expect(issued.json).toEqual({
      id: expect.stringMatching(/^key_/),
      apiKey: expect.stringMatching(/^whk_/),
      prefix: issued.json.apiKey.slice(0, 12),
    });

    const list = await call("GET", `/v1/admin/workspaces/${ws.id}/keys`, { key: ADMIN_TOKEN });
    expect(list.json.data).toHaveLength(2);
    expect(JSON.stringify(list.json)).not.toContain(issued.json.apiKey);

    const revoked = await call("DELETE", `/v1/admin/workspaces/${ws.id}/keys/${issued.json.id}`, { key: ADMIN_TOKEN });
    expect(revoked.status).toBe(204);
    expect((await call("GET", "/v1/webhooks", { key: issued.json.apiKey })).status).toBe(401);
    expect((await call("GET", "/v1/webhooks", { key: ws.apiKey })).status).toBe(200);
    const after = await call("GET", `/v1/admin/workspaces/${ws.id}/keys`, { key: ADMIN_TOKEN });
    expect(after.json.data.find((k: { id: string }) => k.id === issued.json.id).revokedAt).not.toBeNull();
  });

  it("answers 404 for keys of unknown workspaces or of another workspace", async () => {
    const a = await createWorkspace("A");
    const b = await createWorkspace("B");
    const key = await call("POST", `/v1/admin/workspaces/${a.id}/keys`, { key: ADMIN_TOKEN });
    expect((await call("POST", "/v1/admin/workspaces/ws_nope/keys", { key: ADMIN_TOKEN })).status).toBe(404);
    const wrong = await call("DELETE", `/v1/admin/workspaces/${b.id}/keys/${key.json.id}`, { key: ADMIN_TOKEN });
    expect(wrong.status).toBe(404);
    expect((await call("GET", "/v1/webhooks", { key: key.json.apiKey })).status).toBe(200);
  });

  it("validates the workspace name and email", async () => {
    const noName = await call("POST", "/v1/admin/workspaces", { key: ADMIN_TOKEN, body: { name: "  " } });
    expect(noName.status).toBe(400);
    expect(noName.json.error).toMatchObject({ code: "validation_failed", param: "name" });
    const badEmail = await call("POST", "/v1/admin/workspaces", { key: ADMIN_TOKEN, body: { name: "x", notificationEmail: "nope" } });
    expect(badEmail.json.error.code).toBe("invalid_email");
  });
});
