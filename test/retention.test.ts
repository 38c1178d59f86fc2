// Retention: finished events and their attempts are purged RETENTION_DAYS after they finished, by the
// lane's alarm; pending ones never are. Time is moved (vi.setSystemTime reaches the lane), not waited for.
// Also: a lane whose storage was made by an older version of the code is migrated in place.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { migrate, MIGRATIONS, type EndpointLane } from "../src/delivery/endpoint-lane";
import { call, createWebhook, createWorkspace, sendEvent } from "./helpers";
import { lane, laneState, RETENTION_MS, settledLane } from "./lane";
import { endpoint } from "./receiver";

afterEach(() => {
  vi.useRealTimers();
});

describe("retention", () => {
  it("purges delivered and dropped events after RETENTION_DAYS and keeps the pending one", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    await ep.program({ script: [{ status: 200 }], fallback: { status: 500 } });
    const hook = await createWebhook(ws.apiKey, { url: ep.url, events: ["message.received"] });
    const a = await sendEvent(ws.apiKey, { type: "message.received", data: { n: 0 } });
    await settledLane(hook.id, (s) => s.events.length === 1 && s.events[0]!.status === "delivered");
    const bId = await sendEvent(ws.apiKey, { type: "message.received", data: { n: 1 } });
    for (let runs = 0; ; runs++) {
      const state = await settledLane(hook.id, (s) => s.events.length === 2);
      if (state.events[1]!.status === "dropped") break;
      expect(runs).toBeLessThan(6);
      await runDurableObjectAlarm(lane(hook.id));
    }
    const cId = await sendEvent(ws.apiKey, { type: "message.received", data: { n: 2 } });
    let state = await settledLane(hook.id, (s) => s.events.length === 3 && s.events[2]!.attempt_count === 1);
    const [tA, tB] = [state.events[0]!.finished_at!, state.events[1]!.finished_at!];
    expect(tA).toBeLessThan(tB - 1);
    // The pending event's retry comes first; the purge is next in line, at the oldest expiry.
    expect(state.alarm).toBe(state.events[2]!.next_attempt_at);

    // A millisecond before B expires: A (finished earlier) goes, with its attempt; B and C stay.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(tB + RETENTION_MS - 1);
    await runDurableObjectAlarm(lane(hook.id));
    state = await settledLane(hook.id, (s) => s.events.length === 2);
    expect(state.events.map((e) => [e.id, e.status])).toEqual([[bId, "dropped"], [cId, "pending"]]);
    expect(state.attempts.filter((x) => x.event_id === a)).toEqual([]);
    expect(state.attempts.filter((x) => x.event_id === bId)).toHaveLength(4);
    expect(state.alarm).toBe(Math.min(state.events[1]!.next_attempt_at, tB + RETENTION_MS));

    // Past B's expiry: only the pending event is left, with all its attempts.
    vi.setSystemTime(tB + RETENTION_MS + 1);
    await runDurableObjectAlarm(lane(hook.id));
    state = await settledLane(hook.id, (s) => s.events.length === 1);
    expect(state.events.map((e) => [e.id, e.status])).toEqual([[cId, "pending"]]);
    expect(state.attempts.every((x) => x.event_id === cId)).toBe(true);
    expect(state.attempts.length).toBe(state.events[0]!.attempt_count);
    const log = await call("GET", `/v1/webhooks/${hook.id}/deliveries`, { key: ws.apiKey });
    expect(log.json.data.map((d: { eventId: string }) => d.eventId)).toEqual([cId]);
  });

  it("migrates a lane stored by the first version of the code, keeping its events in line", async () => {
    const stub = env.ENDPOINT_LANE.get(env.ENDPOINT_LANE.idFromName("legacy-lane"));
    const after = await runInDurableObject(stub, async (_instance: EndpointLane, state) => {
      const sql = state.storage.sql;
      for (const table of ["lane", "events", "attempts", "schema_version"]) sql.exec(`DROP TABLE IF EXISTS ${table}`);
      sql.exec(MIGRATIONS[0]!);
      sql.exec(
        "INSERT INTO lane (singleton, webhook_id, workspace_id, url, secret, enabled, config_version) VALUES (1, 'wh_legacy', 'ws_legacy', 'http://127.0.0.1:1/', 'whsec_AAAA', 1, 1)",
      );
      sql.exec("INSERT INTO events (id, order_key, type, body, accepted_at, status, attempt_count, next_attempt_at, created_at) VALUES ('evt_1', 'K1', 'message.received', '{}', 1, 'pending', 2, 5, 1)");
      sql.exec("INSERT INTO events (id, order_key, type, body, accepted_at, status, next_attempt_at, created_at) VALUES ('evt_2', 'K2', 'message.received', '{}', 2, 'skipped', 5, 7)");
      migrate(sql, state.storage);
      migrate(sql, state.storage);
      return {
        events: sql.exec("SELECT id, line_key, round_attempts, attempt_count, test, finished_at FROM events ORDER BY order_key").toArray(),
        lane: sql.exec("SELECT previous_secret, previous_secret_expires_at FROM lane").one(),
        version: sql.exec("SELECT version FROM schema_version").one().version,
      };
    });
    expect(after).toEqual({
      events: [
        { id: "evt_1", line_key: "K1", round_attempts: 2, attempt_count: 2, test: 0, finished_at: null },
        { id: "evt_2", line_key: "K2", round_attempts: 0, attempt_count: 0, test: 0, finished_at: 7 },
      ],
      lane: { previous_secret: null, previous_secret_expires_at: null },
      version: MIGRATIONS.length,
    });
    // The lane's own queries work on the migrated storage.
    expect((await laneState("legacy-lane")).events.map((e) => [e.id, e.status])).toEqual([["evt_1", "pending"], ["evt_2", "skipped"]]);
  });
});
