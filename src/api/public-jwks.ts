// The public JWKS answers (a webhook's, a workspace's alerts'), cheap and bounded for anyone who calls them without a
// key: served from the Workers Cache API (caches.default) of the location, and only a miss reads D1, at most
// JWKS_LIMITER's limit per client address (docs/signatures.md "Fetching the keys").
import type { Context } from "hono";
import { jwksOf } from "../lib/jwks";
import { clientAddress, retryAfterSeconds } from "../lib/rate-limit";
import { publicKeysInForce } from "../lib/rotation";
import type { AppEnv } from "./context";
import { errorBody, errorResponse, errorResponses, rateLimited } from "./errors";
import { jsonResponse } from "./openapi";
import { JwksSchema } from "./webhooks/schemas";

/**
 * How long a receiver, a cache between, or this service's own cache may keep the set. Short, yet safe at any length
 * under the 24 h grace: after a rotation the old key keeps signing beside the new one, so a set fetched before it
 * still verifies. (After the grace a stale set only still lists a key that no longer signs: harmless.)
 */
export const JWKS_MAX_AGE_SECONDS = 300;

/**
 * An unknown id's 404 is cached too, more briefly: the same unknown id then reads D1 once a minute per location, and a
 * workspace whose alertUrl is set for the first time has its alerts JWKS (404 until then) forgotten here at once.
 */
export const JWKS_NOT_FOUND_MAX_AGE_SECONDS = 60;

/** The caching and rate limit of every public JWKS route, for its OpenAPI description. */
export const JWKS_DESCRIPTION =
  "Each `kid` is the key's RFC 7638 thumbprint. Cacheable " +
  `(\`cache-control: public, max-age=${JWKS_MAX_AGE_SECONDS}\`, \`etag\`; \`If-None-Match\` answers 304); served from Cloudflare's cache, ` +
  "so a set may be up to that old, which the 24 h rotation grace makes safe. An unknown id is cached for " +
  `${JWKS_NOT_FOUND_MAX_AGE_SECONDS} s. Requests that miss the cache count against JWKS_LIMITER per client address: over it, ` +
  "429 `rate_limited` with Retry-After. See docs/signatures.md.";

/** The answers of every public JWKS route, for its OpenAPI definition. */
export const JWKS_RESPONSES = {
  200: jsonResponse(JwksSchema, "The keys in force"),
  304: { description: "Not modified (If-None-Match)" },
  ...errorResponses(404, 429),
};

/**
 * On the cached copy only: when (unix ms, the Worker's clock) the set changes by itself because a rotation's grace
 * ends. A hit at or after it is a miss, so the cache never serves a set past the moment it changes.
 */
const CHANGES_AT = "x-jwks-changes-at";

/** The keys columns of one owner (a webhook, or a workspace's alerts), as publicKeysInForce reads them. */
export interface PublishedKeys {
  publicKey: string;
  previousPublicKey: string | null;
  previousSecretExpiresAt: number | null;
}

/** One cache entry per path: a query string cannot make a request miss on purpose. */
function cacheKey(url: string): Request {
  const { origin, pathname } = new URL(url);
  return new Request(origin + pathname);
}

/** Runs `work` after the answer (waitUntil), or before it where there is no execution context. */
async function afterwards(c: Context<AppEnv>, work: Promise<unknown>): Promise<void> {
  const safe = work.catch((err) => console.error("JWKS cache:", err));
  try {
    c.executionCtx.waitUntil(safe);
  } catch {
    await safe;
  }
}

/**
 * The JWK Set at the request's path: from the cache when it holds a current copy; else, unless this client address is
 * over JWKS_LIMITER (429 `rate_limited`, Retry-After), from `load` (D1), stored for the next request. `load` answering
 * undefined is the 404 `not_found` with `notFound` as message, cached briefly too.
 */
export async function publicJwks(c: Context<AppEnv>, load: () => Promise<PublishedKeys | undefined>, notFound: string): Promise<Response> {
  const key = cacheKey(c.req.url);
  const cache = caches.default;
  const hit = await cache.match(key);
  if (hit) {
    const changesAt = Number(hit.headers.get(CHANGES_AT) ?? Infinity);
    if (Date.now() < changesAt) {
      const res = new Response(hit.body, hit);
      res.headers.delete(CHANGES_AT);
      return res;
    }
    await hit.body?.cancel();
  }
  const wait = await retryAfterSeconds(c.env, "JWKS_LIMITER", clientAddress(c.req));
  if (wait !== undefined) {
    return errorResponse(c, rateLimited("too many key set requests from this address", wait), { "cache-control": "no-store" });
  }
  const keys = await load();
  const now = Date.now();
  const res = keys
    ? c.json(await jwksOf(publicKeysInForce(keys, now)), 200, {
        "cache-control": `public, max-age=${JWKS_MAX_AGE_SECONDS}`,
        "access-control-allow-origin": "*",
      })
    : c.json(errorBody("not_found", notFound), 404, {
        "cache-control": `public, max-age=${JWKS_NOT_FOUND_MAX_AGE_SECONDS}`,
        "access-control-allow-origin": "*",
      });
  const stored = res.clone();
  const graceEnds = keys?.previousPublicKey ? keys.previousSecretExpiresAt : null;
  if (graceEnds !== null && now < graceEnds) stored.headers.set(CHANGES_AT, String(graceEnds));
  await afterwards(c, cache.put(key, stored));
  return res;
}

/** Drops the cached set at `path` (this location, this hostname) after its keys changed; elsewhere it ages out. */
export function forgetJwks(c: Context<AppEnv>, path: string): Promise<void> {
  return afterwards(c, caches.default.delete(cacheKey(new URL(path, c.req.url).href)));
}
