// Bindings the tests add on top of the Worker's own.
import type { D1Migration } from "cloudflare:test";
import type { Env as WorkerEnv } from "../../src/env";

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {
      TEST_MIGRATIONS: D1Migration[];
      DEV_SEED_SQL: string;
      WRANGLER_VARS: string;
      WRANGLER_RATELIMITS: string;
    }
    interface GlobalProps {
      mainModule: typeof import("../../src/index");
      durableNamespaces: "EndpointLane" | "WorkspaceQuota";
    }
  }
}
