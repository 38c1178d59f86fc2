// The ready-made local workspace: the key the README documents works against the seeded database.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call } from "../support/helpers";

const DEV_API_KEY = "whk_dev_local_key_do_not_use_in_production";

describe("local development seed", () => {
  it("creates the dev workspace whose documented key authenticates", async () => {
    await env.DB.exec(env.DEV_SEED_SQL.replace(/^--.*$/gm, "").replace(/\n(?!INSERT)/g, " "));
    const res = await call("GET", "/v1/workspace", { key: DEV_API_KEY });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ id: "ws_dev", name: "Local development", notificationEmail: "dev@example.com" });
  });
});
