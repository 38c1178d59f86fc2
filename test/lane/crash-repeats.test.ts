// The one repeat a crash may cause: a lane delivering a backlog records its successes in groups of at most
// OUTCOME_GROUP_SIZE, so a crash mid-group sends at most that many events again (same webhook-id, in order),
// and loses none.
import { abortAllDurableObjects, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { OUTCOME_GROUP_SIZE } from "../../src/delivery/lane/store";
import { call, createWebhook, createWorkspace, eventually } from "../support/helpers";
import { lane, settledLane } from "../support/lane";
import { endpoint, eventIdsOf } from "../support/receiver";

const EVENTS = OUTCOME_GROUP_SIZE * 2 + 3;

/**
 * A backlog of EVENTS events to a webhook whose endpoint answers request `slow` (1-based) only after a while
 * (under the tests' 1 s timeout); the lane is aborted, as by a crash, while that request is out. Returns the
 * ids in acceptance order and every request the endpoint got once the lane has caught up.
 */
async function crashWhileOut(slow: number) {
  const ws = await createWorkspace();
  const ep = endpoint();
  const quick = Array.from({ length: slow - 1 }, () => ({ status: 200 }));
  await ep.program({ script: [...quick, { status: 200, delayMs: 900 }], fallback: { status: 200 } });
  const hook = await createWebhook(ws.apiKey, { url: ep.url, events: ["message.received"] });
  const batch = Array.from({ length: EVENTS }, (_, i) => ({ type: "message.received", data: { i } }));
  const res = await call("POST", "/v1/events/batch", { key: ws.apiKey, body: { events: batch } });
  expect(res.status).toBe(202);
  const ids = res.json.ids as string[];

  await ep.waitFor(slow);
  await abortAllDurableObjects();
  // A new instance knows only its storage. The aborted run's alarm is retried by the runtime; run it now.
  await eventually(async () => {
    await runDurableObjectAlarm(lane(hook.id));
    return (await ep.requests()).length >= EVENTS;
  });
  await settledLane(hook.id, (state) => state.events.every((e) => e.status === "delivered"));
  return { ids, got: eventIdsOf(await ep.requests()) };
}

describe("a crash while a backlog is delivered", () => {
  it(`delivers at most ${OUTCOME_GROUP_SIZE} events again (a whole group), in order, and loses none`, async () => {
    // Requests 1..N-2 succeeded but wait in memory for their group's commit; request N-1 is out when the lane
    // dies. (Only in the moment between request N going out and its group's write starting are N-1 kept and
    // one out: the N of the bound.)
    const { ids, got } = await crashWhileOut(OUTCOME_GROUP_SIZE - 1);
    // Every event arrives; delivery restarts at the group's first event and goes on in order from there.
    expect(got).toEqual([...ids.slice(0, OUTCOME_GROUP_SIZE - 1), ...ids]);
    expect(got.length - ids.length).toBe(OUTCOME_GROUP_SIZE - 1);
  });

  it("sends nothing again of a group already recorded", async () => {
    // The group of requests 1..N-1 was written while request N was out: only that one is sent again.
    const { ids, got } = await crashWhileOut(OUTCOME_GROUP_SIZE);
    expect(got).toEqual([...ids.slice(0, OUTCOME_GROUP_SIZE), ...ids.slice(OUTCOME_GROUP_SIZE - 1)]);
    // And one more request later, the next group holds that one and the one out.
    const later = await crashWhileOut(OUTCOME_GROUP_SIZE + 1);
    expect(later.got).toEqual([...later.ids.slice(0, OUTCOME_GROUP_SIZE + 1), ...later.ids.slice(OUTCOME_GROUP_SIZE - 1)]);
  });
});
