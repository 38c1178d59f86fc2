// When a lane's single alarm is due: pure, over what its storage says.
import type { EventRow, LaneRow } from "./schema";

/** How soon a lane retries recording its own disable in D1 after that failed. */
export const SYNC_RETRY_MS = 5_000;

/**
 * When the lane's single alarm is due: the earliest of retrying an unsynced disable, the head's next
 * attempt (while enabled; not before the rate limit's next token) and the oldest finished event's expiry;
 * null when there is nothing to do.
 */
export function nextAlarmAt(input: {
  lane: LaneRow | undefined;
  head: Pick<EventRow, "next_attempt_at"> | undefined;
  /** When the first event in acceptance order finished (see retention.ts); null when it has not. */
  oldestFinishedAt: number | null;
  retentionMs: number;
  now: number;
  /** When the rate limit lets the next attempt start (0 without a limit). */
  tokenAt?: number;
}): number | null {
  const { lane, head, oldestFinishedAt, retentionMs, now, tokenAt = 0 } = input;
  if (!lane || lane.deleted) return null;
  const candidates: number[] = [];
  if (lane.d1_sync_pending || lane.verified_sync_pending) candidates.push(now + SYNC_RETRY_MS);
  if (lane.enabled && head) candidates.push(Math.max(head.next_attempt_at, tokenAt));
  if (oldestFinishedAt !== null) candidates.push(oldestFinishedAt + retentionMs);
  return candidates.length > 0 ? Math.min(...candidates) : null;
}
