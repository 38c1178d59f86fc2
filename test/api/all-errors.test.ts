// A refused request names every field at fault at once (error.errors), the first being the error itself.
import { describe, expect, it } from "vitest";
import { call, createWorkspace } from "../support/helpers";

describe("every problem at once", () => {
  it("lists one problem per field, the schema's and the URL policy's, in one 400, saving nothing", async () => {
    const ws = await createWorkspace();
    const res = await call("POST", "/v1/webhooks", {
      key: ws.apiKey,
      body: {
        url: "ftp://crm.example.com/x",
        events: [],
        description: "x".repeat(600),
        rateLimitPerSecond: 0,
        headers: { "user-agent": "me" },
      },
    });
    expect(res.status).toBe(400);
    const { error } = res.json;
    expect(error.errors[0]).toEqual({ code: error.code, message: error.message, param: error.param });
    expect(Object.fromEntries(error.errors.map((e: { param: string; code: string }) => [e.param, e.code]))).toEqual({
      events: "events_empty",
      description: "description_too_long",
      rateLimitPerSecond: "invalid_rate_limit",
      "headers.user-agent": "reserved_header",
      url: "url_scheme_not_allowed",
    });
    expect((await call("GET", "/v1/webhooks", { key: ws.apiKey })).json.data).toEqual([]);
  });

  it("has a single problem listed too, and none for errors that are not about input", async () => {
    const ws = await createWorkspace();
    const one = await call("POST", "/v1/webhooks", { key: ws.apiKey, body: { url: "https://crm.example.com/x", events: ["nope"] } });
    expect(one.json.error).toMatchObject({
      code: "unknown_event_type",
      param: "events[0]",
      errors: [{ code: "unknown_event_type", param: "events[0]" }],
    });
    const missing = await call("GET", "/v1/webhooks/wh_missing", { key: ws.apiKey });
    expect(missing.json.error).not.toHaveProperty("errors");
  });
});
