// Identifiers: a type prefix and a ULID, so ids say what they are and sort by creation time.
import { ulid } from "ulidx";

/**
 * The random part of every ULID here: crypto-strong values drawn from a pool filled 256 at a time. ulidx's own
 * generator asks crypto.getRandomValues for one byte per character, 16 calls per id, which a profile of
 * ingestion showed as a few percent of its CPU.
 */
const pool = new Uint32Array(256);
let drawn = pool.length;
export function pooledRandom(): number {
  if (drawn === pool.length) {
    crypto.getRandomValues(pool);
    drawn = 0;
  }
  return pool[drawn++]! / 0x1_0000_0000;
}

export type IdPrefix = "ws" | "key" | "wh" | "evt" | "ses";

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${ulid(undefined, pooledRandom).toLowerCase()}`;
}

/**
 * An event id derived from `parts` (the first 26 hex digits of the SHA-256 of them, one per line): the same parts
 * always give the same id, so what is sent twice (an idempotency key, an alert raised again) is stored once.
 */
export async function derivedEventId(...parts: string[]): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(parts.join("\n")));
  return `evt_${new Uint8Array(digest).toHex().slice(0, 26)}`;
}
