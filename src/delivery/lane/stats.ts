// A webhook's health over a period (GET /v1/webhooks/{id}/stats), computed from what the lane already stores:
// the first attempt of each event on its row, later ones in the attempts table. Nothing is written for it.
import { succeeded } from "../attempt";
import { limitSeries } from "./adaptive";
import type { AttemptRow, EventRow } from "./schema";

export const STATS_PERIODS = ["1h", "24h", "7d"] as const;
export type StatsPeriod = (typeof STATS_PERIODS)[number];

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Each period's fixed buckets: their size and how many. */
export const BUCKETS: Record<StatsPeriod, { sizeMs: number; count: number }> = {
  "1h": { sizeMs: 5 * MINUTE, count: 12 },
  "24h": { sizeMs: HOUR, count: 24 },
  "7d": { sizeMs: 6 * HOUR, count: 28 },
};

export interface StatsSample {
  /** When the attempt started (unix ms). */
  at: number;
  durationMs: number;
  ok: boolean;
}

export interface WebhookStats {
  period: StatsPeriod;
  attempts: number;
  delivered: number;
  failed: number;
  dropped: number;
  successRate: number | null;
  latencyMs: { p50: number; p95: number } | null;
  series: { start: string; delivered: number; failed: number; concurrencyLimit: number | null }[];
  /** An adaptive webhook's limit now; null for a fixed one. */
  concurrencyLimit: number | null;
}

/**
 * The period's window: `count` buckets aligned to their size in UTC (whole 5 minutes, hours, 6 hours), the
 * newest one holding `now`. So it starts at most one bucket more than the period before `now`, and less
 * than one bucket less.
 */
export function statsWindow(period: StatsPeriod, now: number): { start: number; end: number } {
  const { sizeMs, count } = BUCKETS[period];
  const end = (Math.floor(now / sizeMs) + 1) * sizeMs;
  return { start: end - count * sizeMs, end };
}

/** The nearest-rank percentile (p in 0–100) of sorted values: the smallest value at least p% of them are at or below. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** The stats of the attempts and drops given; those outside the window are ignored. */
export function aggregateStats(
  period: StatsPeriod,
  now: number,
  samples: readonly StatsSample[],
  droppedAt: readonly number[],
  limits: readonly (number | null)[] = [],
  concurrencyLimit: number | null = null,
): WebhookStats {
  const { start, end } = statsWindow(period, now);
  const { sizeMs, count } = BUCKETS[period];
  const inWindow = (at: number) => at >= start && at < end;
  const series = Array.from({ length: count }, (_, i) => ({
    start: new Date(start + i * sizeMs).toISOString(),
    delivered: 0,
    failed: 0,
    concurrencyLimit: limits[i] ?? null,
  }));
  const durations: number[] = [];
  for (const sample of samples) {
    if (!inWindow(sample.at)) continue;
    const bucket = series[Math.floor((sample.at - start) / sizeMs)]!;
    if (sample.ok) bucket.delivered++;
    else bucket.failed++;
    durations.push(sample.durationMs);
  }
  durations.sort((a, b) => a - b);
  const delivered = series.reduce((n, b) => n + b.delivered, 0);
  const attempts = durations.length;
  return {
    period,
    attempts,
    delivered,
    failed: attempts - delivered,
    dropped: droppedAt.filter(inWindow).length,
    successRate: attempts === 0 ? null : delivered / attempts,
    latencyMs: attempts === 0 ? null : { p50: percentile(durations, 50), p95: percentile(durations, 95) },
    series,
    concurrencyLimit,
  };
}

/** The columns of an attempt's row that stats read (the first attempt's, from the event row, under the same names). */
type AttemptColumns = Pick<AttemptRow, "at" | "duration_ms" | "status_code" | "error"> & Record<string, SqlStorageValue>;

type EventColumns = AttemptColumns & Pick<EventRow, "status" | "finished_at">;

const sample = (row: AttemptColumns): StatsSample => ({
  at: row.at,
  durationMs: row.duration_ms,
  ok: succeeded(row.status_code, row.error),
});

/**
 * The lane's stats for `period`. Test events are left out (they are sent on demand, once, outside the line,
 * and do not count against the failure quota either). No index serves this: it reads every event row the
 * lane retains twice (only the columns it needs, never a body) and every later-attempt row once, so a busy
 * lane's read grows with its retained traffic (RETENTION_DAYS of it, whatever the period); rows read are
 * cheap, and no row is written.
 */
export function laneStats(sql: SqlStorage, period: StatsPeriod, now: number, concurrencyLimit: number | null = null): WebhookStats {
  const { start, end } = statsWindow(period, now);
  // Events whose first attempt or drop falls in the window (aggregateStats keeps each part to the window).
  const events = sql
    .exec<EventColumns>(
      `SELECT first_at AS at, first_duration_ms AS duration_ms, first_status_code AS status_code, first_error AS error, status, finished_at
         FROM events WHERE test = 0 AND ((first_at >= ?1 AND first_at < ?2) OR (status = 'dropped' AND finished_at >= ?1 AND finished_at < ?2))`,
      start,
      end,
    )
    .toArray();
  // A test event gets later attempts only when retried by hand; they stay out too.
  const later = sql
    .exec<AttemptColumns>(
      "SELECT at, duration_ms, status_code, error FROM attempts WHERE at >= ? AND at < ? AND event_id NOT IN (SELECT id FROM events WHERE test = 1)",
      start,
      end,
    )
    .toArray();
  return aggregateStats(
    period,
    now,
    [...events.filter((row) => row.at !== null), ...later].map(sample),
    events.flatMap((row) => (row.status === "dropped" && row.finished_at !== null ? [row.finished_at] : [])),
    // An adaptive webhook's limit over the period (adaptive.ts: at most one row per 5 minutes); none for a fixed one.
    concurrencyLimit === null ? [] : limitSeries(sql, start, BUCKETS[period].sizeMs, BUCKETS[period].count),
    concurrencyLimit,
  );
}
