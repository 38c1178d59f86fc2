// Endpoint verification's pure rules (src/delivery/verification.ts): what verifies, what waits, where a challenge goes.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AttemptResult } from "../../src/delivery/attempt";
import {
  awaitingVerification,
  challengeEvent,
  challengeIn,
  judgeChallenge,
  maySend,
  VERIFICATION_EVENT_TYPE,
} from "../../src/delivery/verification";

const result = (statusCode: number, responseBody: string | null): AttemptResult => ({
  at: 0,
  durationMs: 1,
  statusCode,
  error: statusCode >= 200 && statusCode < 300 ? null : `endpoint answered HTTP ${statusCode}`,
  responseBody,
  headers: {},
  delivered: statusCode >= 200 && statusCode < 300,
  retryAfterMs: null,
});

describe("endpoint verification rules", () => {
  it("verifies only on a 2xx whose body contains the challenge", () => {
    const { body } = challengeEvent(Date.now());
    const challenge = challengeIn(body);
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 599 }), fc.string(), fc.string(), fc.boolean(), (status, before, after, echoes) => {
        const judged = judgeChallenge(result(status, `${before}${echoes ? challenge : ""}${after}`), challenge);
        const contains = `${before}${echoes ? challenge : ""}${after}`.includes(challenge);
        expect(judged.delivered).toBe(status >= 200 && status < 300 && contains);
        if (status >= 200 && status < 300 && !contains) expect(judged.error).toMatch(/challenge/);
      }),
    );
    expect(judgeChallenge(result(200, null), challenge).delivered).toBe(false);
  });

  it("holds events back only while verification is required and the webhook lane has none; the challenge always goes", () => {
    const event = { type: "message.received" };
    const challenge = { type: VERIFICATION_EVENT_TYPE };
    expect(maySend({ kind: "webhook", verified_at: null }, event, true)).toBe(false);
    expect(maySend({ kind: "webhook", verified_at: null }, challenge, true)).toBe(true);
    expect(maySend({ kind: "webhook", verified_at: 5 }, event, true)).toBe(true);
    expect(maySend({ kind: "webhook", verified_at: null }, event, false)).toBe(true);
    expect(awaitingVerification({ kind: "alerts", verified_at: null }, true)).toBe(false);
  });

  it("puts a challenge before every order key and requeued place, and logs it where it was made", () => {
    const made = challengeEvent(Date.UTC(2030, 0, 1));
    expect(made.line_key! < "0").toBe(true);
    expect(made.line_key).toBe(`!${made.order_key}`);
    expect(made.order_key).toMatch(/^[0-9A-Z]{26}$/);
    expect(made).toMatchObject({ status: "pending", test: true, type: VERIFICATION_EVENT_TYPE, next_attempt_at: Date.UTC(2030, 0, 1) });
    expect(JSON.parse(made.body)).toEqual({
      event_type: VERIFICATION_EVENT_TYPE,
      challenge: challengeIn(made.body),
      timestamp: Date.UTC(2030, 0, 1),
    });
    expect(challengeIn(challengeEvent(0).body)).not.toBe(challengeIn(made.body));
  });
});
