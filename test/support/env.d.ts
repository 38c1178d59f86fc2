// Bindings the tests add on top of the Worker's own (worker-configuration.d.ts, src/env.ts).
import type { D1Migration } from "cloudflare:test";

declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[];
      DEV_SEED_SQL: string;
      WRANGLER_VARS: string;
      WRANGLER_RATELIMITS: string;
    }
  }
}
