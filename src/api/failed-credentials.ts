// The per-address limits on failed credentials, shared by API keys, poll tokens and the admin token, and their 429.
import type { Context } from "hono";
import { failureLimit } from "../lib/rate-limit";
import { errorResponse, rateLimited } from "./errors";

/** Unknown API keys and poll tokens (looked up in D1 and not found), per client address: PUBLIC_LIMITER. */
export const unknownCredentials = failureLimit("PUBLIC_LIMITER");

/** Failed admin calls (a missing or wrong ADMIN_TOKEN), per client address: ADMIN_LIMITER. */
export const adminFailures = failureLimit("ADMIN_LIMITER");

/** The 429 for an address over a failure limit; `what` names what it failed with. */
export function tooManyFailures(c: Context, wait: number, what: string) {
  return errorResponse(c, rateLimited(`too many requests with ${what} from this address`, wait));
}
