// Endpoint verification (REQUIRE_ENDPOINT_VERIFICATION, docs/signatures.md), as pure rules the lane applies: what
// a challenge is, where it goes in line, what answer verifies, and what waits until then.
import { ulid } from "ulidx";
import { pooledRandom } from "../lib/ids";
import type { AttemptResult } from "./attempt";
import type { NewEvent } from "./lane/schema";

export const VERIFICATION_EVENT_TYPE = "endpoint.verification";

/**
 * A challenge's place in line: before every order key and every place requeue gives (both [0-9A-Z] ULIDs), so
 * it goes before anything the endpoint has waiting; its order key (when it was made) keeps its place in the log.
 */
export function challengeLineKey(orderKey: string): string {
  return `!${orderKey}`;
}

/** A new challenge: 256 random bits, base64url. */
export function newChallenge(): string {
  return crypto.getRandomValues(new Uint8Array(32)).toBase64({ alphabet: "base64url", omitPadding: true });
}

/** The body of a challenge request. */
export function challengeBody(challenge: string, now: number): string {
  return JSON.stringify({ event_type: VERIFICATION_EVENT_TYPE, challenge, timestamp: now });
}

/** A new challenge as the lane stores it: pending, due now, first in line, and out of stats and recover (test). */
export function challengeEvent(now: number): NewEvent {
  const orderKey = ulid(now, pooledRandom);
  return {
    id: `vrf_${orderKey.toLowerCase()}`,
    order_key: orderKey,
    line_key: challengeLineKey(orderKey),
    type: VERIFICATION_EVENT_TYPE,
    body: challengeBody(newChallenge(), now),
    accepted_at: now,
    status: "pending",
    next_attempt_at: now,
    finished_at: null,
    test: true,
  };
}

/** The challenge in a body challengeBody made. */
export function challengeIn(body: string): string {
  return (JSON.parse(body) as { challenge: string }).challenge;
}

/**
 * Whether the lane holds its events back: verification is required, the lane is a webhook's (an alerts lane's
 * URL is the workspace's own setting), and its endpoint has not echoed a challenge at its current URL.
 */
export function awaitingVerification(lane: { kind: string; verified_at: number | null }, required: boolean): boolean {
  return required && lane.kind !== "alerts" && lane.verified_at === null;
}

/** Whether the lane may send `event` now: a challenge always, anything else only once nothing is awaited. */
export function maySend(lane: { kind: string; verified_at: number | null }, event: { type: string }, required: boolean): boolean {
  return event.type === VERIFICATION_EVENT_TYPE || !awaitingVerification(lane, required);
}

/**
 * A challenge attempt succeeds only on a 2xx whose body (its first RESPONSE_SNIPPET_BYTES, as logged) contains the
 * challenge; a 2xx without it is a failed attempt, retried like any other.
 */
export function judgeChallenge(result: AttemptResult, challenge: string): AttemptResult {
  if (!result.delivered || result.responseBody?.includes(challenge)) return result;
  return { ...result, delivered: false, error: "the response did not contain the challenge" };
}
