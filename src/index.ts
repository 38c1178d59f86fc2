// The Worker's entry point: wires the HTTP API, the queue consumers and the Durable Object classes.
import { app } from "./api/app";
import { DEAD_LETTER_QUEUE_NAME, recordDeadLetters } from "./dead-letters/consumer";
import { consumeEvents } from "./delivery/consumer";
import type { Env } from "./env";

export { EndpointLane } from "./delivery/endpoint-lane";
export { WorkspaceQuota } from "./quota/workspace-quota";

export default {
  fetch: app.fetch,
  // Two queues: accepted events, and the ones the queue gave up on (its dead-letter queue).
  queue: (batch, env) => (batch.queue === DEAD_LETTER_QUEUE_NAME ? recordDeadLetters(batch, env) : consumeEvents(batch, env)),
} satisfies ExportedHandler<Env, unknown>;
