// Three projects: the suite inside workerd with the real bindings of wrangler.toml (local D1, Queue, Durable Objects),
// the settings pages in a real browser (Node: Chromium through playwright-core, against `wrangler dev`), and the
// documentation's links (Node).
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { readFileSync } from "node:fs";
import { defineConfig } from "vitest/config";
import { unstable_readConfig } from "wrangler";

export default defineConfig(async () => ({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            remoteBindings: false,
            miniflare: {
              bindings: {
                TEST_MIGRATIONS: await readD1Migrations("migrations"),
                ADMIN_TOKEN: "test-admin-token",
                SESSION_SECRET: "test-session-secret",
                ALLOW_PRIVATE_URLS: "true",
                DEV_SEED_SQL: readFileSync("scripts/dev-seed.sql", "utf8"),
                // wrangler.toml's own [vars], before the overrides below, for the test that checks the defaults.
                WRANGLER_VARS: JSON.stringify(unstable_readConfig({ config: "wrangler.toml" }).vars),
                WRANGLER_RATELIMITS: JSON.stringify(unstable_readConfig({ config: "wrangler.toml" }).ratelimits),
                // A shrunk timeout keeps the hanging-endpoint tests short; the retry schedule stays 30/60/90
                // and is driven through the lane's alarm instead of waited for.
                DELIVERY_TIMEOUT_MS: "1000",
              },
            },
          }),
        ],
        test: {
          name: "workers",
          include: ["test/**/*.test.ts"],
          exclude: ["test/browser/**", "test/docs/**"],
          setupFiles: ["./test/support/apply-migrations.ts"],
          globalSetup: ["./test/support/node/global-setup.ts"],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "browser",
          environment: "node",
          include: ["test/browser/**/*.test.ts"],
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
