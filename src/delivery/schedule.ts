// The retry policy as data: when the next attempt happens after a failure, or that the event is dropped.

/**
 * The time of the next attempt after failed attempt number `attemptCount` (1-based) ended at `failedAt`,
 * or null when the schedule is exhausted and the event is dropped.
 * With delays [30, 60, 90]: retry 1 at +30 s, retry 2 at +60 s, retry 3 at +90 s, then dropped.
 */
export function nextAttemptAt(attemptCount: number, failedAt: number, delaysSeconds: readonly number[]): number | null {
  const delay = delaysSeconds[attemptCount - 1];
  return delay === undefined ? null : failedAt + Math.round(delay * 1000);
}

