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

export const percent = (rate: number | null) => (rate === null ? "—" : `${(Math.floor(rate * 1000) / 10).toFixed(1)}%`);

/** Bars of delivered (below) and failed (stacked above) attempts per bucket, scaled to the busiest bucket. */
const Chart: FC<{ stats: Stats }> = ({ stats }) => {
  const width = 720;
  const height = 140;
  const n = stats.series.length;
  const max = Math.max(1, ...stats.series.map((b) => b.delivered + b.failed));
  const slot = width / n;
  const bar = Math.max(2, slot - 3);
  const y = (count: number) => (count / max) * (height - 10);
  return (
    <svg class="chart" viewBox={`0 0 ${width} ${height + 18}`} role="img" aria-labelledby="chart-title chart-desc">
      <title id="chart-title">Delivered and failed attempts per bucket</title>
      <desc id="chart-desc">
        {stats.delivered} delivered and {stats.failed} failed attempts in {n} buckets; the busiest bucket holds {max}.
      </desc>
      {stats.series.map((b, i) => {
        const x = i * slot + 1;
        const hd = y(b.delivered);
        const hf = y(b.failed);
        return (
          <g>
            <title>{`${formatTime(b.start)}: ${b.delivered} delivered, ${b.failed} failed`}</title>
            {b.delivered > 0 && <rect class="ok" x={x} y={height - hd} width={bar} height={hd} />}
            {b.failed > 0 && <rect class="bad" x={x} y={height - hd - hf} width={bar} height={hf} />}
          </g>
        );
      })}
      <line x1="0" y1={height + 0.5} x2={width} y2={height + 0.5} class="axis" />
      <text x="0" y={height + 14} class="label">
        {formatTime(stats.series[0]!.start)}
      </text>
      <text x={width} y={height + 14} class="label" text-anchor="end">
        now
      </text>
    </svg>
  );
};

export const HealthSection: FC<{ stats: Stats | undefined; period: string; hrefFor: (period: string) => string }> = ({ stats, period, hrefFor }) => (
  <section class="card" aria-labelledby="health-title" id="health">
    <h2 id="health-title">Health</h2>
    <nav class="row" aria-label="Period">
      {PERIODS.map(([value, label]) =>
        value === period ? (
          <strong aria-current="true">{label}</strong>
        ) : (
          <a href={hrefFor(value)}>{label}</a>
        ),
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
        </dl>
        <Chart stats={stats} />
      </>
    )}
  </section>
);

/** The list's health column: the success rate over 24 h and whether anything failed. */
export const HealthCell: FC<{ stats: Stats | undefined }> = ({ stats }) =>
  !stats ? (
    <span class="muted">—</span>
  ) : stats.attempts === 0 ? (
    <span class="muted">no attempts in 24 h</span>
  ) : (
    <span>
      <span class={stats.failed === 0 ? "badge ok" : stats.successRate !== null && stats.successRate < 0.9 ? "badge off" : "badge"}>{percent(stats.successRate)}</span>{" "}
      <span class="muted">
        of {stats.attempts} in 24 h{stats.failed > 0 ? `, ${stats.failed} failed` : ""}
      </span>
    </span>
  );
