// Configuration: wrangler.toml's [vars] and the code's defaults agree, and bad values are refused.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ConfigError, DEFAULT_CONFIG, readConfig } from "../../src/config";

describe("configuration", () => {
  it("reads wrangler.toml's [vars] as the documented defaults", () => {
    const vars = JSON.parse(env.WRANGLER_VARS);
    expect(Object.keys(vars).sort()).toEqual([
      "ALLOW_PRIVATE_URLS",
      "DELIVERY_TIMEOUT_MS",
      "EMAIL_FROM",
      "EVENT_VALIDATION",
      "FAILURE_QUOTA_LIMIT",
      "FAILURE_QUOTA_WINDOW_SECONDS",
      "ORDERING_WINDOW_MS",
      "PORTAL_FRAME_ANCESTORS",
      "PUBLIC_URL",
      "REQUIRE_ENDPOINT_VERIFICATION",
      "RETENTION_DAYS",
      "RETRY_DELAYS_SECONDS",
    ]);
    expect(readConfig({ DB: env.DB, ...vars })).toEqual(DEFAULT_CONFIG);
  });

  it("falls back to the defaults when a variable is unset", () => {
    expect(readConfig({ DB: env.DB } as never)).toEqual(DEFAULT_CONFIG);
  });

  it("accepts a shrunk schedule for black-box tests", () => {
    const config = readConfig({ ...env, RETRY_DELAYS_SECONDS: "1, 2,3", FAILURE_QUOTA_WINDOW_SECONDS: "60", DELIVERY_TIMEOUT_MS: "250" });
    expect(config).toMatchObject({ retryDelaysSeconds: [1, 2, 3], failureQuotaWindowSeconds: 60, deliveryTimeoutMs: 250 });
  });

  it.each([
    ["RETRY_DELAYS_SECONDS", "30,,90"],
    ["RETRY_DELAYS_SECONDS", "thirty"],
    ["DELIVERY_TIMEOUT_MS", "-1"],
    ["FAILURE_QUOTA_LIMIT", "2.5"],
    ["ALLOW_PRIVATE_URLS", "maybe"],
    ["REQUIRE_ENDPOINT_VERIFICATION", "sometimes"],
    ["PUBLIC_URL", "webhooks.example.com"],
    ["PUBLIC_URL", "https://webhooks.example.com/settings"],
    ["PORTAL_FRAME_ANCESTORS", "https://app.example.com 'unsafe-inline'"],
    ["PORTAL_FRAME_ANCESTORS", "https://app.example.com; script-src *"],
    ["EVENT_VALIDATION", "strict"],
  ])("refuses %s=%s with a message naming the variable", (name, value) => {
    expect(() => readConfig({ ...env, [name]: value })).toThrow(ConfigError);
    expect(() => readConfig({ ...env, [name]: value })).toThrow(name);
  });
});
