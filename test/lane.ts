// Looking inside a webhook's lane (its Durable Object storage) from a test.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { EndpointLane } from "../src/delivery/endpoint-lane";
import { laneOf } from "../src/delivery/lane-config";
import { eventually } from "./helpers";

export interface LaneEvent {
  id: string;
  status: string;
  attempt_count: number;
  next_attempt_at: number;
  accepted_at: number;
}
export interface LaneAttempt {
  event_id: string;
  n: number;
  at: number;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
  response_body: string | null;
}

export function lane(webhookId: string) {
  return laneOf(env.ENDPOINT_LANE, webhookId);
}

export async function laneState(webhookId: string) {
  return runInDurableObject(lane(webhookId), async (_instance: EndpointLane, state) => {
    const sql = state.storage.sql;
    const tables = sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'events'").toArray();
    if (tables.length === 0) return { events: [], attempts: [], alarm: await state.storage.getAlarm(), lane: undefined };
    return {
      events: sql.exec("SELECT id, status, attempt_count, next_attempt_at, accepted_at FROM events ORDER BY order_key").toArray() as unknown as LaneEvent[],
      attempts: sql.exec("SELECT * FROM attempts ORDER BY at, n").toArray() as unknown as LaneAttempt[],
      alarm: await state.storage.getAlarm(),
      lane: sql.exec("SELECT * FROM lane").toArray()[0] as Record<string, unknown> | undefined,
    };
  });
}

/**
 * Waits until the lane's alarm is armed for its next pending event (or unset when none is pending):
 * an alarm run in progress has no alarm set until it ends, so this means the lane is between runs.
 */
export function settledLane(webhookId: string, also: (state: Awaited<ReturnType<typeof laneState>>) => boolean = () => true) {
  return eventually(async () => {
    const state = await laneState(webhookId);
    const head = state.events.find((e) => e.status === "pending");
    return state.alarm === (head?.next_attempt_at ?? null) && also(state) && state;
  });
}
