// Verifies a delivery's `v1a` signature with Node's crypto and the webhook's JWKS (docs/signatures.md).
import { createPublicKey, verify } from "node:crypto";

/**
 * True when a `v1a` entry of `webhook-signature` is an Ed25519 signature of `<webhook-id>.<webhook-timestamp>.<body>`
 * by a key of `jwks` (GET /v1/webhooks/{id}/jwks.json), and the timestamp is within `toleranceSeconds` of now.
 * `headers` has lowercase names (as Node's req.headers); `body` is the raw body as received, not re-serialised JSON.
 */
export function verifyV1a(jwks, headers, body, toleranceSeconds = 300) {
  const id = headers["webhook-id"];
  const timestamp = headers["webhook-timestamp"];
  if (!id || !/^\d+$/.test(timestamp ?? "")) return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > toleranceSeconds) return false;
  const signatures = (headers["webhook-signature"] ?? "")
    .split(" ")
    .filter((entry) => entry.startsWith("v1a,"))
    .map((entry) => Buffer.from(entry.slice("v1a,".length), "base64"));
  const signed = Buffer.from(`${id}.${timestamp}.${body}`);
  return jwks.keys.some((jwk) => {
    const key = createPublicKey({ key: jwk, format: "jwk" });
    return signatures.some((signature) => verify(null, signed, key, signature));
  });
}
