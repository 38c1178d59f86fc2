// The Worker's entry point: mounts the HTTP API and the settings pages side by side, and wires the queue
// consumers and the Durable Object classes.
import { Hono } from "hono";
import { api, notFound } from "./api/app";
import type { AppEnv } from "./api/context";
import { settingsPages } from "./settings/app";
import { DEAD_LETTER_QUEUE_NAME, recordDeadLetters } from "./dead-letters/consumer";
import { consumeEvents } from "./delivery/consumer";
import type { Env } from "./env";

export { EndpointLane } from "./delivery/lane/endpoint-lane";
export { WorkspaceQuota } from "./quota/workspace-quota";
export { EndpointSender } from "./delivery/endpoint-sender";

const app = new Hono<AppEnv>();
// The pages are an API client: they call the API in-process for every read and change.
app.route(
  "/settings",
  settingsPages((request, env, ctx) => api.fetch(request, env, ctx)),
);
app.route("/", api);
app.notFound(notFound);

export default {
  fetch: app.fetch,
  // Two queues: accepted events, and the ones the queue gave up on (its dead-letter queue).
  queue: async (batch, env) => {
    if (batch.queue === DEAD_LETTER_QUEUE_NAME) await recordDeadLetters(batch, env);
    else await consumeEvents(batch, env);
  },
} satisfies ExportedHandler<Env, unknown>;
