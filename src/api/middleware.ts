// Request guards shared by every route: well-formed URLs, body size, JSON bodies, ingestion's rate limit, and 405 for
// a known path with the wrong method.
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { METHOD_NAME_ALL } from "hono/router";
import { TrieRouter } from "hono/router/trie-router";
import { malformedEscape } from "../lib/malformed-url";
import { retryAfterSeconds } from "../lib/rate-limit";
import type { AppEnv } from "./context";
import { ApiError, errorBody, errorResponse, rateLimited } from "./errors";

/** A URL with an escape that does not decode answers 400 malformed_url, before authentication or any route. */
export const refuseMalformedUrl: MiddlewareHandler<AppEnv> = async (c, next) => {
  const bad = malformedEscape(c.req.url);
  if (bad === undefined) return next();
  return c.json(
    errorBody("malformed_url", `the URL has a malformed percent-escape (${JSON.stringify(bad)}); escape "%" itself as %25`),
    400,
  );
};

export const MAX_BODY_BYTES = 256 * 1024;

export const limitBody = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: (c) => c.json(errorBody("payload_too_large", `request body must be at most ${MAX_BODY_BYTES / 1024} KiB`), 413),
});

const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;
const METHODS_WITH_BODY = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * A request that carries a body must say it is JSON (415 otherwise) and be valid JSON (400 otherwise).
 * The parsed body stays cached on the request for the route's validator (parsed once).
 */
export const requireJsonBody: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!METHODS_WITH_BODY.has(c.req.method)) return next();
  const contentType = c.req.header("content-type");
  const length = c.req.header("content-length");
  const hasBody = (length !== undefined && length !== "0") || c.req.header("transfer-encoding") !== undefined;
  if (!contentType) {
    if (hasBody) throw new ApiError("unsupported_media_type", "request body must be JSON; send content-type: application/json");
    return next();
  }
  const mediaType = contentType.split(";")[0]!.trim();
  if (!JSON_MEDIA_TYPE.test(mediaType)) {
    throw new ApiError("unsupported_media_type", `request body must be JSON (content-type: application/json), got ${mediaType}`);
  }
  const text = await c.req.text();
  if (text.trim() !== "") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new ApiError("malformed_json", `request body is not valid JSON: ${(err as Error).message}`);
    }
    // The route's validator reads c.req.json(): hand it this parse instead of a second one of the same text.
    c.req.bodyCache.json = Promise.resolve(parsed);
  }
  return next();
};

/** INGEST_LIMITER per workspace: runs after the key is checked, so it counts the caller's workspace, not an address. */
export const limitIngestion: MiddlewareHandler<AppEnv> = async (c, next) => {
  const wait = await retryAfterSeconds(c.env, "INGEST_LIMITER", c.get("workspace").id);
  if (wait === undefined) return next();
  return errorResponse(c, rateLimited("this workspace sends events faster than its ingestion limit allows", wait));
};

/** The methods a path answers to, from the registered routes; empty when the path is unknown. */
export function allowedMethods(routes: readonly { method: string; path: string }[]): (path: string) => string[] {
  let router: TrieRouter<string> | undefined;
  return (path) => {
    if (!router) {
      router = new TrieRouter<string>();
      for (const route of routes) {
        if (route.method !== METHOD_NAME_ALL) router.add(METHOD_NAME_ALL, route.path, route.method);
      }
    }
    const [matches] = router.match("GET", path);
    const methods = new Set(matches.map(([method]) => method));
    if (methods.has("GET")) methods.add("HEAD");
    return [...methods].sort();
  };
}
