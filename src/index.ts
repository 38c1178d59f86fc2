// The Worker's entry point: wires the HTTP API, the queue consumer and the Durable Object classes.
import { app } from "./api/app";
import type { Env } from "./env";

export { EndpointLane } from "./delivery/endpoint-lane";
export { WorkspaceQuota } from "./quota/workspace-quota";

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
