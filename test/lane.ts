// Looking inside a webhook's lane (its Durable Object storage) from a test.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { AttemptRow, EndpointLane } from "../src/delivery/endpoint-lane";
import { laneOf } from "../src/delivery/lane-config";
import { eventually } from "./helpers";

export interface LaneEvent {
  id: string;
  status: string;
  attempt_count: number;
  next_attempt_at: number;
  accepted_at: number;
  finished_at: number | null;
  line_key: string;
  test: number;
}
export type LaneAttempt = AttemptRow;

export function lane(webhookId: string) {
  return laneOf(env.ENDPOINT_LANE, webhookId);
}

export async function laneState(webhookId: string) {
  return runInDurableObject(lane(webhookId), async (_instance: EndpointLane, state) => {
    const sql = state.storage.sql;
    const tables = sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'events'").toArray();
    if (tables.length === 0) return { events: [], attempts: [], alarm: await state.storage.getAlarm(), lane: undefined };
    return {
      events: sql.exec("SELECT id, status, attempt_count, next_attempt_at, accepted_at, finished_at, line_key, test FROM events ORDER BY order_key").toArray() as unknown as LaneEvent[],
      attempts: sql.exec("SELECT * FROM attempts ORDER BY at, n").toArray() as unknown as LaneAttempt[],
      alarm: await state.storage.getAlarm(),
      lane: sql.exec("SELECT * FROM lane").toArray()[0] as Record<string, unknown> | undefined,
    };
  });
}

/** RETENTION_DAYS in the tests (wrangler.toml's default). */
export const RETENTION_MS = 30 * 86_400_000;

/**
 * When the lane's alarm should be armed, from its storage: the earliest of its head's next attempt (while
 * enabled) and the expiry of its oldest finished event; null when neither exists.
 */
export function expectedAlarm(state: Awaited<ReturnType<typeof laneState>>): number | null {
  const enabled = state.lane?.enabled === 1;
  const head = enabled ? [...state.events].filter((e) => e.status === "pending").sort((a, b) => (a.line_key < b.line_key ? -1 : 1))[0] : undefined;
  const finished = state.events.flatMap((e) => (e.finished_at === null ? [] : [e.finished_at + RETENTION_MS]));
  const candidates = [...(head ? [head.next_attempt_at] : []), ...finished];
  return candidates.length ? Math.min(...candidates) : null;
}

/**
 * Waits until the lane's alarm is armed as its storage says it should be: an alarm run in progress has
 * no alarm set until it ends, so this means the lane is between runs.
 */
export function settledLane(webhookId: string, also: (state: Awaited<ReturnType<typeof laneState>>) => boolean = () => true) {
  return eventually(async () => {
    const state = await laneState(webhookId);
    return state.alarm === expectedAlarm(state) && also(state) && state;
  });
}
