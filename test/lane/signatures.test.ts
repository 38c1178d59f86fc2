// Asymmetric signatures: every delivery carries `v1a` (Ed25519) beside `v1`, checked by a receiver with the public
// key alone (the documented snippets: Node's crypto.verify in the real receiver's process, WebCrypto here), for
// every event type, through a rotation, and never by a tampered request; the JWKS that publishes the keys; and
// the private key nowhere in what the service shows.
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { verifyV1a } from "../../docs/snippets/verify-v1a-webcrypto.mjs";
import type { JwkSet } from "../../docs/snippets/verify-v1a.d.mts";
import { EVENT_TYPES } from "../../src/events/catalog";
import { sampleData } from "../../src/events/samples";
import { signatureHeaders } from "../../src/delivery/signing";
import { jwkOf, jwksOf } from "../../src/lib/jwks";
import { open } from "../../src/lib/encryption";
import { newSigningKeyPair, newSigningSecret } from "../../src/lib/secrets";
import { call, createWebhook, createWorkspace, sendEvent } from "../support/helpers";
import { lane, settledLane } from "../support/lane";
import { page, signIn } from "../support/pages";
import { endpoint, type RecordedRequest } from "../support/receiver";

const DAY = 86_400_000;

const jwks = async (id: string) =>
  (await call("GET", `/v1/webhooks/${id}/jwks.json`)).json as JwkSet & { keys: { kid: string; x: string }[] };

/** The WebCrypto snippet on a recorded request; `tolerance` Infinity for requests stamped under a moved clock. */
const webCryptoVerifies = (set: JwkSet, req: Pick<RecordedRequest, "headers" | "body">, tolerance = 300) =>
  verifyV1a(set, new Headers(req.headers), req.body, tolerance);

const entries = (req: RecordedRequest, scheme: "v1" | "v1a") =>
  req.headers["webhook-signature"]!.split(" ").filter((e) => e.startsWith(`${scheme},`));

/** `whpk_` + base64 of the raw key, as base64url: the JWK's `x`. */
const xOf = (publicKey: string) =>
  Uint8Array.fromBase64(publicKey.slice("whpk_".length)).toBase64({ alphabet: "base64url", omitPadding: true });

afterEach(() => {
  vi.useRealTimers();
});

describe("asymmetric signatures (v1a)", () => {
  it("signs every delivery of all nine event types so the public key alone verifies it, in Node and with WebCrypto; v1 still verifies with the secret", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    const hook = await createWebhook(ws.apiKey, { url: ep.url, events: [...EVENT_TYPES] });
    expect(hook.publicKey).toMatch(/^whpk_[A-Za-z0-9+/]{43}=$/);
    expect(Uint8Array.fromBase64(hook.publicKey.slice(5))).toHaveLength(32);
    await ep.program({ secrets: [hook.secret] });
    for (const type of EVENT_TYPES) await sendEvent(ws.apiKey, { type, data: sampleData(type, Date.now()) });
    const got = await ep.waitFor(EVENT_TYPES.length);
    expect(got.map((r) => JSON.parse(r.body).event_type).sort()).toEqual([...EVENT_TYPES].sort());

    const set = await jwks(hook.id);
    expect(set.keys).toHaveLength(1);
    expect(set.keys[0]).toMatchObject({ kty: "OKP", crv: "Ed25519", use: "sig", x: xOf(hook.publicKey) });
    for (const req of got) {
      expect(entries(req, "v1")).toHaveLength(1);
      expect(entries(req, "v1a")).toHaveLength(1);
      expect(Uint8Array.fromBase64(entries(req, "v1a")[0]!.slice(4))).toHaveLength(64);
      expect(await webCryptoVerifies(set, req)).toBe(true);
      // The Standard Webhooks library checks the v1 entry with the secret and passes over v1a.
      expect(req.standardValid).toBe(true);
      expect(req.respondIoValid).toBe(true);
    }
    expect(await ep.verifyV1aInNode(set)).toEqual(got.map(() => true));

    // The test event is signed the same way.
    const test = await call("POST", `/v1/webhooks/${hook.id}/test`, { key: ws.apiKey, body: { type: "contact.updated" } });
    expect(test.status).toBe(200);
    const [, last] = [got, (await ep.waitFor(EVENT_TYPES.length + 1)).at(-1)!];
    expect(JSON.parse(last.body).event_type).toBe("contact.updated");
    expect(await webCryptoVerifies(set, last)).toBe(true);
    expect(await ep.verifyV1aInNode(set, [last])).toEqual([true]);
  });

  it("refuses a tampered body, timestamp or id, another webhook's key, and a stale timestamp", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    const hook = await createWebhook(ws.apiKey, { url: ep.url, events: ["message.received"] });
    const other = await createWebhook(ws.apiKey, { url: ep.url, events: ["contact.created"] });
    await sendEvent(ws.apiKey, { type: "message.received", data: { text: "pay 10" } });
    const [req] = await ep.waitFor(1);
    const set = await jwks(hook.id);
    const ts = Number(req!.headers["webhook-timestamp"]);
    const tampered = [
      { headers: req!.headers, body: req!.body.replace("pay 10", "pay 99") },
      { headers: { ...req!.headers, "webhook-timestamp": String(ts + 1) }, body: req!.body },
      { headers: { ...req!.headers, "webhook-id": "evt_someone_else" }, body: req!.body },
      { headers: { ...req!.headers, "webhook-signature": entries(req!, "v1").join(" ") }, body: req!.body },
    ];
    for (const t of tampered) expect(await webCryptoVerifies(set, t)).toBe(false);
    expect(await ep.verifyV1aInNode(set, tampered)).toEqual([false, false, false, false]);
    expect(await webCryptoVerifies(await jwks(other.id), req!)).toBe(false);
    expect(await ep.verifyV1aInNode(await jwks(other.id), [req!])).toEqual([false]);
    // Within the tolerance it verifies; ten minutes later the snippet refuses the same request.
    expect(await webCryptoVerifies(set, req!)).toBe(true);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(ts * 1000 + 600_000);
    expect(await webCryptoVerifies(set, req!)).toBe(false);
  });

  it("rotates the key pair with the secret: both keys sign and are published for 24 h, then the old one is dropped from both", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    const hook = await createWebhook(ws.apiKey, { url: ep.url, events: ["message.received"] });
    const before = await jwks(hook.id);
    expect((await jwks(hook.id)).keys[0]!.kid).toBe(before.keys[0]!.kid);

    const rotated = await call("POST", `/v1/webhooks/${hook.id}/rotate-secret`, { key: ws.apiKey });
    expect(rotated.status).toBe(200);
    expect(rotated.json.publicKey).not.toBe(hook.publicKey);
    const during = await jwks(hook.id);
    expect(during.keys.map((k) => k.x)).toEqual([xOf(rotated.json.publicKey), xOf(hook.publicKey)]);
    // The old key keeps its kid: a receiver's cache of it stays valid.
    expect(during.keys[1]!.kid).toBe(before.keys[0]!.kid);
    expect(during.keys[0]!.kid).not.toBe(before.keys[0]!.kid);

    await sendEvent(ws.apiKey, { type: "message.received", data: { n: 1 } });
    const [first] = await ep.waitFor(1);
    expect(entries(first!, "v1a")).toHaveLength(2);
    // A receiver holding either set verifies: the one fetched before the rotation, or the new one alone.
    const newOnly = { keys: [during.keys[0]!] };
    for (const set of [before, newOnly, during]) {
      expect(await webCryptoVerifies(set, first!)).toBe(true);
      expect(await ep.verifyV1aInNode(set, [first!])).toEqual([true]);
    }
    await settledLane(hook.id, (s) => s.events[0]?.status === "delivered");

    // A minute after the grace: the JWKS holds the new key only, and only it signs.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.parse(rotated.json.previousSecretExpiresAt) + 60_000);
    const after = await jwks(hook.id);
    expect(after.keys).toEqual(newOnly.keys);
    await sendEvent(ws.apiKey, { type: "message.received", data: { n: 2 } });
    await settledLane(hook.id, (s) => s.events.length === 2);
    await runDurableObjectAlarm(lane(hook.id));
    const [, second] = await ep.waitFor(2);
    expect(entries(second!, "v1a")).toHaveLength(1);
    expect(await webCryptoVerifies(after, second!, Infinity)).toBe(true);
    expect(await webCryptoVerifies(before, second!, Infinity)).toBe(false);
    expect(await ep.verifyV1aInNode(after, [second!])).toEqual([true]);
    expect(await ep.verifyV1aInNode(before, [second!])).toEqual([false]);
    expect(Date.parse(rotated.json.previousSecretExpiresAt) - Date.parse(rotated.json.updatedAt)).toBe(DAY);
  });
});

describe("signing (src/delivery/signing.ts) against the WebCrypto snippet", () => {
  it("verifies any id, timestamp and body, with either key during a rotation, and refuses any changed one", async () => {
    const [current, previous] = [await newSigningKeyPair(), await newSigningKeyPair()];
    const [both, currentOnly, previousOnly] = await Promise.all([
      jwksOf([current.publicKey, previous.publicKey]),
      jwksOf([current.publicKey]),
      jwksOf([previous.publicKey]),
    ]);
    const secret = newSigningSecret();
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1, maxLength: 40 }).filter((id) => !/[\r\n]/.test(id) && id.trim() === id),
        fc.integer({ min: 1_000_000_000, max: 4_000_000_000 }),
        fc.string({ unit: "grapheme", maxLength: 300 }),
        fc.string({ unit: "grapheme", minLength: 1, maxLength: 5 }),
        async (id, ts, body, extra) => {
          const headers = new Headers(
            await signatureHeaders({
              secrets: [secret],
              signingKeys: [current.signingKey, previous.signingKey],
              id,
              timestampSeconds: ts,
              body,
            }),
          );
          for (const set of [both, currentOnly, previousOnly]) expect(await verifyV1a(set, headers, body, Infinity)).toBe(true);
          expect(await verifyV1a(both, headers, body + extra, Infinity)).toBe(false);
          const later = new Headers(headers);
          later.set("webhook-timestamp", String(ts + 1));
          expect(await verifyV1a(both, later, body, Infinity)).toBe(false);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("GET /v1/webhooks/{id}/jwks.json", () => {
  it("names each key by its RFC 7638 thumbprint (RFC 8037 A.3's example key)", async () => {
    const x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    const whpk = "whpk_" + Uint8Array.fromBase64(x, { alphabet: "base64url" }).toBase64();
    expect(await jwkOf(whpk)).toEqual({
      kty: "OKP",
      crv: "Ed25519",
      x,
      kid: "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k",
      use: "sig",
      alg: "EdDSA",
    });
  });

  it("is public and cacheable: no key needed, cache-control and etag, If-None-Match answers 304, a rotation changes the etag", async () => {
    const ws = await createWorkspace();
    const hook = await createWebhook(ws.apiKey);
    const res = await call("GET", `/v1/webhooks/${hook.id}/jwks.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("public, max-age=300");
    const etag = res.headers.get("etag");
    expect(etag).toMatch(/^(W\/)?".+"$/);
    expect(Object.keys(res.json.keys[0]).sort()).toEqual(["alg", "crv", "kid", "kty", "use", "x"]);
    // With a key too (a workspace's own tools may send one), the same answer.
    expect((await call("GET", `/v1/webhooks/${hook.id}/jwks.json`, { key: ws.apiKey })).json).toEqual(res.json);
    const again = await call("GET", `/v1/webhooks/${hook.id}/jwks.json`, { headers: { "if-none-match": etag! } });
    expect(again.status).toBe(304);
    expect(again.text).toBe("");
    await call("POST", `/v1/webhooks/${hook.id}/rotate-secret`, { key: ws.apiKey });
    const changed = await call("GET", `/v1/webhooks/${hook.id}/jwks.json`, { headers: { "if-none-match": etag! } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get("etag")).not.toBe(etag);
    expect(changed.json.keys).toHaveLength(2);
  });

  it("answers 404 in the error model for an unknown or deleted webhook, and the rest of /v1/webhooks still needs a key", async () => {
    const ws = await createWorkspace();
    const hook = await createWebhook(ws.apiKey);
    const unknown = await call("GET", "/v1/webhooks/wh_01jd8x6m3q7v9c2k4n5p6r7s8t/jwks.json");
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe("not_found");
    // Cached briefly too (docs/signatures.md "Fetching the keys"): the same unknown id reads D1 once a minute at most.
    expect(unknown.headers.get("cache-control")).toBe("public, max-age=60");
    expect((await call("DELETE", `/v1/webhooks/${hook.id}`, { key: ws.apiKey })).status).toBe(204);
    expect((await call("GET", `/v1/webhooks/${hook.id}/jwks.json`)).status).toBe(404);
    for (const path of [`/v1/webhooks/${hook.id}`, `/v1/webhooks/${hook.id}/jwks`, `/v1/webhooks/${hook.id}/jwks.json/x`, "/v1/webhooks"]) {
      expect((await call("GET", path)).status).toBe(401);
    }
  });
});

describe("the private key", () => {
  it("appears in no API answer, page or log line: only the public key is shown", async () => {
    const logged: string[] = [];
    for (const level of ["log", "info", "warn", "error", "debug"] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(" ")));
    }
    const ws = await createWorkspace();
    const ep = endpoint();
    const hook = await createWebhook(ws.apiKey, { url: ep.url, events: ["message.received"] });
    const answers: string[] = [JSON.stringify(hook)];
    await sendEvent(ws.apiKey, { type: "message.received", data: {} });
    await ep.waitFor(1);
    const rotated = await call("POST", `/v1/webhooks/${hook.id}/rotate-secret`, { key: ws.apiKey });
    await call("POST", `/v1/webhooks/${hook.id}/test`, { key: ws.apiKey });
    const [{ id: eventId }] = (await call("GET", `/v1/webhooks/${hook.id}/deliveries`, { key: ws.apiKey })).json.data;
    for (const path of [
      `/v1/webhooks/${hook.id}`,
      "/v1/webhooks",
      `/v1/webhooks/${hook.id}/deliveries`,
      `/v1/webhooks/${hook.id}/deliveries/${eventId}`,
      `/v1/webhooks/${hook.id}/jwks.json`,
    ]) {
      answers.push((await call("GET", path, { key: ws.apiKey })).text);
    }
    answers.push(rotated.text, (await call("PATCH", `/v1/webhooks/${hook.id}`, { key: ws.apiKey, body: { description: "x" } })).text);
    const cookie = await signIn(ws.apiKey);
    for (const path of ["/settings/integrations/webhooks", `/settings/integrations/webhooks/${hook.id}`]) {
      const res = await page("GET", path, { cookie });
      expect(res.status).toBe(200);
      answers.push(res.html);
    }
    // The webhook's page shows the public key and where the JWKS is; with verification off, no Verify button.
    expect(answers.at(-1)).toContain(rotated.json.publicKey);
    expect(answers.at(-1)).toContain(`href="/v1/webhooks/${hook.id}/jwks.json"`);
    expect(answers.at(-1)).not.toContain("/verify");
    // What the receiver got, too: headers and bodies.
    answers.push(JSON.stringify(await ep.requests()));

    // The private keys as D1 holds them (sealed), opened here to search for them in clear.
    const stored = async () => {
      const row = (await env.DB.prepare("SELECT signing_key, previous_signing_key FROM webhooks WHERE id = ?")
        .bind(hook.id)
        .first<{ signing_key: string; previous_signing_key: string }>())!;
      return { signing_key: await open(env, row.signing_key), previous_signing_key: await open(env, row.previous_signing_key) };
    };
    const first = await stored();
    // A rotation through the pages: the page that shows the new secret shows the public key, not the private one.
    const secretPage = await page("POST", `/settings/integrations/webhooks/${hook.id}/rotate-secret`, {
      cookie,
      form: { back: "/settings/integrations/webhooks" },
    });
    expect(secretPage.status).toBe(200);
    answers.push(secretPage.html);
    const second = await stored();
    expect(secretPage.html).toContain((await call("GET", `/v1/webhooks/${hook.id}`, { key: ws.apiKey })).json.publicKey);
    const privateKeys = [...new Set([first.signing_key, first.previous_signing_key, second.signing_key, second.previous_signing_key])];
    expect(privateKeys).toHaveLength(3);
    expect(privateKeys.every((k) => k.startsWith("whsk_"))).toBe(true);
    const everything = [...answers, ...logged].join("\n");
    expect(everything).toContain(rotated.json.publicKey);
    expect(everything).not.toContain("whsk_");
    for (const key of privateKeys) {
      const der = key.slice("whsk_".length);
      // The whole key, and its 32-byte seed (the last 32 bytes of its PKCS #8 form) in either base64 alphabet.
      const seed = Uint8Array.fromBase64(der).slice(-32);
      for (const form of [der, seed.toBase64(), seed.toBase64({ alphabet: "base64url", omitPadding: true }), seed.toHex()]) {
        expect(everything).not.toContain(form);
      }
    }
    vi.restoreAllMocks();
  });
});

describe("endpoint verification off (the default)", () => {
  it("changes nothing: a webhook counts as verified from when its url is set, events flow at once, and /verify answers 409", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    const hook = await createWebhook(ws.apiKey, { url: ep.url, events: ["message.received"] });
    expect(hook.verifiedAt).toBe(hook.createdAt);
    await sendEvent(ws.apiKey, { type: "message.received", data: {} });
    const [first] = await ep.waitFor(1);
    expect(JSON.parse(first!.body).event_type).toBe("message.received");
    const moved = await call("PATCH", `/v1/webhooks/${hook.id}`, { key: ws.apiKey, body: { url: `${ep.url}?moved` } });
    expect(moved.json.verifiedAt).toBe(moved.json.updatedAt);
    const refused = await call("POST", `/v1/webhooks/${hook.id}/verify`, { key: ws.apiKey });
    expect([refused.status, refused.json.error.code]).toEqual([409, "verification_not_required"]);
    expect((await call("POST", "/v1/webhooks/wh_missing/verify", { key: ws.apiKey })).status).toBe(404);
  });
});

describe("/openapi.json", () => {
  it("documents publicKey, verifiedAt, the public JWKS route and POST /verify", async () => {
    const doc = (await call("GET", "/openapi.json")).json;
    expect(Object.keys(doc.components.schemas.Webhook.properties)).toEqual(expect.arrayContaining(["publicKey", "verifiedAt"]));
    const jwksRoute = doc.paths["/v1/webhooks/{id}/jwks.json"].get;
    expect(jwksRoute.security).toEqual([]);
    expect(Object.keys(jwksRoute.responses)).toEqual(expect.arrayContaining(["200", "304", "404"]));
    expect(doc.components.schemas.Jwks).toBeDefined();
    expect(Object.keys(doc.paths["/v1/webhooks/{id}/verify"].post.responses)).toEqual(expect.arrayContaining(["200", "404", "409"]));
    expect(JSON.stringify(doc)).not.toContain("signingKey");
  });
});
