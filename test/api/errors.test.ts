// The error model at the edges: unknown routes, wrong methods, non-JSON, malformed JSON, oversized bodies.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createWorkspace } from "../support/helpers";

function expectErrorShape(json: unknown, code: string) {
  expect(json).toEqual({ error: { code, message: expect.any(String) } });
}

describe("error responses", () => {
  it("answers 404 JSON for an unknown route, with or without a key", async () => {
    const ws = await createWorkspace();
    for (const key of [null, ws.apiKey]) {
      const res = await call("GET", "/v1/nothing-here", { key });
      expect(res.status).toBe(404);
      expect(res.headers.get("content-type")).toMatch(/application\/json/);
      expectErrorShape(res.json, "not_found");
    }
  });

  it("answers 405 with an Allow header for a known path and the wrong method", async () => {
    const ws = await createWorkspace();
    const res = await call("PUT", "/v1/webhooks/wh_x", { key: ws.apiKey, body: {} });
    expect(res.status).toBe(405);
    expectErrorShape(res.json, "method_not_allowed");
    expect(res.headers.get("allow")).toBe("DELETE, GET, HEAD, PATCH");
    const list = await call("DELETE", "/v1/webhooks", { key: ws.apiKey });
    expect(list.status).toBe(405);
    expect(list.headers.get("allow")).toBe("GET, HEAD, POST");
  });

  it("answers 415 for a body that is not JSON, and saves nothing", async () => {
    const ws = await createWorkspace();
    const contentTypes: Record<string, string>[] = [
      { "content-type": "text/plain" },
      { "content-type": "application/x-www-form-urlencoded" },
      {},
    ];
    for (const headers of contentTypes) {
      const res = await call("POST", "/v1/webhooks", { key: ws.apiKey, headers, rawBody: "url=https://a.example.com&events=message.sent" });
      expect(res.status).toBe(415);
      expectErrorShape(res.json, "unsupported_media_type");
    }
    const count = await env.DB.prepare("SELECT count(*) AS n FROM webhooks").first<{ n: number }>();
    expect(count!.n).toBe(0);
  });

  it("answers 400 malformed_json for broken JSON and for an empty JSON body", async () => {
    const ws = await createWorkspace();
    for (const rawBody of ['{"url": "https://a.example.com",', ""]) {
      const res = await call("POST", "/v1/webhooks", { key: ws.apiKey, headers: { "content-type": "application/json" }, rawBody });
      expect(res.status).toBe(400);
      expectErrorShape(res.json, "malformed_json");
    }
  });

  it("answers 400 validation_failed for JSON that is not an object", async () => {
    const ws = await createWorkspace();
    const res = await call("POST", "/v1/webhooks", { key: ws.apiKey, body: ["https://a.example.com"] });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe("validation_failed");
  });

  it("answers 413 for a body over 256 KiB, with or without content-length", async () => {
    const ws = await createWorkspace();
    const big = JSON.stringify({ url: "https://a.example.com", events: ["message.sent"], description: "x".repeat(256 * 1024) });
    const res = await call("POST", "/v1/webhooks", { key: ws.apiKey, headers: { "content-type": "application/json" }, rawBody: big });
    expect(res.status).toBe(413);
    expectErrorShape(res.json, "payload_too_large");

    const stream = new Blob([big]).stream();
    const chunked = await call("POST", "/v1/webhooks", {
      key: ws.apiKey,
      headers: { "content-type": "application/json" },
      rawBody: stream,
    });
    expect(chunked.status).toBe(413);
  });

  it("accepts a POST without a body on routes that take none", async () => {
    const ws = await createWorkspace();
    const hook = await call("POST", "/v1/webhooks", { key: ws.apiKey, body: { url: "https://a.example.com", events: ["message.sent"] } });
    const res = await call("POST", `/v1/webhooks/${hook.json.id}/disable`, { key: ws.apiKey });
    expect(res.status).toBe(200);
  });
});
