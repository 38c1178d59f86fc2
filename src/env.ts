// The Worker's bindings and variables, as declared in wrangler.toml.
import type { EndpointLane } from "./delivery/lane/endpoint-lane";
import type { WorkspaceQuota } from "./quota/workspace-quota";
import type { QueuedEvent } from "./events/queued-event";

export interface Env {
  DB: D1Database;
  EVENTS_QUEUE: Queue<QueuedEvent>;
  ENDPOINT_LANE: DurableObjectNamespace<EndpointLane>;
  WORKSPACE_QUOTA: DurableObjectNamespace<WorkspaceQuota>;
  EMAIL?: SendEmail;
  /** Ingestion requests per workspace (POST /v1/events and /batch). */
  INGEST_LIMITER?: RateLimit;
  /** Sign-in attempts on the settings pages per client address. */
  SIGN_IN_LIMITER?: RateLimit;

  /** Secret guarding /v1/admin/*. Unset means the admin API refuses every call. */
  ADMIN_TOKEN?: string;
  /** Secret that signs the settings pages' session cookies; without it one is derived from ADMIN_TOKEN. */
  SESSION_SECRET?: string;
  DELIVERY_TIMEOUT_MS?: string;
  RETRY_DELAYS_SECONDS?: string;
  FAILURE_QUOTA_LIMIT?: string;
  FAILURE_QUOTA_WINDOW_SECONDS?: string;
  ALLOW_PRIVATE_URLS?: string;
  RETENTION_DAYS?: string;
  EMAIL_FROM?: string;
  ORDERING_WINDOW_MS?: string;
  PUBLIC_URL?: string;
  PORTAL_FRAME_ANCESTORS?: string;
  REQUIRE_ENDPOINT_VERIFICATION?: string;
  EVENT_VALIDATION?: string;
}
