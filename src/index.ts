// The Worker's entry point: wires the HTTP API, the queue consumer and the Durable Object classes.
import { app } from "./api/app";
import { consumeEvents } from "./delivery/consumer";
import type { Env } from "./env";
import type { QueuedEvent } from "./events/queued-event";

export { EndpointLane } from "./delivery/endpoint-lane";
export { WorkspaceQuota } from "./quota/workspace-quota";

export default {
  fetch: app.fetch,
  queue: (batch, env) => consumeEvents(batch, env),
} satisfies ExportedHandler<Env, QueuedEvent>;
