// Four projects: the suite inside workerd with the real bindings of wrangler.toml (local D1, Queue, Durable Objects),
// the same with REQUIRE_ENDPOINT_VERIFICATION on for the files that need it, the settings pages in a real browser
// (Node: Chromium through playwright-core, against `wrangler dev`), and the documentation's links (Node).
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { readFileSync } from "node:fs";
import { defineConfig } from "vitest/config";
import { unstable_readConfig } from "wrangler";
import { TEST_ENCRYPTION_KEYS } from "./test/support/encryption-key.mjs";

/** The suite inside workerd: `bindings` on top of the common test ones (one file set runs with a var changed). */
const workersProject = async (name: string, files: { include: string[]; exclude: string[] }, bindings: Record<string, string> = {}) => ({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      remoteBindings: false,
      miniflare: {
        bindings: {
          TEST_MIGRATIONS: await readD1Migrations("migrations"),
          ADMIN_TOKEN: "test-admin-token-at-least-32-characters",
          SESSION_SECRET: "test-session-secret",
          // A fixed test key (test/support/encryption-key.mjs): every stored secret is sealed with it.
          ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS,
          ALLOW_PRIVATE_URLS: "true",
          DEV_SEED_SQL: readFileSync("scripts/dev-seed.sql", "utf8"),
          // wrangler.toml's own [vars], before the overrides below, for the test that checks the defaults.
          WRANGLER_VARS: JSON.stringify(unstable_readConfig({ config: "wrangler.toml" }).vars),
          WRANGLER_RATELIMITS: JSON.stringify(unstable_readConfig({ config: "wrangler.toml" }).ratelimits),
          // A shrunk timeout keeps the hanging-endpoint tests short; the retry schedule stays 30/60/90
          // and is driven through the lane's alarm instead of waited for.
          DELIVERY_TIMEOUT_MS: "1000",
          ...bindings,
        },
      },
    }),
  ],
  test: {
    name,
    ...files,
    setupFiles: ["./test/support/apply-migrations.ts"],
    globalSetup: ["./test/support/node/global-setup.ts"],
    testTimeout: 30_000,
  },
});

/** Files that run with REQUIRE_ENDPOINT_VERIFICATION=true (their own project: the Worker reads it at start). */
const VERIFYING = ["test/lane/endpoint-verification.test.ts", "test/lane/alert-url-verification.test.ts"];

export default defineConfig(async () => ({
  test: {
    projects: [
      await workersProject("workers", { include: ["test/**/*.test.ts"], exclude: ["test/e2e/**", "test/docs/**", ...VERIFYING] }),
      await workersProject("workers-verifying", { include: VERIFYING, exclude: [] }, { REQUIRE_ENDPOINT_VERIFICATION: "true" }),
      {
        test: {
          name: "browser",
          environment: "node",
          include: ["test/e2e/**/*.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        // The documentation's own checks (dead links and anchors), in Node, where the files can be read.
        test: { name: "docs", environment: "node", include: ["test/docs/**/*.test.ts"] },
      },
    ],
  },
}));
