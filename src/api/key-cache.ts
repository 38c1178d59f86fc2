// An in-isolate cache of API-key lookups, so authenticating a request needs no D1 query: a hit is served
// from memory for at most KEY_CACHE_TTL_MS, a miss (an unknown or revoked key) for NEGATIVE_TTL_MS.
import type { ApiKeyRow, WorkspaceRow } from "../db/schema";

/** A revocation made through another isolate stops a cached key within this time (README "Auth"). */
export const KEY_CACHE_TTL_MS = 30_000;
/** An unknown key is refused from memory for this long, so repeating it cannot reach D1 more than once in it. */
export const NEGATIVE_TTL_MS = 10_000;
/** At most this many keys per isolate; the oldest entry goes first. */
export const KEY_CACHE_SIZE = 10_000;

export interface ActiveKey {
  key: ApiKeyRow;
  workspace: WorkspaceRow;
}

const entries = new Map<string, { found: ActiveKey | undefined; expires: number }>();

/** The cached lookup of a key hash: `{ found }` while fresh (found undefined = refused), undefined on a miss. */
export function cachedKey(hash: string, now = Date.now()): { found: ActiveKey | undefined } | undefined {
  const entry = entries.get(hash);
  if (!entry) return undefined;
  if (entry.expires <= now) {
    entries.delete(hash);
    return undefined;
  }
  return { found: entry.found };
}

export function cacheKey(hash: string, found: ActiveKey | undefined, now = Date.now()): void {
  entries.delete(hash);
  if (entries.size >= KEY_CACHE_SIZE) entries.delete(entries.keys().next().value!);
  entries.set(hash, { found, expires: now + (found ? KEY_CACHE_TTL_MS : NEGATIVE_TTL_MS) });
}

/** A key revoked in this isolate stops here at once. */
export function forgetKey(keyId: string): void {
  for (const [hash, entry] of entries) if (entry.found?.key.id === keyId) entries.delete(hash);
}

/** A workspace changed in this isolate: its keys are looked up again, so no stale copy of it is served. */
export function forgetWorkspace(workspaceId: string): void {
  for (const [hash, entry] of entries) if (entry.found?.workspace.id === workspaceId) entries.delete(hash);
}
