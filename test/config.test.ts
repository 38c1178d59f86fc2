// Configuration: wrangler.toml's [vars] and the code's defaults agree, and bad values are refused.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ConfigError, DEFAULT_CONFIG, readConfig } from "../src/config";

describe("configuration", () => {
  it("reads wrangler.toml's [vars] as the documented defaults", () => {
    // The test runner sets ALLOW_PRIVATE_URLS=true, as local development does.
    expect(readConfig({ ...env, ALLOW_PRIVATE_URLS: "false" })).toEqual(DEFAULT_CONFIG);
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
  ])("refuses %s=%s with a message naming the variable", (name, value) => {
    expect(() => readConfig({ ...env, [name]: value })).toThrow(ConfigError);
    expect(() => readConfig({ ...env, [name]: value })).toThrow(name);
  });
});
