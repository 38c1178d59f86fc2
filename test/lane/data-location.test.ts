// Data location: a workspace created with `dataLocation` keeps it for good, every Durable Object of it (webhook
// lanes, its alerts lane, its quota object) is asked for in that jurisdiction, and its dead letters never reach D1.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { objectId } from "../../src/bindings";
import { toQueuedEvent } from "../../src/events/ingest";
import worker from "../../src/index";
import { ADMIN_TOKEN, call, eventually, sendEvent } from "../support/helpers";
import { captureLogs } from "../support/logs";
import { endpoint } from "../support/receiver";
import { recordObjectRequests, type ObjectRequest } from "../support/recording-namespaces";

let recording: ReturnType<typeof recordObjectRequests> | undefined;
afterEach(() => {
  recording?.stop();
  recording = undefined;
});

async function workspaceIn(dataLocation: "eu" | "fedramp" | null | undefined) {
  const res = await call("POST", "/v1/admin/workspaces", {
    key: ADMIN_TOKEN,
    body: dataLocation === undefined ? { name: "Located" } : { name: "Located", dataLocation },
  });
  expect(res.status).toBe(201);
  return res.json as { id: string; apiKey: string; dataLocation: string | null };
}

async function deadLetter(body: unknown) {
  const batch = createMessageBatch<unknown>("edge-webhooks-events-dlq", [
    { id: `dlq-${crypto.randomUUID()}`, timestamp: new Date(), attempts: 1, body },
  ]);
  const ctx = createExecutionContext();
  await worker.queue(batch, env);
  return getQueueResult(batch, ctx);
}

const d1DeadLetters = async (workspaceId: string) =>
  (await env.DB.prepare("SELECT event_id, body FROM dead_letters WHERE workspace_id = ?").bind(workspaceId).all()).results;

/** Everything a workspace did with one webhook and an alerts lane: events delivered and failed, a dead letter, the log, stats, quota. */
/** What the code logs on purpose here: each dead letter recorded, and (once per isolate) the local jurisdiction fallback. */
const logs = captureLogs();

async function exercise(ws: { id: string; apiKey: string }) {
  const ep = endpoint();
  const alerts = endpoint();
  await ep.program({ script: [{ status: 200 }], fallback: { status: 500 } });
  expect((await call("PATCH", "/v1/workspace", { key: ws.apiKey, body: { alertUrl: alerts.url } })).status).toBe(200);
  const created = await call("POST", "/v1/webhooks", { key: ws.apiKey, body: { url: ep.url, events: ["contact.updated"] } });
  expect(created.status).toBe(201);
  const id = created.json.id as string;
  await sendEvent(ws.apiKey, { type: "contact.updated", data: { n: 1 } });
  await sendEvent(ws.apiKey, { type: "contact.updated", data: { n: 2 } });
  // The second attempt fails: the lane reports it to the workspace's quota object.
  await eventually(async () => (await call("GET", "/v1/quota", { key: ws.apiKey })).json.failures === 1, 15_000, "the failure counted");
  const dead = await toQueuedEvent(ws.id, { type: "contact.updated", data: { n: 3 } }, Date.now());
  expect((await deadLetter(dead)).explicitAcks).toHaveLength(1);
  expect(logs.warn).toContain(
    `dead letter recorded: ${dead.id} of ${ws.id} (handing it to a webhook's lane kept failing until the queue gave up on it)`,
  );
  // The dead letter raised an alert on the alerts lane.
  await alerts.waitFor(1);
  expect((await call("GET", `/v1/webhooks/${id}/deliveries`, { key: ws.apiKey })).status).toBe(200);
  expect((await call("GET", `/v1/webhooks/${id}/stats`, { key: ws.apiKey })).status).toBe(200);
  expect((await call("GET", "/v1/workspace/alerts", { key: ws.apiKey })).status).toBe(200);
  return { id, dead };
}

describe("data location", () => {
  it("is set when the workspace is created, shown in the workspace object, and never changes", async () => {
    const ws = await workspaceIn("eu");
    expect(ws.dataLocation).toBe("eu");
    expect((await call("GET", "/v1/workspace", { key: ws.apiKey })).json.dataLocation).toBe("eu");
    const change = await call("PATCH", "/v1/workspace", { key: ws.apiKey, body: { dataLocation: null } });
    expect(change.status).toBe(400);
    expect((await call("GET", "/v1/workspace", { key: ws.apiKey })).json.dataLocation).toBe("eu");

    expect((await workspaceIn(undefined)).dataLocation).toBeNull();
    expect((await workspaceIn(null)).dataLocation).toBeNull();
    expect((await workspaceIn("fedramp")).dataLocation).toBe("fedramp");
    const wrong = await call("POST", "/v1/admin/workspaces", { key: ADMIN_TOKEN, body: { name: "x", dataLocation: "us" } });
    expect(wrong).toMatchObject({ status: 400, json: { error: { code: "validation_failed", param: "dataLocation" } } });
  });

  it("asks for every object of an eu workspace in the eu jurisdiction: its lanes, its alerts lane and its quota object", async () => {
    const ws = await workspaceIn("eu");
    recording = recordObjectRequests();
    const { id } = await exercise(ws);
    recording.stop();
    const mine = (r: ObjectRequest) => r.name === id || r.name === ws.id || r.name === `alerts:${ws.id}`;
    const asked = recording.requests.filter(mine);
    // Each kind of object was asked for (the recorder saw the whole flow) ...
    expect(new Set(asked.map((r) => r.name))).toEqual(new Set([id, ws.id, `alerts:${ws.id}`]));
    // ... and never outside the workspace's jurisdiction.
    expect(asked.filter((r) => r.location !== "eu")).toEqual([]);
  });

  it("keeps an eu workspace's dead letters out of D1, behind the same list and replay", async () => {
    const ws = await workspaceIn("eu");
    const { dead } = await exercise(ws);
    expect(await d1DeadLetters(ws.id)).toEqual([]);
    const list = await call("GET", "/v1/dead-letters", { key: ws.apiKey });
    expect(list.json).toMatchObject({ data: [{ eventId: dead.id, replayable: true, replayedAt: null }], unreplayed: 1, nextCursor: null });
    const replay = await call("POST", `/v1/dead-letters/${dead.id}/replay`, { key: ws.apiKey });
    expect(replay).toMatchObject({ status: 202, json: { eventId: dead.id, replayedAt: expect.any(String) } });
    expect((await call("GET", "/v1/dead-letters", { key: ws.apiKey })).json.unreplayed).toBe(0);
    expect(await d1DeadLetters(ws.id)).toEqual([]);
  });

  it("leaves a workspace without a location as it was: plain objects, dead letters in D1", async () => {
    const ws = await workspaceIn(undefined);
    recording = recordObjectRequests();
    const { id, dead } = await exercise(ws);
    recording.stop();
    const asked = recording.requests.filter((r) => r.name === id || r.name === ws.id || r.name === `alerts:${ws.id}`);
    expect(new Set(asked.map((r) => r.name))).toEqual(new Set([id, ws.id, `alerts:${ws.id}`]));
    expect(asked.filter((r) => r.location !== null)).toEqual([]);
    expect(await d1DeadLetters(ws.id)).toEqual([{ event_id: dead.id, body: expect.any(String) }]);
    expect((await call("GET", "/v1/dead-letters", { key: ws.apiKey })).json.data).toMatchObject([{ eventId: dead.id }]);
  });

  it("falls back to the plain namespace where workerd has no jurisdictions, with one log line and no crash", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    // The real namespace here: workerd throws for jurisdiction(), so this is the local fallback.
    const ids = [objectId(env.ENDPOINT_LANE, "wh_fallback", "fedramp"), objectId(env.ENDPOINT_LANE, "wh_fallback2", "fedramp")];
    expect(ids[0]!.equals(env.ENDPOINT_LANE.idFromName("wh_fallback"))).toBe(true);
    expect(warn.mock.calls.filter(([line]) => String(line).includes('data location "fedramp"'))).toHaveLength(1);
    warn.mockRestore();
    // Any other failure of a jurisdiction is not hidden.
    const broken = {
      jurisdiction: () => {
        throw new Error("jurisdiction unavailable");
      },
      idFromName: () => {
        throw new Error("unreachable");
      },
    } as unknown as DurableObjectNamespace;
    expect(() => objectId(broken, "wh_x", "eu")).toThrow("jurisdiction unavailable");
  });

  it("is described by /openapi.json", async () => {
    const { json } = await call("GET", "/openapi.json");
    expect(json.components.schemas.CreateWorkspace.properties.dataLocation).toMatchObject({ enum: ["eu", "fedramp", null] });
    expect(json.components.schemas.Workspace.properties).toHaveProperty("dataLocation");
  });
});
