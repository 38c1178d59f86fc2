// Verifies a delivery's `v1a` signature with WebCrypto (Workers, Deno, browsers, Node) and the webhook's JWKS (docs/signatures.md).

/**
 * True when a `v1a` entry of `webhook-signature` is an Ed25519 signature of `<webhook-id>.<webhook-timestamp>.<body>`
 * by a key of `jwks` (GET /v1/webhooks/{id}/jwks.json), and the timestamp is within `toleranceSeconds` of now.
 * `headers` is a Headers object (request.headers); `body` is the raw body as received (await request.text()).
 */
export async function verifyV1a(jwks, headers, body, toleranceSeconds = 300) {
  const id = headers.get("webhook-id");
  const timestamp = headers.get("webhook-timestamp") ?? "";
  if (!id || !/^\d+$/.test(timestamp)) return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > toleranceSeconds) return false;
  const signatures = (headers.get("webhook-signature") ?? "")
    .split(" ")
    .filter((entry) => entry.startsWith("v1a,"))
    .map((entry) => Uint8Array.from(atob(entry.slice("v1a,".length)), (c) => c.charCodeAt(0)));
  const signed = new TextEncoder().encode(`${id}.${timestamp}.${body}`);
  for (const jwk of jwks.keys) {
    const key = await crypto.subtle.importKey("jwk", jwk, { name: "Ed25519" }, false, ["verify"]);
    for (const signature of signatures) {
      if (await crypto.subtle.verify("Ed25519", key, signature, signed)) return true;
    }
  }
  return false;
}
