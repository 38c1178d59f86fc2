// The signature schemes a receiver can verify: Standard Webhooks (`webhook-*` headers: HMAC `v1` and Ed25519 `v1a`)
// and respond.io's `x-webhook-signature`.
import { memoized } from "../lib/memo";

const encoder = new TextEncoder();
const keyCache = new Map<string, Promise<CryptoKey>>();
const ed25519KeyCache = new Map<string, Promise<CryptoKey>>();

/** The HMAC key for `cacheKey`, imported once per isolate from the bytes `raw()` gives (only on a miss). */
function hmacKey(raw: () => Uint8Array, cacheKey: string): Promise<CryptoKey> {
  return memoized(keyCache, cacheKey, () => crypto.subtle.importKey("raw", raw(), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]));
}

async function hmacBase64(raw: () => Uint8Array, cacheKey: string, message: string | Uint8Array): Promise<string> {
  const bytes = typeof message === "string" ? encoder.encode(message) : message;
  const signature = await crypto.subtle.sign("HMAC", await hmacKey(raw, cacheKey), bytes);
  return new Uint8Array(signature).toBase64();
}

/** What both Standard Webhooks schemes sign: `id.timestamp.body`, encoded once for every signature of an attempt. */
const signedContent = (id: string, timestampSeconds: number, body: string) => encoder.encode(`${id}.${timestampSeconds}.${body}`);

/** The key bytes of a Standard Webhooks secret: the base64-decoded part of `whsec_…`. */
const standardKeyBytes = (secret: string) => () => Uint8Array.fromBase64(secret.replace(/^whsec_/, ""));

/** Standard Webhooks: HMAC-SHA256 keyed with the base64-decoded part of `whsec_…`, over `id.timestamp.body`. */
export function standardSignature(secret: string, id: string, timestampSeconds: number, body: string): Promise<string> {
  return standardOf(secret, signedContent(id, timestampSeconds, body));
}

const standardOf = (secret: string, content: Uint8Array) =>
  hmacBase64(standardKeyBytes(secret), `sw:${secret}`, content).then((sig) => `v1,${sig}`);

/**
 * Standard Webhooks' endpoint-verification answer to `challenge` (what `standardwebhooks` >= 1.3
 * `endpointVerificationResponse` computes): `v1,` + base64 HMAC-SHA256(K, challenge), K = HMAC-SHA256(key, "wev-v1").
 */
export async function endpointVerificationResponse(secret: string, challenge: string): Promise<string> {
  const derived = new Uint8Array(
    await crypto.subtle.sign("HMAC", await hmacKey(standardKeyBytes(secret), `sw:${secret}`), encoder.encode("wev-v1")),
  );
  return `v1,${await hmacBase64(() => derived, `wev:${secret}`, challenge)}`;
}

/** respond.io: HMAC-SHA256 keyed with the secret string as given, over the raw body. */
export function respondIoSignature(secret: string, body: string): Promise<string> {
  return hmacBase64(() => encoder.encode(secret), `rio:${secret}`, body);
}

/** The Ed25519 private key `whsk_…` (PKCS #8, secrets.ts), imported once per isolate. */
function ed25519Key(signingKey: string): Promise<CryptoKey> {
  return memoized(ed25519KeyCache, signingKey, () =>
    crypto.subtle.importKey("pkcs8", Uint8Array.fromBase64(signingKey.replace(/^whsk_/, "")), { name: "Ed25519" }, false, ["sign"]),
  );
}

/** Standard Webhooks' asymmetric scheme: Ed25519 over `id.timestamp.body` (signedContent), checked with the `whpk_` public key alone. */
async function asymmetricSignature(signingKey: string, content: Uint8Array): Promise<string> {
  const signature = await crypto.subtle.sign("Ed25519", await ed25519Key(signingKey), content);
  return `v1a,${new Uint8Array(signature).toBase64()}`;
}

export interface SigningInput {
  /** Signing secrets, current first; during a rotation the previous one signs too. */
  secrets: readonly string[];
  /** Ed25519 private keys, current first, by the same rule (rotation.ts signersAt); none for a lane without. */
  signingKeys?: readonly string[];
  id: string;
  timestampSeconds: number;
  body: string;
}

export async function signatureHeaders({
  secrets,
  signingKeys = [],
  id,
  timestampSeconds,
  body,
}: SigningInput): Promise<Record<string, string>> {
  const [current] = secrets;
  if (!current) throw new Error("a webhook needs a signing secret");
  const content = signedContent(id, timestampSeconds, body);
  const [respondIo, ...standard] = await Promise.all([
    respondIoSignature(current, body),
    ...secrets.map((secret) => standardOf(secret, content)),
    ...signingKeys.map((key) => asymmetricSignature(key, content)),
  ]);
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestampSeconds),
    // `v1,…` entries first, then `v1a,…`: a verifier takes the entries of its own scheme and ignores the rest.
    "webhook-signature": standard.join(" "),
    "x-webhook-signature": respondIo!,
  };
}
