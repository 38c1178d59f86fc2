// The dead-letter API: what the queue gave up on, for the caller's workspace, and replay through the pipeline.
import { createRoute } from "@hono/zod-openapi";
import { deadLetterCutoff } from "../../dead-letters/consumer";
import { countUnreplayed, findDeadLetter, listDeadLetters, markReplayed } from "../../dead-letters/store";
import { readQueuedEvent, type QueuedEvent } from "../../events/queued-event";
import { newRouter } from "../context";
import { pagePosition } from "../paging";
import { ApiError, errorResponses } from "../errors";
import { jsonResponse, workspaceKeyAuth } from "../openapi";
import { DeadLetterListSchema, DeadLetterParams, DeadLetterQuerySchema, DeadLetterSchema, decodeCursor, encodeCursor, toDeadLetter } from "./schemas";

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
    const [workspaceId, notBefore] = [c.get("workspace").id, deadLetterCutoff(c.env)];
    const [page, unreplayed] = await Promise.all([
      listDeadLetters(c.get("db"), workspaceId, { limit, before, notBefore }),
      countUnreplayed(c.get("db"), workspaceId, notBefore),
    ]);
    const last = page.rows.at(-1);
    return c.json({ data: page.rows.map(toDeadLetter), unreplayed, nextCursor: page.more && last ? encodeCursor(last) : null }, 200);
  },
);

deadLetterRoutes.openapi(
  createRoute({
    method: "post",
    path: "/{eventId}/replay",
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
    const workspaceId = c.get("workspace").id;
    const { eventId } = c.req.valid("param");
    const db = c.get("db");
    const row = await findDeadLetter(db, workspaceId, eventId);
    if (!row || row.deadAt.getTime() < deadLetterCutoff(c.env)) throw new ApiError("not_found", `no dead letter ${eventId} in this workspace`);
    if (row.body === null) throw new ApiError("not_replayable", `dead letter ${eventId} was not a valid event (${row.reason}); it cannot be sent again`);
    const event = storedEvent(row.body);
    // Never another workspace's event, whatever the stored body says.
    if (!event || event.workspaceId !== workspaceId) throw new ApiError("not_replayable", `dead letter ${eventId} does not hold one of this workspace's events`);
    await c.env.EVENTS_QUEUE.send(event);
    const replayed = await markReplayed(db, workspaceId, eventId, new Date());
    return c.json(toDeadLetter(replayed ?? row), 202);
  },
);
