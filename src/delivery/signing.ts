// Both signature schemes a receiver can verify: Standard Webhooks (`webhook-*` headers) and respond.io's `x-webhook-signature`.
import { memoized } from "../lib/memo";

const encoder = new TextEncoder();
const keyCache = new Map<string, Promise<CryptoKey>>();

/** The HMAC key for `cacheKey`, imported once per isolate from the bytes `raw()` gives (only on a miss). */
function hmacKey(raw: () => Uint8Array, cacheKey: string): Promise<CryptoKey> {
  return memoized(keyCache, cacheKey, () => crypto.subtle.importKey("raw", raw(), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]));
}

async function hmacBase64(raw: () => Uint8Array, cacheKey: string, message: string): Promise<string> {
  const signature = await crypto.subtle.sign("HMAC", await hmacKey(raw, cacheKey), encoder.encode(message));
  return new Uint8Array(signature).toBase64();
}

/** Standard Webhooks: HMAC-SHA256 keyed with the base64-decoded part of `whsec_…`, over `id.timestamp.body`. */
export function standardSignature(secret: string, id: string, timestampSeconds: number, body: string): Promise<string> {
  const raw = () => Uint8Array.fromBase64(secret.replace(/^whsec_/, ""));
  return hmacBase64(raw, `sw:${secret}`, `${id}.${timestampSeconds}.${body}`).then((sig) => `v1,${sig}`);
}

/** respond.io: HMAC-SHA256 keyed with the secret string as given, over the raw body. */
export function respondIoSignature(secret: string, body: string): Promise<string> {
  return hmacBase64(() => encoder.encode(secret), `rio:${secret}`, body);
}

export interface SigningInput {
  /** Signing secrets, current first; during a rotation the previous one signs too. */
  secrets: readonly string[];
  id: string;
  timestampSeconds: number;
  body: string;
}

export async function signatureHeaders({ secrets, id, timestampSeconds, body }: SigningInput): Promise<Record<string, string>> {
  const [current] = secrets;
  if (!current) throw new Error("a webhook needs a signing secret");
  const [respondIo, ...standard] = await Promise.all([
    respondIoSignature(current, body),
    ...secrets.map((secret) => standardSignature(secret, id, timestampSeconds, body)),
  ]);
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestampSeconds),
    "webhook-signature": standard.join(" "),
    "x-webhook-signature": respondIo!,
  };
}
