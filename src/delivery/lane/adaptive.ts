// A lane's adaptive concurrency (docs/ordering.md): the limit in force, moved by each attempt's outcome through the
// pure rule (adaptive-limit.ts), and its history for the stats chart: one row per 5-minute bucket, written at most
// once a minute, whatever the traffic.
import { allowed, initialAdaptiveState, isOverload, nextAdaptiveState, type AdaptiveState } from "../adaptive-limit";
import type { SentAttempt } from "./sending";
import type { LaneRow } from "./schema";

/** The history's bucket: the smallest stats bucket (stats.ts, 1h period). */
export const LIMIT_BUCKET_MS = 5 * 60_000;
/** A changed limit is written at most this often (once per bucket at least, when it changed). */
const WRITE_EVERY_MS = 60_000;
/** The history is kept as long as the longest stats period, and a bucket more. */
const KEEP_MS = 7 * 24 * 3_600_000 + 6 * 3_600_000;

const UPSERT = `INSERT INTO concurrency_limits (bucket_start, concurrency_limit) VALUES (?, ?)
  ON CONFLICT (bucket_start) DO UPDATE SET concurrency_limit = excluded.concurrency_limit`;

export class AdaptiveConcurrency {
  /**
   * In memory only: after a restart the lane starts low again and finds the limit in a few round trips (slow
   * start), which is also right for an endpoint that may have changed meanwhile.
   */
  private state: AdaptiveState | undefined;
  private writtenAt = 0;
  private writtenValue: number | null = null;

  constructor(private readonly sql: SqlStorage) {}

  /** Attempts the lane may have out at once: maxInFlight when fixed, the limit found when adaptive. */
  limit(lane: LaneRow): number {
    if (lane.concurrency !== "adaptive") return lane.max_in_flight;
    this.state ??= initialAdaptiveState(lane.max_in_flight);
    return allowed(this.state, lane.max_in_flight);
  }

  /** The adaptive limit now, or null when the lane is fixed. */
  current(lane: LaneRow | undefined): number | null {
    return lane?.concurrency === "adaptive" ? this.limit(lane) : null;
  }

  /**
   * An attempt started with `inflight` out (itself included) ended: a success or an overload moves the limit; any
   * other failure (a 4xx, a 500) says nothing about load and leaves it, as does the service's own failure.
   */
  observe(lane: LaneRow, inflight: number, result: SentAttempt): void {
    if (lane.concurrency !== "adaptive" || result.serviceFailure) return;
    const dropped = isOverload(result.statusCode, result.error);
    if (!dropped && !result.delivered) return;
    this.state = nextAdaptiveState(
      this.state ?? initialAdaptiveState(lane.max_in_flight),
      { startedAt: result.at, rttMs: result.durationMs, inflight, dropped },
      lane.max_in_flight,
    );
    this.record(lane, result.at + result.durationMs);
  }

  /**
   * Whether an adaptive webhook's endpoint refused an attempt sent beside others (an overload answer with more
   * than one out): the cost of the lane probing for more, which the lane answers by cutting its limit; it is
   * retried as usual but does not count against the failure quota. One refused while it was the only attempt
   * out says the endpoint takes nothing at all, and counts like any failure (docs/ordering.md).
   */
  probeRefused(lane: LaneRow, inflight: number, result: SentAttempt): boolean {
    return lane.concurrency === "adaptive" && inflight > 1 && !result.delivered && isOverload(result.statusCode, result.error);
  }

  /** Keeps the limit in its bucket's row: when it changed, at most once a minute, and at once in a new bucket. */
  record(lane: LaneRow, now: number): void {
    const value = this.current(lane);
    if (value === null) return;
    const bucket = Math.floor(now / LIMIT_BUCKET_MS) * LIMIT_BUCKET_MS;
    const newBucket = Math.floor(this.writtenAt / LIMIT_BUCKET_MS) * LIMIT_BUCKET_MS !== bucket;
    if (!newBucket && (value === this.writtenValue || now - this.writtenAt < WRITE_EVERY_MS)) return;
    this.sql.exec(UPSERT, bucket, value);
    if (newBucket) this.sql.exec("DELETE FROM concurrency_limits WHERE bucket_start < ?", now - KEEP_MS);
    this.writtenAt = now;
    this.writtenValue = value;
  }
}

/** The limit recorded for each bucket of `sizeMs` from `start` (`count` of them): the mean of its 5-minute rows, or null. */
export function limitSeries(sql: SqlStorage, start: number, sizeMs: number, count: number): (number | null)[] {
  const rows = sql
    .exec<{ bucket_start: number; concurrency_limit: number }>(
      "SELECT bucket_start, concurrency_limit FROM concurrency_limits WHERE bucket_start >= ? AND bucket_start < ?",
      start,
      start + sizeMs * count,
    )
    .toArray();
  const sums = Array.from({ length: count }, () => ({ sum: 0, n: 0 }));
  for (const row of rows) {
    const bucket = sums[Math.floor((row.bucket_start - start) / sizeMs)]!;
    bucket.sum += row.concurrency_limit;
    bucket.n++;
  }
  return sums.map(({ sum, n }) => (n === 0 ? null : Math.round((sum / n) * 10) / 10));
}
