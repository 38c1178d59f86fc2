// Endpoint verification's pure rules (src/delivery/verification.ts): what verifies (checked against the standardwebhooks
// library's own endpointVerificationResponse), what waits, where a challenge goes.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AttemptResult } from "../../src/delivery/attempt";
import { Webhook } from "standardwebhooks";
import { endpointVerificationResponse } from "../../src/delivery/signing";
import {
  awaitingVerification,
  challengeEvent,
  challengeHeaders,
  challengeIn,
  judgeChallenge,
  maySend,
  VERIFICATION_EVENT_TYPE,
} from "../../src/delivery/verification";

const result = (statusCode: number, challengeResponse: string | null, responseBody: string | null = null): AttemptResult => ({
  at: 0,
  durationMs: 1,
  statusCode,
  error: statusCode >= 200 && statusCode < 300 ? null : `endpoint answered HTTP ${statusCode}`,
  responseBody,
  headers: {},
  delivered: statusCode >= 200 && statusCode < 300,
  retryAfterMs: null,
  challengeResponse,
});

const secretArb = fc.uint8Array({ minLength: 24, maxLength: 32 }).map((bytes) => `whsec_${bytes.toBase64()}`);

describe("endpoint verification rules", () => {
  it("computes the answer exactly as standardwebhooks' endpointVerificationResponse does, for any secret and challenge", async () => {
    await fc.assert(
      fc.asyncProperty(secretArb, fc.string({ minLength: 1 }), async (secret, challenge) => {
        expect(await endpointVerificationResponse(secret, challenge)).toBe(new Webhook(secret).endpointVerificationResponse(challenge));
      }),
    );
  });

  it("verifies only on a 2xx whose webhook-challenge-response the library computes with a secret in force; an echo does not", async () => {
    const { body } = challengeEvent(Date.now());
    const challenge = challengeIn(body);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 100, max: 599 }), secretArb, secretArb, fc.boolean(), async (status, secret, other, right) => {
        const answer = new Webhook(right ? secret : other).endpointVerificationResponse(challenge);
        const judged = await judgeChallenge(result(status, answer, body), challenge, [secret]);
        const ok = status >= 200 && status < 300;
        expect(judged.delivered).toBe(ok && (right || secret === other));
        if (ok && !judged.delivered) expect(judged.error).toMatch(/webhook-challenge-response/);
      }),
    );
    const [current, previous] = ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_C2FtcGxlLXNlY3JldC1mb3ItdGVzdHMtb25seQ=="];
    // Either secret of a rotation verifies.
    const byPrevious = new Webhook(previous).endpointVerificationResponse(challenge);
    expect((await judgeChallenge(result(200, byPrevious), challenge, [current, previous])).delivered).toBe(true);
    expect((await judgeChallenge(result(200, byPrevious), challenge, [current])).delivered).toBe(false);
    // A body that echoes the challenge, or no header at all, verifies nothing.
    const echoed = await judgeChallenge(result(200, null, body), challenge, [current]);
    expect([echoed.delivered, echoed.error]).toEqual([false, "the response had no webhook-challenge-response header"]);
    expect((await judgeChallenge(result(200, challenge, body), challenge, [current])).delivered).toBe(false);
  });

  it("sends the webhook-challenge header with a challenge only", () => {
    const made = challengeEvent(Date.now());
    expect(challengeHeaders(made.id, made.body)).toEqual({ "webhook-challenge": challengeIn(made.body) });
    expect(challengeHeaders("evt_01jd8x6m3q7v9c2k4n5p6r7s8t", "{}")).toEqual({});
  });

  it("holds events back only while verification is required and the lane (a webhook's or the alerts') has none; the challenge always goes", () => {
    const event = { type: "message.received" };
    const challenge = { type: VERIFICATION_EVENT_TYPE };
    expect(maySend({ verified_at: null }, event, true)).toBe(false);
    expect(maySend({ verified_at: null }, challenge, true)).toBe(true);
    expect(maySend({ verified_at: 5 }, event, true)).toBe(true);
    expect(maySend({ verified_at: null }, event, false)).toBe(true);
    expect(awaitingVerification({ verified_at: null }, true)).toBe(true);
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
