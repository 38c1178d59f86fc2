// Envelope encryption of the secrets the service stores (signing secrets, Ed25519 private keys, custom headers):
// AES-256-GCM under the keys of the ENCRYPTION_KEYS secret, each stored value naming the key that sealed it.
import { ConfigError } from "../config";
import type { Env } from "../env";
import { memoized } from "./memo";

/** What every sealed value starts with: the format's version, then `<key id>:<base64 of IV || ciphertext || tag>`. */
const PREFIX = "enc:v1:";
const IV_BYTES = 12;
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

/** How to make a key, for the messages that say one is missing or malformed. */
export const MAKE_KEY =
  "make one with node -e \"console.log('k1:'+require('crypto').randomBytes(32).toString('base64'))\" " +
  "and store it with wrangler secret put ENCRYPTION_KEYS (docs/deploy.md)";

/** A value as stored: ciphertext naming its key id (or, written before encryption existed, the clear value). */
export type Sealed = string & { readonly __sealed: true };

interface KeyRing {
  /** The id of the key that seals new values: the first one listed. */
  current: string;
  keys: Map<string, Promise<CryptoKey>>;
}

/** One ring per value of ENCRYPTION_KEYS seen by this isolate: each key is imported once, not per call. */
const rings = new Map<string, KeyRing>();

/** Parses ENCRYPTION_KEYS (`<id>:<base64 of 32 bytes>`, comma-separated, first one current); ConfigError when malformed. */
export function parseKeys(raw: string | undefined): { id: string; bytes: Uint8Array }[] {
  if (raw === undefined || raw.trim() === "") throw new ConfigError(`ENCRYPTION_KEYS is not set: no secret can be stored; ${MAKE_KEY}`);
  const keys = raw.split(",").map((entry, i) => {
    const [id = "", key = "", ...rest] = entry.trim().split(":");
    let bytes: Uint8Array | undefined;
    try {
      bytes = Uint8Array.fromBase64(key);
    } catch {}
    if (!KEY_ID.test(id) || rest.length > 0 || bytes?.length !== 32) {
      // The value itself is never repeated: it is a secret.
      throw new ConfigError(
        `ENCRYPTION_KEYS entry ${i + 1} must be <key id>:<base64 of 32 random bytes> (id of letters, digits, - or _); ${MAKE_KEY}`,
      );
    }
    return { id, bytes };
  });
  const ids = keys.map((k) => k.id);
  const twice = ids.find((id, i) => ids.indexOf(id) !== i);
  if (twice) throw new ConfigError(`ENCRYPTION_KEYS names key id ${JSON.stringify(twice)} twice`);
  return keys;
}

function ring(env: Pick<Env, "ENCRYPTION_KEYS">): KeyRing {
  const raw = env.ENCRYPTION_KEYS ?? "";
  return memoized(rings, raw, () => {
    const keys = parseKeys(raw);
    const imported = keys.map(
      ({ id, bytes }) => [id, crypto.subtle.importKey("raw", bytes, "AES-GCM", false, ["encrypt", "decrypt"])] as const,
    );
    return { current: keys[0]!.id, keys: new Map(imported) };
  });
}

/** Throws ConfigError unless ENCRYPTION_KEYS is usable: the API checks it before anything is read or written. */
export function assertEncryptionKeys(env: Pick<Env, "ENCRYPTION_KEYS">): void {
  ring(env);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The value sealed under the current key, with a fresh IV; its key id is also authenticated (additional data). */
export async function seal(env: Pick<Env, "ENCRYPTION_KEYS">, plain: string): Promise<Sealed> {
  const { current, keys } = ring(env);
  const head = `${PREFIX}${current}:`;
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const data = encoder.encode(head);
  const ciphertext = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: data },
    await keys.get(current)!,
    encoder.encode(plain),
  );
  const out = new Uint8Array(IV_BYTES + ciphertext.byteLength);
  out.set(iv);
  out.set(new Uint8Array(ciphertext), IV_BYTES);
  return (head + out.toBase64()) as Sealed;
}

/** The key id a value names; null for a clear value written before encryption existed. */
export function keyIdOf(value: string): string | null {
  if (!value.startsWith(PREFIX)) return null;
  const end = value.indexOf(":", PREFIX.length);
  return end === -1 ? "" : value.slice(PREFIX.length, end);
}

/**
 * The clear value. One written before encryption existed is returned as it is (the re-encryption route seals
 * it); one under a key ENCRYPTION_KEYS no longer lists is a ConfigError; an altered one fails authentication.
 */
export async function open(env: Pick<Env, "ENCRYPTION_KEYS">, value: string): Promise<string> {
  const id = keyIdOf(value);
  if (id === null) return value;
  const key = ring(env).keys.get(id);
  if (!key) throw new ConfigError(`a stored value is sealed with key ${JSON.stringify(id)}, which ENCRYPTION_KEYS no longer lists`);
  const head = `${PREFIX}${id}:`;
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.fromBase64(value.slice(head.length));
  } catch {
    throw new Error("a stored sealed value is not base64");
  }
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: bytes.subarray(0, IV_BYTES), additionalData: encoder.encode(head) },
    await key,
    bytes.subarray(IV_BYTES),
  );
  return decoder.decode(plain);
}

/** open, with null kept null (an optional column). */
export function openNullable(env: Pick<Env, "ENCRYPTION_KEYS">, value: string | null): Promise<string | null> {
  return value === null ? Promise.resolve(null) : open(env, value);
}

/** Every value of `values` sealed (the fields a write stores), under the same names. */
export async function sealAll<K extends string>(env: Pick<Env, "ENCRYPTION_KEYS">, values: Record<K, string>): Promise<Record<K, Sealed>> {
  const entries = await Promise.all(Object.entries<string>(values).map(async ([k, v]) => [k, await seal(env, v)] as const));
  return Object.fromEntries(entries) as Record<K, Sealed>;
}

/** Whether the value is sealed with the current key (a clear one, or one under an older key, is not). */
export function underCurrentKey(env: Pick<Env, "ENCRYPTION_KEYS">, value: string): boolean {
  return keyIdOf(value) === ring(env).current;
}

/** The value sealed under the current key: as it is if it already is, else opened and sealed again. */
export async function reseal(env: Pick<Env, "ENCRYPTION_KEYS">, value: string): Promise<Sealed> {
  return underCurrentKey(env, value) ? (value as Sealed) : seal(env, await open(env, value));
}

/**
 * What every value sealed with the current key starts with, for SQL to count and select the others with
 * `substr(column, 1, length) <> prefix` (not LIKE, which ignores case and reads `_` as a wildcard).
 */
export function currentKeyPrefix(env: Pick<Env, "ENCRYPTION_KEYS">): string {
  return `${PREFIX}${ring(env).current}:`;
}

/** A webhook's custom headers are stored as one sealed JSON object: names too can tell things, and one open serves an attempt. */
export const sealHeaders = (env: Pick<Env, "ENCRYPTION_KEYS">, headers: Record<string, string>) => seal(env, JSON.stringify(headers));

export async function openHeaders(env: Pick<Env, "ENCRYPTION_KEYS">, value: string): Promise<Record<string, string>> {
  return JSON.parse(await open(env, value)) as Record<string, string>;
}
