// Looking inside a webhook's lane from a test, through the lane's own store and alarm rule.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { readConfig, retentionMs } from "../../src/config";
import { laneOf } from "../../src/bindings";
import type { EndpointLane } from "../../src/delivery/lane/endpoint-lane";
import { oldestFinishedAt } from "../../src/delivery/lane/retention";
import { LaneStore, nextAlarmAt } from "../../src/delivery/lane/store";
import { maySend } from "../../src/delivery/verification";
import { eventually } from "./helpers";

export function lane(webhookId: string) {
  return laneOf(env.ENDPOINT_LANE, webhookId, null);
}

/** RETENTION_DAYS in the tests (wrangler.toml's default), as the lane counts it. */
export const RETENTION_MS = retentionMs(readConfig(env));

/**
 * What the lane holds (its row, events in acceptance order, attempts by time), the alarm it has armed,
 * and the alarm its storage says it should have (`due`, from the lane's own nextAlarmAt).
 */
export async function laneState(webhookId: string) {
  return runInDurableObject(lane(webhookId), async (_instance: EndpointLane, state) => {
    const store = new LaneStore(state.storage);
    const snapshot = store.snapshot();
    const head = snapshot.lane?.enabled ? store.head() : undefined;
    const due = nextAlarmAt({
      lane: snapshot.lane,
      // A head held back until the endpoint verifies arms nothing.
      head: head && maySend(snapshot.lane!, head, readConfig(env).requireEndpointVerification) ? head : undefined,
      oldestFinishedAt: oldestFinishedAt(store.sql),
      retentionMs: RETENTION_MS,
      now: Date.now(),
    });
    return { ...snapshot, alarm: await state.storage.getAlarm(), due };
  });
}

export type LaneState = Awaited<ReturnType<typeof laneState>>;

/**
 * Waits until the lane's alarm is armed as its storage says it should be: an alarm run in progress has
 * no alarm set until it ends, so this means the lane is between runs.
 */
export function settledLane(webhookId: string, also: (state: LaneState) => boolean = () => true) {
  return eventually(async () => {
    const state = await laneState(webhookId);
    return state.alarm === state.due && also(state) && state;
  });
}
