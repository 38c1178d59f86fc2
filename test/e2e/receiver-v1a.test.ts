// `npm run receiver` checks `v1a` (Ed25519) with the public key alone: given as --public-key, read from a saved
// create/rotate response, or fetched from a JWKS URL (kept for its max-age; fetched again, at most every 10 s, when no key it holds verifies).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createHmac, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it } from "vitest";
import { startReceiverProcess, type ReceiverProcess } from "../support/node/receiver-process";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const jwk = publicKey.export({ format: "jwk" }) as { x: string };
  return {
    privateKey,
    jwk: { kty: "OKP", crv: "Ed25519", x: jwk.x, use: "sig" },
    whpk: "whpk_" + Buffer.from(jwk.x, "base64url").toString("base64"),
  };
}

let counter = 0;
/** A delivery as the lane sends it: v1 by the secret, v1a by each private key. */
function signed(keys: KeyObject[]) {
  const id = `evt_v1a_test_${++counter}`;
  return signedBody(JSON.stringify({ event_type: "message.received", event_id: id, timestamp: Date.now() }), keys, id);
}

function signedBody(body: string, keys: KeyObject[], id = `vrf_v1a_test_${++counter}`) {
  const now = new Date();
  const ts = String(Math.floor(now.getTime() / 1000));
  const v1a = keys.map((k) => `v1a,${sign(null, Buffer.from(`${id}.${ts}.${body}`), k).toString("base64")}`);
  const headers = {
    "content-type": "application/json",
    "webhook-id": id,
    "webhook-timestamp": ts,
    "webhook-signature": [new Webhook(SECRET).sign(id, now, body), ...v1a].join(" "),
    "x-webhook-signature": createHmac("sha256", SECRET).update(body).digest("base64"),
  };
  return { id, body, headers };
}

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  await Promise.all(cleanup.map((c) => c()));
  cleanup = [];
});

async function receiver(args: string[]): Promise<ReceiverProcess> {
  const r = await startReceiverProcess(args);
  cleanup.push(() => r.stop());
  return r;
}

async function post(r: ReceiverProcess, delivery: ReturnType<typeof signed>) {
  return (await fetch(r.url + "/hooks", { method: "POST", headers: delivery.headers, body: delivery.body })).status;
}

describe("npm run receiver: v1a", () => {
  it("verifies v1a with --public-key and prints which schemes passed; a wrong key or a changed body fails v1a", async () => {
    const [a, b] = [keyPair(), keyPair()];
    const r = await receiver(["--secret", SECRET, "--public-key", a.whpk]);
    const good = signed([a.privateKey]);
    expect(await post(r, good)).toBe(200);
    expect(await r.waitForLine(new RegExp(good.id))).toMatch(/attempt 1 {2}signature ok \(v1, respond\.io, v1a\) {2}→ 200$/);
    const other = signed([b.privateKey]);
    expect(await post(r, other)).toBe(401);
    expect(await r.waitForLine(new RegExp(other.id))).toContain("signature FAILED (standard webhooks ok, respond.io ok, v1a failed)");
    // With the public key alone (no secret), v1a is the one scheme checked.
    const keyOnly = await receiver(["--public-key", a.whpk]);
    const tampered = signed([a.privateKey]);
    tampered.body = tampered.body.replace("message.received", "message.sent");
    expect(await post(keyOnly, tampered)).toBe(401);
    expect(await keyOnly.waitForLine(new RegExp(tampered.id))).toContain("signature FAILED (v1a failed)");
    const plain = signed([a.privateKey]);
    expect(await post(keyOnly, plain)).toBe(200);
    expect(await keyOnly.waitForLine(new RegExp(plain.id))).toContain("signature ok (v1a)");
  });

  it("reads the publicKey from a saved create/rotate response; fetches --jwks once and keeps it (a rotation's old key still signs)", async () => {
    const [a, b] = [keyPair(), keyPair()];
    const dir = mkdtempSync(join(tmpdir(), "receiver-v1a-"));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, "wh.json");
    writeFileSync(file, JSON.stringify({ id: "wh_x", secret: SECRET, publicKey: a.whpk }));
    const fromFile = await receiver(["--secret-file", file]);
    const first = signed([a.privateKey]);
    expect(await post(fromFile, first)).toBe(200);
    expect(await fromFile.waitForLine(new RegExp(first.id))).toContain("signature ok (v1, respond.io, v1a)");

    let keys = [a.jwk];
    let fetches = 0;
    const jwks: Server = createServer((_req, res) => {
      fetches++;
      res.writeHead(200, { "content-type": "application/json", "cache-control": "public, max-age=300" }).end(JSON.stringify({ keys }));
    });
    await new Promise<void>((done) => jwks.listen(0, "127.0.0.1", done));
    cleanup.push(() => new Promise<void>((done) => jwks.close(() => done())));
    const url = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/v1/webhooks/wh_x/jwks.json`;
    const r = await receiver(["--jwks", url]);
    const byA = signed([a.privateKey]);
    expect(await post(r, byA)).toBe(200);
    expect(await r.waitForLine(new RegExp(byA.id))).toContain("signature ok (v1a)");
    expect(fetches).toBe(1);
    // A rotation: both keys sign; the cached set holds the old key, which still verifies without a fetch.
    keys = [b.jwk, a.jwk];
    const both = signed([b.privateKey, a.privateKey]);
    expect(await post(r, both)).toBe(200);
    expect(fetches).toBe(1);
  });

  it("answers an endpoint verification challenge whose signatures verify (v1 and v1a), and refuses one that does not", async () => {
    const a = keyPair();
    const r = await receiver(["--secret", SECRET, "--public-key", a.whpk]);
    const resigned = signedBody(JSON.stringify({ event_type: "endpoint.verification", challenge: "c-123_abc", timestamp: Date.now() }), [
      a.privateKey,
    ]);
    const headers = { ...resigned.headers, "webhook-challenge": "c-123_abc" };
    const ok = await fetch(r.url + "/hooks", { method: "POST", headers, body: resigned.body });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("webhook-challenge-response")).toBe(new Webhook(SECRET).endpointVerificationResponse("c-123_abc"));
    const forged = await fetch(r.url + "/hooks", {
      method: "POST",
      headers: { ...headers, "webhook-signature": "v1,AAAA v1a,AAAA" },
      body: resigned.body,
    });
    expect(forged.status).toBe(401);
    expect(forged.headers.get("webhook-challenge-response")).toBeNull();
  });
});
