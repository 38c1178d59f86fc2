// Endpoint verification (REQUIRE_ENDPOINT_VERIFICATION, docs/signatures.md), as pure rules the lane applies: what
// a challenge is, where it goes in line, what answer verifies (Standard Webhooks' endpoint-verification extension),
// and what waits until then.
import { ulid } from "ulidx";
import { pooledRandom } from "../lib/ids";
import type { AttemptResult } from "./attempt";
import type { NewEvent } from "./lane/schema";
import { endpointVerificationResponse } from "./signing";

export const VERIFICATION_EVENT_TYPE = "endpoint.verification";
/** Standard Webhooks' endpoint-verification extension: the challenge the request carries, and the answer's header. */
export const CHALLENGE_HEADER = "webhook-challenge";
export const CHALLENGE_RESPONSE_HEADER = "webhook-challenge-response";
const CHALLENGE_ID_PREFIX = "vrf_";

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
    id: `${CHALLENGE_ID_PREFIX}${orderKey.toLowerCase()}`,
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

/** The header a challenge's request carries beside its signatures (none for any other event). */
export function challengeHeaders(eventId: string, body: string): Record<string, string> {
  return eventId.startsWith(CHALLENGE_ID_PREFIX) ? { [CHALLENGE_HEADER]: challengeIn(body) } : {};
}

/**
 * Whether the lane holds its events back: verification is required and its endpoint (a webhook's URL, or the
 * workspace's alertUrl for an alerts lane) has not answered a challenge at its current URL.
 */
export function awaitingVerification(lane: { verified_at: number | null }, required: boolean): boolean {
  return required && lane.verified_at === null;
}

/** Whether the lane may send `event` now: a challenge always, anything else only once nothing is awaited. */
export function maySend(lane: { verified_at: number | null }, event: { type: string }, required: boolean): boolean {
  return event.type === VERIFICATION_EVENT_TYPE || !awaitingVerification(lane, required);
}

/**
 * A challenge attempt succeeds only on a 2xx whose `webhook-challenge-response` is what Standard Webhooks computes
 * from `challenge` with one of `secrets` (both sign during a rotation); a 2xx without it (a body that merely echoes
 * the challenge included) is a failed attempt, retried like any other.
 */
export async function judgeChallenge<R extends AttemptResult>(result: R, challenge: string, secrets: readonly string[]): Promise<R> {
  if (!result.delivered) return result;
  const answer = result.challengeResponse ?? null;
  if (answer === null) return { ...result, delivered: false, error: `the response had no ${CHALLENGE_RESPONSE_HEADER} header` };
  const expected = await Promise.all(secrets.map((secret) => endpointVerificationResponse(secret, challenge)));
  if (expected.includes(answer.trim())) return result;
  return { ...result, delivered: false, error: `the response's ${CHALLENGE_RESPONSE_HEADER} does not match the signing secret` };
}
