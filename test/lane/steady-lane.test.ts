// A lane fed a few events per queue batch, batch after batch, stays awake between them (runner.ts, `steady`) instead
// of ending each run, arming its alarm for retention and being armed again by the next batch: each setAlarm is a row
// written. One fed now and then (its next events come more than STAY_AWAKE_MS after its line emptied) still ends its
// run at once, its alarm armed for retention.
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { STAY_AWAKE_MS, type EndpointLane } from "../../src/delivery/lane/endpoint-lane";
import { call, createWebhook, createWorkspace } from "../support/helpers";
import { lane, RETENTION_MS, settledLane } from "../support/lane";
import { endpoint, eventIdsOf } from "../support/receiver";

/** Counts the lane's setAlarm calls from now on (the live instance's storage, wrapped in place). */
async function countAlarms(webhookId: string): Promise<() => Promise<number>> {
  await runInDurableObject(lane(webhookId), (_instance: EndpointLane, state) => {
    const storage = state.storage as DurableObjectStorage & { armed?: number };
    const setAlarm = storage.setAlarm.bind(storage);
    storage.armed = 0;
    storage.setAlarm = (...args: Parameters<DurableObjectStorage["setAlarm"]>) => {
      storage.armed!++;
      return setAlarm(...args);
    };
  });
  return () =>
    runInDurableObject(
      lane(webhookId),
      (_instance: EndpointLane, state) => (state.storage as DurableObjectStorage & { armed?: number }).armed ?? -1,
    );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("a lane fed steadily", () => {
  it("arms its alarm a few times over 12 batches of 2 events, not twice per batch, and delivers them in order", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    const hook = await createWebhook(ws.apiKey, { url: ep.url, events: ["message.received"] });
    const armed = await countAlarms(hook.id);
    const ids: string[] = [];
    const BATCHES = 12;
    for (let b = 0; b < BATCHES; b++) {
      const events = [0, 1].map((i) => ({ type: "message.received", data: { b, i } }));
      const res = await call("POST", "/v1/events/batch", { key: ws.apiKey, body: { events } });
      expect(res.status).toBe(202);
      ids.push(...(res.json.ids as string[]));
      await sleep(500);
    }
    expect(eventIdsOf(await ep.waitFor(ids.length))).toEqual(ids);
    // Each queue batch (at most 1 s) hands the lane a few events. Ending each run and being woken again would arm the
    // alarm about twice per hand-off (measured: 12-13 here without staying awake); awake, a run takes the next events.
    const times = await armed();
    expect(times).toBeGreaterThanOrEqual(1);
    expect(times).toBeLessThanOrEqual(5);
    // Once idle, the run ends and the alarm is armed for retention.
    const state = await settledLane(hook.id, (s) => s.events.every((e) => e.status === "delivered"));
    expect(state.alarm).toBe(Math.min(...state.events.map((e) => e.finished_at!)) + RETENTION_MS);
  });

  it("ends each run at once when fed now and then, its alarm armed for retention in between", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    const hook = await createWebhook(ws.apiKey, { url: ep.url, events: ["message.received"] });
    for (let n = 1; n <= 2; n++) {
      await call("POST", "/v1/events", { key: ws.apiKey, body: { type: "message.received", data: { n } } });
      await ep.waitFor(n);
      const delivered = Date.now();
      const state = await settledLane(hook.id, (s) => s.events.length === n && s.events.every((e) => e.status === "delivered"));
      // The run ended (its alarm armed) without staying awake STAY_AWAKE_MS for more.
      expect(Date.now() - delivered).toBeLessThan(STAY_AWAKE_MS);
      expect(state.alarm).toBe(Math.min(...state.events.map((e) => e.finished_at!)) + RETENTION_MS);
      await sleep(2_500);
    }
  });
});
