// A polling webhook's stream (docs/polling.md): its consumer reads pages with a cursor that acknowledges what came
// before it. Authorized by the workspace's key or the webhook's own poll token (poll-auth.ts).
import { createRoute, z } from "@hono/zod-openapi";
import { laneConfigOf } from "../../delivery/lane-config";
import { decodePollCursor, POLL_LIMIT_DEFAULT, POLL_LIMIT_MAX, POLL_WAIT_MAX_SECONDS } from "../../delivery/lane/poll";
import { newRouter } from "../context";
import { ApiError, errorResponses } from "../errors";
import { jsonResponse, pollTokenAuth, workspaceKeyAuth } from "../openapi";
import { pagePosition } from "../paging";
import { findWebhook, webhookLane, webhookNotFound } from "./lookup";
import { WebhookIdParam } from "./schemas";

export const pollRoutes = newRouter();

const whole = () => z.coerce.number({ error: "must be a whole number" }).int({ error: "must be a whole number" });

const PollQuerySchema = z.object({
  cursor: z
    .string()
    .optional()
    .openapi({
      param: { name: "cursor", in: "query" },
      description:
        "`nextCursor` of the previous page: acknowledges every event before it. Leave out to start at the oldest unacknowledged event.",
    }),
  limit: whole()
    .min(1, { error: "must be at least 1" })
    .max(POLL_LIMIT_MAX, { error: `must be at most ${POLL_LIMIT_MAX}` })
    .default(POLL_LIMIT_DEFAULT)
    .openapi({
      param: { name: "limit", in: "query" },
      example: POLL_LIMIT_DEFAULT,
      description: `Events per page, 1-${POLL_LIMIT_MAX} (default ${POLL_LIMIT_DEFAULT}).`,
    }),
  wait: whole()
    .min(0, { error: "must be at least 0" })
    .max(POLL_WAIT_MAX_SECONDS, { error: `must be at most ${POLL_WAIT_MAX_SECONDS} seconds` })
    .default(0)
    .openapi({
      param: { name: "wait", in: "query" },
      example: 20,
      description: `Long poll: when no event is readable, wait up to this many seconds (0-${POLL_WAIT_MAX_SECONDS}) for one.`,
    }),
});

const PollPageSchema = z
  .object({
    data: z
      .array(z.record(z.string(), z.unknown()))
      .openapi({ description: "The events in order, each the exact JSON body a push endpoint would get." }),
    nextCursor: z
      .string()
      .nullable()
      .openapi({ description: "Pass as `cursor` on the next read (it acknowledges this page); null before anything was read." }),
    done: z.boolean().openapi({ description: "True when no more events are readable now: wait (or long-poll) before reading again." }),
  })
  .openapi("PollPage");

pollRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{id}/poll",
    operationId: "pollWebhook",
    tags: ["Polling"],
    security: [...workspaceKeyAuth, ...pollTokenAuth],
    summary: "Read a polling webhook's events",
    description:
      'Reads the stream of a webhook created with `"delivery": "poll"`, in order. Reading with `cursor` acknowledges every event before it ' +
      "(they become `delivered` in the log); reading again with the same cursor returns the same events (at-least-once). Without a cursor the " +
      "read starts at the oldest unacknowledged event. With `wait`, an empty read waits for the next event. Authorized by the workspace's API key " +
      "or the webhook's `pollToken`.",
    request: { params: WebhookIdParam, query: PollQuerySchema },
    responses: { 200: jsonResponse(PollPageSchema, "A page of events"), ...errorResponses(400, 401, 403, 404) },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const { cursor, limit, wait } = c.req.valid("query");
    const after = pagePosition(cursor, decodePollCursor);
    const webhook = c.get("pollWebhook") ?? (await findWebhook(c.get("db"), c.get("workspace").id, id));
    if (webhook.delivery !== "poll")
      throw new ApiError("not_found", `webhook ${JSON.stringify(id)} is not a polling webhook; its events are pushed to its url`);
    const answer = await webhookLane(c.env, webhook).poll(laneConfigOf(webhook), { after, limit, waitMs: wait * 1000 });
    if ("refused" in answer) {
      if (answer.refused === "invalid_cursor")
        throw new ApiError("invalid_cursor", "cursor is past anything this stream returned; pass nextCursor as it came", undefined, {
          param: "cursor",
        });
      throw webhookNotFound(id);
    }
    const data = answer.bodies.map((body) => JSON.parse(body) as Record<string, unknown>);
    return c.json({ data, nextCursor: answer.nextCursor, done: answer.done }, 200);
  },
);
