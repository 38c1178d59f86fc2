import { describe, expect, it } from "vitest";
import { call, createWorkspace } from "./helpers";

describe("smoke", () => {
  it("creates a workspace", async () => {
    const ws = await createWorkspace();
    expect(ws.apiKey).toMatch(/^whk_/);
    const res = await call("GET", "/v1/webhooks", { key: ws.apiKey });
    expect(res.status).toBe(200);
  });
});
