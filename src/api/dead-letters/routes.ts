// The dead-letter API: what the queue gave up on, for the caller's workspace, and replay through the pipeline.
import { createRoute } from "@hono/zod-openapi";
import { deadLetterCutoff } from "../../dead-letters/consumer";
import { deadLettersOf } from "../../dead-letters/where";
import { readQueuedEvent, type QueuedEvent } from "../../events/queued-event";
import { newRouter } from "../context";
import { pagePosition } from "../paging";
import { ApiError, errorResponses } from "../errors";
import { jsonResponse, workspaceKeyAuth } from "../openapi";
import {
  DeadLetterListSchema,
  DeadLetterParams,
  DeadLetterQuerySchema,
  DeadLetterSchema,
  decodeCursor,
  encodeCursor,
  toDeadLetter,
} from "./schemas";

const tags = ["Dead letters"];
const security = workspaceKeyAuth;

export const deadLetterRoutes = newRouter();

/** The queued event a dead letter holds, if it is (still) a valid one. */
function storedEvent(body: string): QueuedEvent | undefined {
  try {
    return readQueuedEvent(JSON.parse(body));
  } catch {
    return undefined;
  }
}

deadLetterRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    operationId: "listDeadLetters",
    tags,
    security,
    summary: "List dead letters",
    description:
      "Events the queue gave up on after its retries (a message that could not be read or handed to a webhook's lane), newest " +
      "first, kept for RETENTION_DAYS. Page with `limit` (1-100, default 50) and `cursor`.",
    request: { query: DeadLetterQuerySchema },
    responses: { 200: jsonResponse(DeadLetterListSchema, "A page of dead letters"), ...errorResponses(400, 401) },
  }),
  async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const before = pagePosition(cursor, decodeCursor);
    const workspace = c.get("workspace");
    const page = await deadLettersOf(c.env, c.get("db"), workspace.id, workspace.dataLocation ?? null).page({
      limit,
      before,
      notBefore: deadLetterCutoff(c.env),
    });
    const last = page.rows.at(-1);
    return c.json(
      { data: page.rows.map(toDeadLetter), unreplayed: page.unreplayed, nextCursor: page.more && last ? encodeCursor(last) : null },
      200,
    );
  },
);

deadLetterRoutes.openapi(
  createRoute({
    method: "post",
    path: "/{eventId}/replay",
    operationId: "replayDeadLetter",
    tags,
    security,
    summary: "Replay a dead letter",
    description:
      "Sends the event through the pipeline again, as it was accepted (same id, same place in acceptance order). Lanes store an " +
      "event id once, so a webhook that already has it is not sent it twice. A message that was not a valid event answers 409.",
    request: { params: DeadLetterParams },
    responses: {
      202: jsonResponse(DeadLetterSchema, "Queued again; `replayedAt` is set"),
      ...errorResponses(401, 404, 409),
    },
  }),
  async (c) => {
    const workspace = c.get("workspace");
    const workspaceId = workspace.id;
    const { eventId } = c.req.valid("param");
    const store = deadLettersOf(c.env, c.get("db"), workspaceId, workspace.dataLocation ?? null);
    const row = await store.find(eventId);
    if (!row || row.deadAt.getTime() < deadLetterCutoff(c.env))
      throw new ApiError("not_found", `no dead letter ${eventId} in this workspace`);
    if (row.body === null)
      throw new ApiError("not_replayable", `dead letter ${eventId} was not a valid event (${row.reason}); it cannot be sent again`);
    const event = storedEvent(row.body);
    // Never another workspace's event, whatever the stored body says.
    if (!event || event.workspaceId !== workspaceId)
      throw new ApiError("not_replayable", `dead letter ${eventId} does not hold one of this workspace's events`);
    await c.env.EVENTS_QUEUE.send(event);
    const replayed = await store.markReplayed(eventId, new Date());
    return c.json(toDeadLetter(replayed ?? row), 202);
  },
);
