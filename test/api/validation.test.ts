// Every validation rule of the settings API answers 400 with its own code, and saves nothing.
import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { call, createWebhook, createWorkspace } from "../support/helpers";

async function countWebhooks(workspaceId: string) {
  const row = await env.DB.prepare("SELECT count(*) AS n FROM webhooks WHERE workspace_id = ?").bind(workspaceId).first<{ n: number }>();
  return row!.n;
}

const valid = { url: "https://receiver.example.com/hooks", events: ["message.received"] };

describe("webhook validation", () => {
  it.each([
    ["a relative URL", { url: "/hooks" }, "invalid_url", "url"],
    ["not a URL", { url: "hello world" }, "invalid_url", "url"],
    ["an ftp URL", { url: "ftp://files.example.com/x" }, "url_scheme_not_allowed", "url"],
    ["credentials in the URL", { url: "https://user:pw@example.com/hooks" }, "url_credentials_not_allowed", "url"],
    ["a URL over 2 KiB", { url: `https://example.com/${"a".repeat(2048)}` }, "url_too_long", "url"],
    ["an unknown event type", { events: ["message.received", "message.deleted"] }, "unknown_event_type", "events[1]"],
    ["an empty events list", { events: [] }, "events_empty", "events"],
    ["a description over 500 characters", { description: "x".repeat(501) }, "description_too_long", "description"],
    ["a missing url", { url: undefined }, "validation_failed", "url"],
    ["events that are not a list", { events: "message.received" }, "validation_failed", "events"],
    ["an unknown field", { secret: "whsec_mine" }, "unknown_field", "secret"],
  ])("refuses %s", async (_what, change, code, param) => {
    const ws = await createWorkspace();
    const res = await call("POST", "/v1/webhooks", { key: ws.apiKey, body: { ...valid, ...change } });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code, param, message: expect.any(String) });
    expect(await countWebhooks(ws.id)).toBe(0);
  });

  it("applies the same rules to PATCH and leaves the webhook unchanged", async () => {
    const ws = await createWorkspace();
    const hook = await createWebhook(ws.apiKey);
    for (const [body, code] of [
      [{ url: "not a url" }, "invalid_url"],
      [{ events: [] }, "events_empty"],
      [{ events: ["nope"] }, "unknown_event_type"],
      [{ description: "y".repeat(501) }, "description_too_long"],
      [{ enabled: false }, "unknown_field"],
    ] as const) {
      const res = await call("PATCH", `/v1/webhooks/${hook.id}`, { key: ws.apiKey, body });
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe(code);
    }
    const { secret: _s, ...unchanged } = hook;
    expect((await call("GET", `/v1/webhooks/${hook.id}`, { key: ws.apiKey })).json).toEqual(unchanged);
  });

  it("accepts a 500-character description exactly", async () => {
    const ws = await createWorkspace();
    const res = await call("POST", "/v1/webhooks", { key: ws.apiKey, body: { ...valid, description: "z".repeat(500) } });
    expect(res.status).toBe(201);
  });
});

describe("private and plain-http URLs", () => {
  const privateUrls = [
    "https://127.0.0.1/hooks",
    "https://127.8.9.10/hooks",
    "https://10.1.2.3/hooks",
    "https://172.16.0.1/hooks",
    "https://172.31.255.255/hooks",
    "https://192.168.1.20/hooks",
    "https://169.254.169.254/latest/meta-data",
    "https://[::1]/hooks",
    "https://[fc00::1]/hooks",
    "https://[fd12:3456::1]/hooks",
    "https://[::ffff:127.0.0.1]/hooks",
    "https://localhost/hooks",
    "https://api.localhost/hooks",
    "https://2130706433/hooks",
  ];

  async function createWith(allowPrivate: string, url: string) {
    const ws = await createWorkspace();
    const ctx = createExecutionContext();
    const res = await worker.fetch(
      new Request("http://edge.test/v1/webhooks", {
        method: "POST",
        headers: { authorization: `Bearer ${ws.apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({ url, events: ["message.received"] }),
      }),
      { ...env, ALLOW_PRIVATE_URLS: allowPrivate },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    return { status: res.status, json: (await res.json()) as any, count: await countWebhooks(ws.id) };
  }

  it.each(privateUrls)("refuses %s when ALLOW_PRIVATE_URLS is false", async (url) => {
    const res = await createWith("false", url);
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe("private_url_not_allowed");
    expect(res.count).toBe(0);
  });

  it("refuses plain http when ALLOW_PRIVATE_URLS is false", async () => {
    const res = await createWith("false", "http://receiver.example.com/hooks");
    expect(res.json.error.code).toBe("url_scheme_not_allowed");
  });

  it("accepts a public https URL when ALLOW_PRIVATE_URLS is false", async () => {
    expect((await createWith("false", "https://hooks.example.com/in")).status).toBe(201);
  });

  it.each(["http://127.0.0.1:8080/hooks", "https://10.0.0.5/hooks", "http://localhost:3000/x", "http://[::1]:9000/"])(
    "accepts %s when ALLOW_PRIVATE_URLS is true (local development)",
    async (url) => {
      const res = await createWith("true", url);
      expect(res.status).toBe(201);
      expect(res.count).toBe(1);
    },
  );
});
