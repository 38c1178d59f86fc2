// The Workers Rate Limiting bindings (wrangler.toml [[ratelimits]]) and how long a refused caller should wait.
import type { Env } from "../env";

/**
 * Each limiter's period in seconds, as declared in wrangler.toml (a test checks they agree): the binding does not
 * say when its window ends, so a refused caller is told to wait one whole period, which is never too soon.
 */
export const LIMITER_PERIOD_SECONDS = { INGEST_LIMITER: 10, SIGN_IN_LIMITER: 60, JWKS_LIMITER: 60 } as const;

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
