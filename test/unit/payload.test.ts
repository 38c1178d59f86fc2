// Pure delivery policy: the retry schedule, the body's shape and both signature schemes.
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { buildBody } from "../../src/delivery/payload";
import { nextAttemptAt } from "../../src/delivery/schedule";
import { respondIoSignature, signatureHeaders, standardSignature } from "../../src/delivery/signing";

describe("retry schedule", () => {
  it("waits 30, 60 and 90 s after failures 1, 2 and 3, then drops", () => {
    const delays = [30, 60, 90];
    expect(nextAttemptAt(1, 1_000, delays)).toBe(31_000);
    expect(nextAttemptAt(2, 1_000, delays)).toBe(61_000);
    expect(nextAttemptAt(3, 1_000, delays)).toBe(91_000);
    expect(nextAttemptAt(4, 1_000, delays)).toBeNull();
  });

  it("scales with a shrunk schedule, fractions included", () => {
    expect([1, 2, 3, 4].map((n) => nextAttemptAt(n, 0, [1, 2, 3]))).toEqual([1000, 2000, 3000, null]);
    expect(nextAttemptAt(1, 0, [0.25])).toBe(250);
    expect(nextAttemptAt(1, 0, [])).toBeNull();
  });
});

describe("body", () => {
  it("puts the data at the top level after the envelope, and the envelope wins a clash", () => {
    const body = buildBody({
      id: "evt_1",
      type: "contact.updated",
      occurredAt: 1_700_000_000_000,
      data: { event_id: "spoof", timestamp: 1, contact: { id: 7 } },
    });
    expect(body).toBe('{"event_type":"contact.updated","event_id":"evt_1","timestamp":1700000000000,"contact":{"id":7}}');
  });

  it("keeps a __proto__ key as plain data", () => {
    const data = JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}');
    const body = JSON.parse(buildBody({ id: "evt_2", type: "message.sent", occurredAt: 0, data }));
    expect(Object.keys(body)).toEqual(["event_type", "event_id", "timestamp", "__proto__", "ok"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe("signatures", () => {
  const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const body = '{"event_type":"message.received","event_id":"evt_1","timestamp":1}';

  it("signs the Standard Webhooks way, verifiable by the standardwebhooks package", async () => {
    const ts = Math.floor(Date.now() / 1000);
    const headers = await signatureHeaders({ secrets: [secret], id: "evt_1", timestampSeconds: ts, body });
    expect(() => new Webhook(secret).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(secret).verify(body + " ", headers)).toThrow();
  });

  it("matches the Standard Webhooks reference vector", async () => {
    // From the Standard Webhooks specification's example.
    const sig = await standardSignature(
      "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      "msg_p5jXN8AQM9LWM0D4loKWxJek",
      1614265330,
      '{"test": 2432232314}',
    );
    expect(sig).toBe("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  });

  it("signs the respond.io way: HMAC-SHA256 of the raw body keyed with the secret string, base64", async () => {
    const expected = new Uint8Array(
      await crypto.subtle.sign(
        "HMAC",
        await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]),
        new TextEncoder().encode(body),
      ),
    ).toBase64();
    expect(await respondIoSignature(secret, body)).toBe(expected);
  });

  it("signs with every secret during a rotation, space-separated, each verifiable alone", async () => {
    const old = "whsec_" + btoa("0123456789abcdef01234567");
    const ts = Math.floor(Date.now() / 1000);
    const headers = await signatureHeaders({ secrets: [secret, old], id: "evt_9", timestampSeconds: ts, body });
    expect(headers["webhook-signature"]!.split(" ")).toHaveLength(2);
    expect(() => new Webhook(secret).verify(body, headers)).not.toThrow();
    expect(() => new Webhook(old).verify(body, headers)).not.toThrow();
    expect(headers["x-webhook-signature"]).toBe(await respondIoSignature(secret, body));
  });
});
