// Dead letters are kept: what the queue gives up on reaches the dead-letter queue, is recorded in D1, listed by
// GET /v1/dead-letters (the caller's workspace only, paged) and delivered once by replay.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { toQueuedEvent } from "../../src/events/ingest";
import type { QueuedEvent } from "../../src/events/queued-event";
import worker from "../../src/index";
import { call, createWebhook, createWorkspace, eventually, nested } from "../support/helpers";
import { captureLogs } from "../support/logs";
import { cookiesOf, page, signIn } from "../support/pages";
import { endpoint, eventIdsOf } from "../support/receiver";

/** Runs the Worker's handler for one queue on a batch and says what it acked and retried. */
async function consume(queue: string, bodies: unknown[], bindings: typeof env = env) {
  const batch = createMessageBatch<unknown>(
    queue,
    bodies.map((body, i) => ({ id: `${queue}-${crypto.randomUUID()}-${i}`, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, bindings);
  return { batch, result: await getQueueResult(batch, ctx) };
}

/** Bindings whose lanes refuse every hand-off, as a lane that keeps failing would. */
const failingLanes = () => {
  const refuse = async () => {
    throw new Error("lane overloaded");
  };
  const namespace = Object.create(env.ENDPOINT_LANE, { get: { value: () => ({ enqueue: refuse, configure: refuse }) } });
  return Object.create(env, { ENDPOINT_LANE: { value: namespace } }) as typeof env;
};

const logs = captureLogs();
const LANE_KEPT_FAILING = "handing it to a webhook's lane kept failing until the queue gave up on it";
/** The line the dead-letter consumer logs for each dead letter it records. */
const recorded = (event: QueuedEvent, reason = LANE_KEPT_FAILING) =>
  `dead letter recorded: ${event.id} of ${event.workspaceId} (${reason})`;

describe("dead letters", () => {
  it("keeps a message whose lane hand-off kept failing, lists it, and replays it once", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    await createWebhook(ws.apiKey, { url: ep.url, events: ["contact.updated"] });
    const event = await toQueuedEvent(ws.id, { type: "contact.updated", data: { name: "Ana" } }, Date.now());

    // Every attempt of the queue fails at the lane, so the message is retried each time...
    for (let attempt = 1; attempt <= 3; attempt++) {
      const { batch, result } = await consume("edge-webhooks-events", [event], failingLanes());
      expect(result.retryMessages.map((m) => m.msgId)).toEqual([batch.messages[0]!.id]);
    }
    expect(await ep.requests()).toHaveLength(0);
    expect(logs.error.filter((line) => line.endsWith("is retried alone: its hand-off to a lane failed"))).toHaveLength(3);
    // ...until the queue gives up and moves it to the dead-letter queue, whose consumer records it.
    const dead = await consume("edge-webhooks-events-dlq", [event]);
    expect(dead.result.explicitAcks).toEqual([dead.batch.messages[0]!.id]);
    expect(logs.warn).toEqual([recorded(event)]);

    const list = await call("GET", "/v1/dead-letters", { key: ws.apiKey });
    expect(list.status).toBe(200);
    expect(list.json).toEqual({
      data: [
        {
          eventId: event.id,
          type: "contact.updated",
          acceptedAt: new Date(event.acceptedAt).toISOString(),
          deadAt: expect.any(String),
          reason: "handing it to a webhook's lane kept failing until the queue gave up on it",
          replayable: true,
          replayedAt: null,
        },
      ],
      unreplayed: 1,
      nextCursor: null,
    });
    // Another workspace sees none of it, nor can it replay it.
    const other = await createWorkspace("other");
    expect((await call("GET", "/v1/dead-letters", { key: other.apiKey })).json.data).toEqual([]);
    expect((await call("POST", `/v1/dead-letters/${event.id}/replay`, { key: other.apiKey })).status).toBe(404);

    const replay = await call("POST", `/v1/dead-letters/${event.id}/replay`, { key: ws.apiKey });
    expect(replay).toMatchObject({ status: 202, json: { eventId: event.id, replayedAt: expect.any(String) } });
    const [got] = await ep.waitFor(1);
    expect(JSON.parse(got!.body)).toMatchObject({ event_id: event.id, event_type: "contact.updated", name: "Ana" });

    // Replaying again is idempotent at the lane: the event id is already stored, so nothing is sent twice.
    expect((await call("POST", `/v1/dead-letters/${event.id}/replay`, { key: ws.apiKey })).status).toBe(202);
    await new Promise((r) => setTimeout(r, 2000));
    expect(eventIdsOf(await ep.requests())).toEqual([event.id]);
  });

  it("moves a poison message to the dead-letter queue through the real queue and records why; its neighbours are delivered", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    await createWebhook(ws.apiKey, { url: ep.url, events: ["comment.created"] });
    const now = Date.now();
    // Deeper than ingestion allows (so only a broken producer could send it), yet small enough for the queue to carry.
    const poison = await toQueuedEvent(ws.id, { type: "comment.created", data: nested(100) }, now);
    const neighbours = await Promise.all([1, 2].map((i) => toQueuedEvent(ws.id, { type: "comment.created", data: { i } }, now + i)));
    await env.EVENTS_QUEUE.sendBatch([neighbours[0]!, poison, neighbours[1]!].map((body) => ({ body })));
    expect(eventIdsOf(await ep.waitFor(2))).toEqual(neighbours.map((e) => e.id));

    // The queue retries it alone (max_retries = 10), then gives up; the dead-letter consumer records it.
    const letter = await eventually(
      async () => {
        const res = await call("GET", "/v1/dead-letters", { key: ws.apiKey });
        return res.json.data[0];
      },
      45_000,
      "the dead letter",
    );
    expect(letter).toMatchObject({
      eventId: poison.id,
      type: "comment.created",
      reason: "malformed message: the event's data nests deeper than 64 levels",
      replayable: false,
    });
    const replay = await call("POST", `/v1/dead-letters/${poison.id}/replay`, { key: ws.apiKey });
    expect(replay).toMatchObject({ status: 409, json: { error: { code: "not_replayable" } } });
    expect(await ep.requests()).toHaveLength(2);
    expect(logs.error.length).toBeGreaterThan(0);
    for (const line of logs.error)
      expect(line).toMatch(/^queue message \w+ is retried alone: MalformedMessage: the event's data nests deeper than 64 levels$/);
    expect(logs.warn).toEqual([recorded(poison, "malformed message: the event's data nests deeper than 64 levels")]);
  }, 60_000);

  it("is described by /openapi.json", async () => {
    const { json } = await call("GET", "/openapi.json");
    expect(json.paths["/v1/dead-letters"].get.security).toEqual([{ apiKey: [] }]);
    expect(Object.keys(json.paths["/v1/dead-letters/{eventId}/replay"].post.responses).sort()).toEqual(["202", "401", "404", "409", "429"]);
    expect(Object.keys(json.components.schemas.DeadLetter.properties)).toEqual(
      expect.arrayContaining(["eventId", "type", "acceptedAt", "deadAt", "reason"]),
    );
  });

  it("acknowledges a dead message that names no workspace, and records each of the others on its own", async () => {
    const ws = await createWorkspace();
    const events = await Promise.all([0, 1].map((i) => toQueuedEvent(ws.id, { type: "message.sent", data: { i } }, Date.now() + i)));
    const { batch, result } = await consume("edge-webhooks-events-dlq", [
      null,
      "junk",
      { workspaceId: 7 },
      events[0],
      { ...events[1], orderKey: 1 },
    ]);
    expect(result.explicitAcks.sort()).toEqual(batch.messages.map((m) => m.id).sort());
    const list = (await call("GET", "/v1/dead-letters", { key: ws.apiKey })).json.data;
    expect(list.map((d: { eventId: string; replayable: boolean }) => [d.eventId, d.replayable]).sort()).toEqual(
      [
        [events[0]!.id, true],
        [events[1]!.id, false],
      ].sort(),
    );
    expect(logs.error).toEqual([0, 1, 2].map((i) => `dead letter ${batch.messages[i]!.id} names no workspace and is dropped`));
    expect(logs.warn.sort()).toEqual(
      [recorded(events[0]!), recorded(events[1]!, "malformed message: the event's orderKey is not an order key")].sort(),
    );
  });

  it("pages newest first with an opaque cursor, exactly, and refuses a forged cursor", async () => {
    const ws = await createWorkspace();
    const events: QueuedEvent[] = [];
    for (let i = 0; i < 5; i++) {
      const event = await toQueuedEvent(ws.id, { type: "message.sent", data: { i } }, Date.now());
      events.push(event);
      await consume("edge-webhooks-events-dlq", [event]);
      await new Promise((r) => setTimeout(r, 5));
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: Awaited<ReturnType<typeof call>> = await call("GET", `/v1/dead-letters?limit=2${cursor ? `&cursor=${cursor}` : ""}`, {
        key: ws.apiKey,
      });
      expect(res.status).toBe(200);
      seen.push(...res.json.data.map((d: { eventId: string }) => d.eventId));
      cursor = res.json.nextCursor;
    } while (cursor);
    expect(seen).toEqual(events.map((e) => e.id).reverse());
    expect(logs.warn).toEqual(events.map((e) => recorded(e)));
    const forged = await call("GET", "/v1/dead-letters?cursor=not-a-cursor", { key: ws.apiKey });
    expect(forged).toMatchObject({ status: 400, json: { error: { code: "invalid_cursor", param: "cursor" } } });
    expect((await call("GET", "/v1/dead-letters?limit=0", { key: ws.apiKey })).status).toBe(400);
  });

  it("never replays a stored body that names another workspace or is no longer a valid event", async () => {
    const [ws, other] = [await createWorkspace(), await createWorkspace("other")];
    const event = await toQueuedEvent(ws.id, { type: "message.sent", data: {} }, Date.now());
    await consume("edge-webhooks-events-dlq", [event]);
    for (const body of [JSON.stringify({ ...event, workspaceId: other.id }), "{not json", JSON.stringify({ ...event, id: 1 })]) {
      await env.DB.prepare("UPDATE dead_letters SET body = ? WHERE event_id = ?").bind(body, event.id).run();
      const res = await call("POST", `/v1/dead-letters/${event.id}/replay`, { key: ws.apiKey });
      expect(res).toMatchObject({ status: 409, json: { error: { code: "not_replayable" } } });
    }
    expect(logs.warn).toEqual([recorded(event)]);
  });

  it("forgets dead letters older than RETENTION_DAYS", async () => {
    const ws = await createWorkspace();
    const event = await toQueuedEvent(ws.id, { type: "message.sent", data: {} }, Date.now());
    await consume("edge-webhooks-events-dlq", [event]);
    await env.DB.prepare("UPDATE dead_letters SET dead_at = ? WHERE event_id = ?")
      .bind(Date.now() - 31 * 86_400_000, event.id)
      .run();
    expect((await call("GET", "/v1/dead-letters", { key: ws.apiKey })).json.data).toEqual([]);
    expect((await call("POST", `/v1/dead-letters/${event.id}/replay`, { key: ws.apiKey })).status).toBe(404);
    // The next dead-letter batch deletes it for good.
    await consume("edge-webhooks-events-dlq", []);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM dead_letters WHERE event_id = ?").bind(event.id).first("n")).toBe(0);
    expect(logs.warn).toEqual([recorded(event)]);
  });

  it("shows the settings pages a banner with the count and a Replay button that delivers the event", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    await createWebhook(ws.apiKey, { url: ep.url, events: ["conversation.closed"] });
    const events = await Promise.all([0, 1].map((i) => toQueuedEvent(ws.id, { type: "conversation.closed", data: { i } }, Date.now() + i)));
    await consume("edge-webhooks-events-dlq", events);
    expect(logs.warn.sort()).toEqual(events.map((e) => recorded(e)).sort());
    const cookie = await signIn(ws.apiKey);
    const list = await page("GET", "/settings/integrations/webhooks", { cookie });
    expect(list.html).toContain("2 events could not be delivered to their webhooks");
    const action = `/settings/integrations/dead-letters/${events[0]!.id}/replay`;
    expect(list.html).toContain(`action="${action}"`);

    const replayed = await page("POST", action, { cookie, form: { back: "/settings/integrations/webhooks" } });
    expect(replayed.status).toBe(303);
    expect(replayed.location).toBe("/settings/integrations/webhooks");
    expect(eventIdsOf(await ep.waitFor(1))).toEqual([events[0]!.id]);
    const after = await page("GET", "/settings/integrations/webhooks", { cookie: cookiesOf(replayed, cookie) });
    expect(after.html).toContain("1 event could not be delivered to its webhooks");
    expect(after.html).toContain(`was sent through again`);
    expect(after.html).not.toContain(`action="${action}"`);
    // Another workspace's pages show nothing of it.
    const other = await createWorkspace("other");
    expect((await page("GET", "/settings/integrations/webhooks", { cookie: await signIn(other.apiKey) })).html).not.toContain(
      "could not be delivered",
    );
  });
});
