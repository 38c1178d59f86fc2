// An in-isolate cache of API-key lookups, so authenticating a request needs no D1 query: a hit is served from memory
// for at most KEY_CACHE_TTL_MS, a miss (an unknown or revoked key, or poll token) for NEGATIVE_TTL_MS. Hits and
// misses are kept apart, each with its own bound, so a flood of made-up keys can never push a good key out.
import type { ApiKeyRow, WorkspaceRow } from "../db/schema";

/** A revocation made through another isolate stops a cached key within this time (README "Auth"). */
export const KEY_CACHE_TTL_MS = 30_000;
/** An unknown key is refused from memory for this long, so repeating it cannot reach D1 more than once in it. */
export const NEGATIVE_TTL_MS = 10_000;
/** At most this many known keys per isolate; the oldest entry goes first. */
export const KEY_CACHE_SIZE = 10_000;
/** At most this many recent misses per isolate (keys and poll tokens together); the oldest goes first. */
export const MISS_CACHE_SIZE = 10_000;

export interface ActiveKey {
  key: ApiKeyRow;
  workspace: WorkspaceRow;
}

const known = new Map<string, { found: ActiveKey; expires: number }>();
const misses = new Map<string, number>();

/** Adds to a map bounded at `size`, dropping its oldest entry first (a Map iterates in insertion order). */
function putBounded<V>(map: Map<string, V>, size: number, key: string, value: V): void {
  map.delete(key);
  if (map.size >= size) map.delete(map.keys().next().value!);
  map.set(key, value);
}

/** Whether this credential hash was looked up and not found within NEGATIVE_TTL_MS. */
export function recentMiss(hash: string, now = Date.now()): boolean {
  const expires = misses.get(hash);
  if (expires === undefined) return false;
  if (expires > now) return true;
  misses.delete(hash);
  return false;
}

/** Remembers that this credential hash is unknown, for NEGATIVE_TTL_MS. */
export function rememberMiss(hash: string, now = Date.now()): void {
  putBounded(misses, MISS_CACHE_SIZE, hash, now + NEGATIVE_TTL_MS);
}

/** The cached lookup of a key hash: `{ found }` while fresh (found undefined = refused), undefined on a miss. */
export function cachedKey(hash: string, now = Date.now()): { found: ActiveKey | undefined } | undefined {
  if (recentMiss(hash, now)) return { found: undefined };
  const entry = known.get(hash);
  if (!entry) return undefined;
  if (entry.expires <= now) {
    known.delete(hash);
    return undefined;
  }
  return { found: entry.found };
}

export function cacheKey(hash: string, found: ActiveKey | undefined, now = Date.now()): void {
  if (!found) {
    known.delete(hash);
    rememberMiss(hash, now);
    return;
  }
  misses.delete(hash);
  putBounded(known, KEY_CACHE_SIZE, hash, { found, expires: now + KEY_CACHE_TTL_MS });
}

/** A key revoked in this isolate stops here at once. */
export function forgetKey(keyId: string): void {
  for (const [hash, entry] of known) if (entry.found.key.id === keyId) known.delete(hash);
}

/** A workspace changed in this isolate: its keys are looked up again, so no stale copy of it is served. */
export function forgetWorkspace(workspaceId: string): void {
  for (const [hash, entry] of known) if (entry.found.workspace.id === workspaceId) known.delete(hash);
}
