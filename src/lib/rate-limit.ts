// The Workers Rate Limiting bindings (wrangler.toml [[ratelimits]]), how long a refused caller should wait, and the
// memory of addresses over a failure limit (whose next attempts are refused before anything is looked up).
import ipaddr from "ipaddr.js";
import type { Env } from "../env";

/**
 * Each limiter's period in seconds, as declared in wrangler.toml (a test checks they agree): the binding does not
 * say when its window ends, so a refused caller is told to wait one whole period, which is never too soon.
 */
export const LIMITER_PERIOD_SECONDS = {
  INGEST_LIMITER: 10,
  INGEST_EVENTS_LIMITER: 10,
  SIGN_IN_LIMITER: 60,
  JWKS_LIMITER: 60,
  PUBLIC_LIMITER: 60,
  ADMIN_LIMITER: 60,
} as const;

export type LimiterName = keyof typeof LIMITER_PERIOD_SECONDS;

/**
 * Counts one request for `key`; returns the seconds to wait when over the limit, otherwise undefined. A binding
 * that is missing or fails lets the request through: the limits protect the service, they must not take it down.
 */
export async function retryAfterSeconds(env: Env, name: LimiterName, key: string): Promise<number | undefined> {
  const limiter = env[name];
  if (!limiter) return undefined;
  try {
    const { success } = await limiter.limit({ key });
    return success ? undefined : LIMITER_PERIOD_SECONDS[name];
  } catch (err) {
    console.error(`${name} failed; the request is let through:`, err);
    return undefined;
  }
}

/** How many events one unit of INGEST_EVENTS_LIMITER stands for (the binding counts one per call). */
export const EVENTS_PER_UNIT = 10;

/**
 * Counts `events` events of a batch for `key` on INGEST_EVENTS_LIMITER, one call per unit of EVENTS_PER_UNIT (at most
 * 10 calls for the largest batch); the seconds to wait when that put the workspace over its limit.
 */
export async function eventsRetryAfterSeconds(env: Env, key: string, events: number): Promise<number | undefined> {
  const units = Math.ceil(events / EVENTS_PER_UNIT);
  const waits = await Promise.all(Array.from({ length: units }, () => retryAfterSeconds(env, "INGEST_EVENTS_LIMITER", key)));
  return waits.find((wait) => wait !== undefined);
}

/**
 * The key a per-address limit counts: the client's address as Cloudflare gives it (cf-connecting-ip), except that an
 * IPv6 address counts as its /64, the block one subscriber gets (else one client could take a fresh address per
 * request). IPv4 inside IPv6 counts as the IPv4 address. "unknown" when absent (local tools), all sharing one count.
 */
export function clientAddress(headers: { header(name: string): string | undefined }): string {
  const raw = headers.header("cf-connecting-ip")?.trim();
  if (!raw) return "unknown";
  if (!ipaddr.isValid(raw)) return raw;
  const address = ipaddr.process(raw);
  if (address.kind() === "ipv4") return address.toString();
  const parts = (address as ipaddr.IPv6).parts;
  return `${new ipaddr.IPv6([...parts.slice(0, 4), 0, 0, 0, 0]).toString()}/64`;
}

/**
 * Limits on failures rather than requests (a wrong admin token, an unknown API key or poll token): only a failure
 * is counted, so callers that succeed are never slowed, and an address found over the limit is remembered in this
 * isolate until its period ends, so its next attempts are refused before the credential is checked or looked up
 * (counting alone would still answer every guess). Other isolates learn it at the address's next failure there.
 */
export function failureLimit(name: LimiterName, size = 10_000) {
  const blockedUntil = new Map<string, number>();
  return {
    /** Seconds until `address` may try again, if it is over the limit; undefined otherwise. */
    blocked(address: string, now = Date.now()): number | undefined {
      const until = blockedUntil.get(address);
      if (until === undefined) return undefined;
      if (until <= now) {
        blockedUntil.delete(address);
        return undefined;
      }
      return Math.ceil((until - now) / 1000);
    },
    /** Counts a failure of `address`; returns the seconds to wait when that put it over the limit. */
    async failed(env: Env, address: string, now = Date.now()): Promise<number | undefined> {
      const wait = await retryAfterSeconds(env, name, address);
      if (wait === undefined) return undefined;
      blockedUntil.delete(address);
      if (blockedUntil.size >= size) blockedUntil.delete(blockedUntil.keys().next().value!);
      blockedUntil.set(address, now + wait * 1000);
      return wait;
    },
  };
}
