// The retry policy as data: when the next attempt happens after a failure, or that the event is dropped.

/** A `Retry-After` is honoured up to this long. */
export const MAX_RETRY_AFTER_MS = 3_600_000;

/**
 * The time of the next attempt after failed attempt number `attemptCount` (1-based) of a round ended at
 * `failedAt`, or null when the schedule is exhausted and the event is dropped. An endpoint's Retry-After
 * (`retryAfterMs`, already capped) only ever pushes a scheduled retry later.
 * With delays [30, 60, 90]: retry 1 at +30 s, retry 2 at +60 s, retry 3 at +90 s, then dropped.
 */
export function nextAttemptAt(
  attemptCount: number,
  failedAt: number,
  delaysSeconds: readonly number[],
  retryAfterMs: number | null = null,
): number | null {
  const delay = delaysSeconds[attemptCount - 1];
  if (delay === undefined) return null;
  return failedAt + Math.max(Math.round(delay * 1000), retryAfterMs ?? 0);
}

/**
 * A `Retry-After` header in ms from `now` (delay-seconds or an HTTP date), capped at MAX_RETRY_AFTER_MS;
 * null when absent or unreadable.
 */
export function parseRetryAfter(value: string | null, now: number): number | null {
  const text = value?.trim();
  if (!text) return null;
  // Delay-seconds, or an HTTP date (which always names its month and day in letters).
  const ms = /^\d+$/.test(text) ? Number(text) * 1000 : /[a-z]/i.test(text) ? Date.parse(text) - now : NaN;
  if (!Number.isFinite(ms)) return null;
  return Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}
