// Retention: finished events and their attempts are purged RETENTION_DAYS after they finished, by the
// lane's alarm; pending ones never are. Time is moved (vi.setSystemTime reaches the lane), not waited for.
import { runDurableObjectAlarm } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { call, createWebhook, createWorkspace, sendEvent } from "../support/helpers";
import { lane, RETENTION_MS, settledLane } from "../support/lane";
import { endpoint } from "../support/receiver";

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
    expect(state.events.map((e) => [e.id, e.status])).toEqual([
      [bId, "dropped"],
      [cId, "pending"],
    ]);
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
});
