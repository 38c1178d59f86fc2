// Looking inside a webhook's lane from a test, through the lane's own store and alarm rule.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { readConfig, retentionMs } from "../../src/config";
import { laneOf } from "../../src/bindings";
import type { EndpointLane } from "../../src/delivery/lane/endpoint-lane";
import { oldestFinishedAt } from "../../src/delivery/lane/retention";
import { KeyedLine } from "../../src/delivery/lane/keyed-line";
import { dueHead } from "../../src/delivery/lane/runner";
import { LaneStore, nextAlarmAt } from "../../src/delivery/lane/store";
import type { LaneConfig } from "../../src/delivery/lane-config";
import type { Sealed } from "../../src/lib/encryption";
import { eventually } from "./helpers";

export function lane(webhookId: string) {
  return laneOf(env.ENDPOINT_LANE, webhookId, null);
}

/**
 * A webhook config for a test that writes a lane's store by hand (no API, no D1): enabled, no controls, version 1.
 * Its secret and headers are clear values, which read as themselves (encryption.ts open): such tests are about the
 * line, not the seal.
 */
export function handMadeConfig(overrides: Partial<LaneConfig> & Pick<LaneConfig, "webhookId">): LaneConfig {
  return {
    workspaceId: `ws_${overrides.webhookId}`,
    url: "https://example.com/hook",
    secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" as Sealed,
    previousSecret: null,
    previousSecretExpiresAt: null,
    enabled: true,
    disabledReason: null,
    rateLimitPerSecond: null,
    retryDelaysSeconds: null,
    headers: "{}" as Sealed,
    dataLocation: null,
    version: 1,
    ...overrides,
  };
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
    const due = nextAlarmAt({
      lane: snapshot.lane,
      // A head held back until the endpoint verifies arms nothing (runner.ts dueHead).
      head: dueHead(store, { line: new KeyedLine(store) }, readConfig(env).requireEndpointVerification),
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
