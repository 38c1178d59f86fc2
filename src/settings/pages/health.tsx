/** @jsxImportSource hono/jsx */
// A webhook's health: success rate, latency and a chart of delivered / failed attempts per bucket, as server-rendered
// SVG (no chart library, no script); and the one-line summary the list shows.
import type { FC } from "hono/jsx";
import { formatDuration, formatTime } from "../format";
import type { Stats } from "../model";

const PERIODS = [
  ["1h", "last hour"],
  ["24h", "last 24 hours"],
  ["7d", "last 7 days"],
] as const;

const periodLabel = (period: string) => PERIODS.find(([value]) => value === period)?.[1] ?? period;

export const percent = (rate: number | null) => (rate === null ? "—" : `${(Math.floor(rate * 1000) / 10).toFixed(1)}%`);

/** Each period's bars, in words. */
const BAR_OF: Record<Stats["period"], string> = { "1h": "5 minutes", "24h": "1 hour", "7d": "6 hours" };

/** The scale's top: twice a round step (1, 2 or 5 × 10ⁿ), so its three marks 0, step, 2 × step are whole numbers. */
export function chartScale(busiest: number): { step: number; top: number } {
  const half = Math.max(1, Math.ceil(busiest / 2));
  const power = 10 ** Math.floor(Math.log10(half));
  const step = [1, 2, 5, 10].map((m) => m * power).find((v) => v >= half)!;
  return { step, top: 2 * step };
}

/** `12-03 18:00`: a bucket's start, short enough for a phone. */
const shortTime = (iso: string) => new Date(iso).toISOString().slice(5, 16).replace("T", " ");

/** An adaptive webhook's lowest and highest limit over the period, as words; empty when none was recorded. */
function limitRange(stats: Stats, periodName: string): string {
  const limits = stats.series.flatMap((b) => (b.concurrencyLimit === null ? [] : [b.concurrencyLimit]));
  if (limits.length === 0) return "";
  const [low, high] = [Math.min(...limits), Math.max(...limits)];
  return low === high ? ` (${low} over the ${periodName})` : ` (${low} to ${high} over the ${periodName})`;
}

/**
 * Bars of delivered (below) and failed (stacked above) attempts per bucket against a scale of attempts, with a legend.
 * The SVG stretches to the card; every word (scale, times, legend) is HTML text, so it stays readable at any width.
 */
const Chart: FC<{ stats: Stats; periodName: string }> = ({ stats, periodName }) => {
  const width = 720;
  const height = 140;
  const n = stats.series.length;
  const busiest = Math.max(0, ...stats.series.map((b) => b.delivered + b.failed));
  const { step, top } = chartScale(busiest);
  const slot = width / n;
  const bar = Math.max(2, slot - 3);
  const y = (count: number) => (count / top) * height;
  const bucket = BAR_OF[stats.period];
  return (
    <figure class="chart" aria-labelledby="chart-title">
      <div class="chart-plot">
        <div class="y-axis" aria-hidden="true">
          <span>{top}</span>
          <span>{step}</span>
          <span>0</span>
        </div>
        <svg
          class="chart"
          viewBox={`0 0 ${width} ${height}`}
          preserveAspectRatio="none"
          role="img"
          aria-labelledby="chart-title chart-desc"
        >
          <title id="chart-title">Delivered and failed attempts, one bar per {bucket}</title>
          <desc id="chart-desc">
            {stats.delivered} delivered and {stats.failed} failed attempts in the {periodName}, in {n} bars of {bucket}; the busiest bar
            holds {busiest}.
          </desc>
          {[0, 0.5, 1].map((f) => (
            <line x1="0" x2={width} y1={f * height} y2={f * height} class={f === 1 ? "axis" : "grid"} vector-effect="non-scaling-stroke" />
          ))}
          {stats.series.map((b, i) => {
            const x = i * slot + 1;
            const hd = y(b.delivered);
            const hf = y(b.failed);
            return (
              <g>
                <title>{`${formatTime(b.start)}: ${b.delivered} delivered, ${b.failed} failed${b.concurrencyLimit === null ? "" : `, ${b.concurrencyLimit} requests at once`}`}</title>
                {b.delivered > 0 && <rect class="ok" x={x} y={height - hd} width={bar} height={hd} />}
                {b.failed > 0 && <rect class="bad" x={x} y={height - hd - hf} width={bar} height={hf} />}
              </g>
            );
          })}
        </svg>
        <div class="x-axis" aria-hidden="true">
          <span>{shortTime(stats.series[0]!.start)} UTC</span>
          <span>now</span>
        </div>
      </div>
      <figcaption class="legend">
        <span>
          <span class="swatch ok"></span>Delivered attempts
        </span>
        <span>
          <span class="swatch bad"></span>Failed attempts
        </span>
        <span class="muted">Scale: attempts per {bucket}</span>
      </figcaption>
    </figure>
  );
};

export const HealthSection: FC<{ stats: Stats | undefined; period: string; hrefFor: (period: string) => string }> = ({
  stats,
  period,
  hrefFor,
}) => (
  <section class="card" aria-labelledby="health-title" id="health">
    <h2 id="health-title">Health</h2>
    <nav class="row" aria-label="Period">
      {PERIODS.map(([value, label]) =>
        value === period ? <strong aria-current="true">{label}</strong> : <a href={hrefFor(value)}>{label}</a>,
      )}
    </nav>
    {!stats ? (
      <p class="muted">The figures could not be read just now.</p>
    ) : (
      <>
        <dl class="figures">
          <div>
            <dt>Success rate</dt>
            <dd>{percent(stats.successRate)}</dd>
          </div>
          <div>
            <dt>Attempts</dt>
            <dd>
              {stats.attempts} ({stats.delivered} delivered, {stats.failed} failed)
            </dd>
          </div>
          <div>
            <dt>Dropped events</dt>
            <dd>{stats.dropped}</dd>
          </div>
          <div>
            <dt>Latency p50 / p95</dt>
            <dd>{stats.latencyMs ? `${formatDuration(stats.latencyMs.p50)} / ${formatDuration(stats.latencyMs.p95)}` : "—"}</dd>
          </div>
          {stats.concurrencyLimit !== null && (
            <div>
              <dt>Requests at once (adaptive)</dt>
              <dd>
                {stats.concurrencyLimit} now{limitRange(stats, periodLabel(period))}
              </dd>
            </div>
          )}
        </dl>
        {stats.attempts === 0 ? (
          <p class="chart-empty">
            No attempts yet in the {periodLabel(period)}. Test events are not counted here; see the delivery log for them.
          </p>
        ) : (
          <Chart stats={stats} periodName={periodLabel(period)} />
        )}
      </>
    )}
  </section>
);

/** The list's health column, in words on one line: what share of the last 24 hours' attempts were delivered. */
export const HealthCell: FC<{ stats: Stats | undefined }> = ({ stats }) =>
  !stats ? (
    <span class="muted">—</span>
  ) : stats.attempts === 0 ? (
    <span class="muted health">No attempts yet</span>
  ) : (
    <span class={`health ${stats.failed === 0 ? "good" : stats.successRate !== null && stats.successRate < 0.9 ? "poor" : ""}`}>
      {percent(stats.successRate)} delivered{" "}
      <span class="muted">
        (
        {stats.failed === 0 ? `${stats.attempts} attempt${stats.attempts === 1 ? "" : "s"}` : `${stats.failed} of ${stats.attempts} failed`}
        )
      </span>
    </span>
  );
