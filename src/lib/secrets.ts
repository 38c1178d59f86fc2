// Generation and hashing of the credentials the service hands out: API keys and signing secrets.

const KEY_PREFIX = "whk_";
/** How much of a key stays visible (`whk_` + 8 characters) so people can tell keys apart. */
const VISIBLE_KEY_CHARS = KEY_PREFIX.length + 8;

function randomBytes(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length));
}

function base64url(bytes: Uint8Array): string {
  return bytes.toBase64({ alphabet: "base64url", omitPadding: true });
}

export interface NewApiKey {
  apiKey: string;
  prefix: string;
  hash: string;
}

/** A new workspace API key: 192 random bits, shown once, stored only as its hash. */
export async function newApiKey(): Promise<NewApiKey> {
  const apiKey = KEY_PREFIX + base64url(randomBytes(24));
  return { apiKey, prefix: apiKey.slice(0, VISIBLE_KEY_CHARS), hash: await hashApiKey(apiKey) };
}

/**
 * Whether a string could be an API key at all: the prefix, then 32 (what newApiKey makes) to 64 base64url
 * characters (the dev workspace's key is longer). Anything else is refused without hashing it or asking D1.
 */
export function looksLikeApiKey(value: string): boolean {
  return /^whk_[A-Za-z0-9_-]{32,64}$/.test(value);
}

/** SHA-256 (hex) of a key. Keys are long random strings, so a fast unsalted hash is the norm (Stripe, GitHub). */
export async function hashApiKey(apiKey: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(apiKey));
  return new Uint8Array(digest).toHex();
}

/** A Standard Webhooks signing secret: `whsec_` + base64 of 24 random bytes. */
export function newSigningSecret(): string {
  return "whsec_" + randomBytes(24).toBase64();
}

/** Compares two strings in time independent of where they differ. */
export async function timingSafeEqualStrings(a: string, b: string): Promise<boolean> {
  const encoder = new TextEncoder();
  const [da, db] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(a)),
    crypto.subtle.digest("SHA-256", encoder.encode(b)),
  ]);
  return crypto.subtle.timingSafeEqual(da, db);
}

export interface SigningKeyPair {
  /** The Ed25519 private key: `whsk_` + base64 of its PKCS #8 form. Never leaves the service. */
  signingKey: string;
  /** The Ed25519 public key: `whpk_` + base64 of its raw 32 bytes (Standard Webhooks' format). */
  publicKey: string;
}

/** A new Ed25519 key pair for Standard Webhooks' asymmetric scheme (`v1a`). */
export async function newSigningKeyPair(): Promise<SigningKeyPair> {
  const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const [pkcs8, raw] = await Promise.all([
    crypto.subtle.exportKey("pkcs8", pair.privateKey),
    crypto.subtle.exportKey("raw", pair.publicKey),
  ]);
  return {
    signingKey: "whsk_" + new Uint8Array(pkcs8 as ArrayBuffer).toBase64(),
    publicKey: "whpk_" + new Uint8Array(raw as ArrayBuffer).toBase64(),
  };
}

/** What every poll token starts with, so the API can tell it from an API key before looking either up. */
export const POLL_TOKEN_PREFIX = "whpoll_";

/** Whether a string could be a poll token: the prefix and exactly what newPollToken makes (32 base64url characters). */
export function looksLikePollToken(value: string): boolean {
  return /^whpoll_[A-Za-z0-9_-]{32}$/.test(value);
}

/** A polling webhook's token (docs/polling.md): 192 random bits, shown once, stored only as its hash (hashApiKey). */
export async function newPollToken(): Promise<{ token: string; hash: string }> {
  const token = POLL_TOKEN_PREFIX + base64url(randomBytes(24));
  return { token, hash: await hashApiKey(token) };
}
