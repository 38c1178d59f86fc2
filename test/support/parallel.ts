// Reading a webhook delivered by key or without order from a test: the objects' outgoing counters, the
// receiver's requests grouped by key, and alarms driven until the lane has caught up.
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { senderOf } from "../../src/bindings";
import { MAX_MAX_IN_FLIGHT, MAX_OUTGOING_PER_OBJECT } from "../../src/delivery/ordering";
import { lane, laneState, type LaneState } from "./lane";
import type { RecordedRequest } from "./receiver";

/** The most requests each object of the webhook ever had out at once: the lane (index 0), then its senders. */
export async function outgoingPeaks(webhookId: string): Promise<number[]> {
  const senders = Math.ceil(MAX_MAX_IN_FLIGHT / MAX_OUTGOING_PER_OBJECT) - 1;
  const own = await lane(webhookId).outgoing();
  const others = await Promise.all(
    Array.from({ length: senders }, (_, i) => senderOf(env.ENDPOINT_SENDER, webhookId, i + 1, null).outgoingCount()),
  );
  return [own.peak, ...others.map((o) => o.peak)];
}

/**
 * Runs the lane's alarm (when one is armed for a pending event) until `done` says so and no attempt is out:
 * retries come without waiting for their time.
 */
export async function driveUntil(webhookId: string, done: (state: LaneState) => boolean, timeoutMs = 60_000): Promise<LaneState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await laneState(webhookId);
    if (done(state) && (await lane(webhookId).outgoing()).attemptsOut === 0) return state;
    if (Date.now() > deadline) throw new Error(`lane ${webhookId} did not catch up: ${JSON.stringify(state.events.map((e) => e.status))}`);
    // Only for a pending event: an alarm run early for retention (armed when nothing is pending) would purge all.
    if (state.events.some((e) => e.status === "pending")) await runDurableObjectAlarm(lane(webhookId));
    await new Promise((r) => setTimeout(r, 30));
  }
}

export const bodyOf = (r: RecordedRequest) => JSON.parse(r.body) as { event_id: string; contact?: { id?: unknown }; [k: string]: unknown };

/** The requests grouped by a key taken from each body, in arrival order. */
export function byKey(requests: RecordedRequest[], keyOf: (r: RecordedRequest) => string): Map<string, RecordedRequest[]> {
  const groups = new Map<string, RecordedRequest[]>();
  for (const r of [...requests].sort((a, b) => a.arrivedHr - b.arrivedHr)) {
    const key = keyOf(r);
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return groups;
}

/** Whether two requests of a group were ever open at once (one arrived before the other was answered). */
export function overlapping(group: RecordedRequest[]): [string, string] | null {
  for (let i = 1; i < group.length; i++) {
    const before = group[i - 1]!;
    const after = group[i]!;
    if (before.answeredHr === null || after.arrivedHr < before.answeredHr) return [bodyOf(before).event_id, bodyOf(after).event_id];
  }
  return null;
}

/**
 * Whether a group arrived in order of acceptance: the accepted index never goes down (an event tried again
 * arrives again, right after itself).
 */
export function inAcceptanceOrder(group: RecordedRequest[], accepted: string[]): boolean {
  const indexes = group.map((r) => accepted.indexOf(bodyOf(r).event_id));
  return indexes.every((index, i) => index >= 0 && (i === 0 || index >= indexes[i - 1]!));
}

/**
 * Whether each event of a group arrived for the first time in order of acceptance: what holds after a crash, when
 * the events whose outcomes were not written yet are sent again, in order, after ones that went before.
 */
export function firstArrivalsInOrder(group: RecordedRequest[], accepted: string[]): boolean {
  const seen = new Set<string>();
  const firsts = group.map((r) => bodyOf(r).event_id).filter((id) => !seen.has(id) && seen.add(id));
  const indexes = firsts.map((id) => accepted.indexOf(id));
  return indexes.every((index, i) => index >= 0 && (i === 0 || index > indexes[i - 1]!));
}

/** How many 2xx answers each event got. */
export function successesOf(requests: RecordedRequest[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of requests)
    if (typeof r.outcome === "number" && r.outcome < 300) counts.set(bodyOf(r).event_id, (counts.get(bodyOf(r).event_id) ?? 0) + 1);
  return counts;
}
