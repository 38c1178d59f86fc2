// Turns a run's results into the tables of docs/benchmarks.md (each figure beside its floor and the
// ratio, what each delivered event costs in billable operations and dollars, and where rows go) and into
// bench/results/full-run.json, the headline figures committed with them, and bench/results/summary.json, the
// machine-readable figures every run writes.
import hdr from "hdr-histogram-js";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { PRICES } from "./prices.mjs";

const START = "<!-- bench:results:start -->";
const END = "<!-- bench:results:end -->";
/** Where docs/benchmarks-history.md takes the headline table of each run a newer one replaced (newest first). */
const HISTORY = "<!-- bench:history -->";

/** p50/p90/p99/max (ms) through an HDR histogram at microsecond resolution. */
export function percentiles(valuesMs) {
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
  for (const v of valuesMs) histogram.recordValue(Math.max(1, Math.round(v * 1000)));
  const at = (p) => (valuesMs.length ? histogram.getValueAtPercentile(p) / 1000 : NaN);
  return {
    n: valuesMs.length,
    p50: at(50),
    p90: at(90),
    p99: at(99),
    max: valuesMs.length ? histogram.maxValue / 1000 : NaN,
    mean: histogram.mean / 1000,
  };
}

const sum = (o) => Object.values(o ?? {}).reduce((a, v) => a + (typeof v === "number" ? v : sum(v)), 0);

/** Billable operations per delivered event, from the counter difference over one phase. */
export function costOf(phase, delivered) {
  const c = phase.counters;
  const per = (x) => x / delivered;
  let doRowsRead = 0;
  let doRowsWritten = 0;
  for (const statements of Object.values(c.doSql ?? {})) {
    for (const s of Object.values(statements)) {
      doRowsRead += s.rowsRead;
      doRowsWritten += s.rowsWritten;
    }
  }
  let d1RowsRead = 0;
  let d1RowsWritten = 0;
  for (const s of Object.values(c.d1 ?? {})) {
    d1RowsRead += s.rowsRead;
    d1RowsWritten += s.rowsWritten;
  }
  const ops = {
    workerRequests: per(c.workerRequests + c.consumerInvocations),
    queueOperations: per(c.queue.writeOps + c.queue.readOps + c.queue.deleteOps),
    doRequests: per(sum(c.doRequests)),
    doRowsRead: per(doRowsRead),
    doRowsWritten: per(doRowsWritten),
    d1RowsRead: per(d1RowsRead),
    d1RowsWritten: per(d1RowsWritten),
    // Wall time in DO calls and alarms, at 128 MB: a lower bound on billed duration.
    doGbSeconds: per((sum(c.doActiveMs) / 1000) * 0.125),
    // All CPU the local workerd process used (includes the local D1/Queue/DO simulators): an upper bound.
    cpuMsUpperBound: per(phase.cpu.serviceWorkerdSeconds * 1000),
  };
  return { ...ops, dollarsPerMillion: dollars(ops), dollarsPerMillionWithCpu: dollars(ops) + ops.cpuMsUpperBound * PRICES.workerCpuMs };
}

/** What the baseline spent per delivered event (it counts requests, messages, consumer runs and DO hops). */
export function floorCostOf(phase, delivered) {
  const b = phase.baselineOps;
  const ops = {
    workerRequests: (b.requests + b.batches) / delivered,
    queueOperations: (3 * b.sent) / delivered,
    doRequests: b.hops / delivered,
    doRowsRead: 0,
    doRowsWritten: 0,
    d1RowsRead: 0,
    d1RowsWritten: 0,
    doGbSeconds: 0,
    cpuMsUpperBound: (phase.cpu.baselineWorkerdSeconds * 1000) / delivered,
  };
  return { ...ops, dollarsPerMillion: dollars(ops), dollarsPerMillionWithCpu: dollars(ops) + ops.cpuMsUpperBound * PRICES.workerCpuMs };
}

function dollars(o) {
  return (
    o.workerRequests * PRICES.workerRequest +
    o.queueOperations * PRICES.queueOperation +
    o.doRequests * PRICES.doRequest +
    o.doRowsRead * PRICES.doRowRead +
    o.doRowsWritten * PRICES.doRowWritten +
    o.d1RowsRead * PRICES.d1RowRead +
    o.d1RowsWritten * PRICES.d1RowWritten +
    o.doGbSeconds * PRICES.doGbSecond
  );
}

const f = (x, digits = 0) =>
  Number.isFinite(x) ? x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits }) : "n/a";
const ratio = (a, b) => (Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : "n/a");
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

/**
 * Ingestion's figure k (requestsPerSecond, p50, p99): the service's and the floor's medians over rounds,
 * and the median of each round's ratio (each round measures both back to back, so its ratio is the
 * least disturbed by the machine's other load).
 */
const ingestionFigure =
  (r, floor = "baseline") =>
  (k) => ({
    service: median(r.ingestion.map((x) => x.service[k])),
    floor: median(r.ingestion.map((x) => x[floor][k])),
    ratio: median(r.ingestion.map((x) => x.service[k] / x[floor][k])),
  });

/** Ingestion with EVENT_VALIDATION=enforce against off (same worker, same body): medians and the median round ratio. */
const validationFigure = (r) =>
  r.validation?.length
    ? {
        enforce: median(r.validation.map((x) => x.enforce.requestsPerSecond)),
        off: median(r.validation.map((x) => x.off.requestsPerSecond)),
        ratio: median(r.validation.map((x) => x.enforce.requestsPerSecond / x.off.requestsPerSecond)),
        p99: median(r.validation.map((x) => x.enforce.p99 / x.off.p99)),
        // off's workerd CPU per accepted request over enforce's: 1 when validating costs nothing (runs before measured() have no CPU).
        cpuRatio: r.validation.every((x) => x.off.cpu && x.enforce.cpu)
          ? median(
              r.validation.map(
                (x) => x.off.cpu.serviceWorkerdSeconds / x.off.accepted / (x.enforce.cpu.serviceWorkerdSeconds / x.enforce.accepted),
              ),
            )
          : null,
        errors: r.validation.reduce((n, x) => n + x.enforce.errors + x.off.errors, 0),
      }
    : null;

const commitLabel = (git) =>
  git?.commit ? `commit ${git.commit.slice(0, 7)}${git.dirty ? " plus uncommitted changes" : ""}` : "commit unknown";

export function renderReport(r) {
  const lines = [];
  const push = (...l) => lines.push(...l);
  const cfg = r.config;
  const m = r.machine;

  const ingestS = r.ingestion.map((x) => x.service);
  const ingestB = r.ingestion.map((x) => x.baseline);
  const ingest = ingestionFigure(r);
  const limited = ingestionFigure(r, "baselineLimited");
  const e2eS = r.endToEnd.service;
  const e2eB = r.endToEnd.baseline;
  const laneS = r.lane.service;
  const laneB = r.lane.baseline;
  const fanS = r.fanout.service;
  const fanB = r.fanout.baseline;

  const e2eCost = costOf(e2eS, e2eS.count);
  const e2eFloor = floorCostOf(e2eB, e2eB.count);
  const fanCost = costOf(fanS, fanS.received);
  const fanFloor = floorCostOf(fanB, fanB.received);
  const laneCost = costOf(laneS, laneS.delivered);
  const ingestCost = costOf(ingestS[0], ingestS[0].accepted);

  push(
    `Run of ${r.startedAt} (${r.durationSeconds} s${cfg.quick ? ", quick mode" : ""}) at ${commitLabel(r.git)}: ${m.cpu}, ${m.memoryGb} GB, ${m.os}; Node ${m.node}, wrangler ${m.wrangler}, workerd ${m.workerd}.`,
    `Ratios are service ÷ floor: above 1× is slower for latencies, below 1× is slower for rates. Ingestion: medians over rounds, ratio = median of each round's back-to-back ratio.`,
    "",
    "| # | figure | service | floor (baseline) | ratio |",
    "|---|---|---:|---:|---:|",
    `| 1 | ingestion: accepted \`POST /v1/events\` per second, ${cfg.connections} connections, ${cfg.ingestRounds}×${cfg.ingestSeconds} s | ${f(ingest("requestsPerSecond").service)} | ${f(ingest("requestsPerSecond").floor)} | ${ingest("requestsPerSecond").ratio.toFixed(2)}× |`,
    `| 1 | ingestion latency p50 | ${f(ingest("p50").service, 1)} ms | ${f(ingest("p50").floor, 1)} ms | ${ingest("p50").ratio.toFixed(2)}× |`,
    `| 1 | ingestion latency p99 | ${f(ingest("p99").service, 1)} ms | ${f(ingest("p99").floor, 1)} ms | ${ingest("p99").ratio.toFixed(2)}× |`,
    `| 1 | (like for like) against the floor plus one Rate Limiting call per request: accepted per second, p50, p99 | | ${f(limited("requestsPerSecond").floor)} /s, ${f(limited("p50").floor, 1)} ms, ${f(limited("p99").floor, 1)} ms | ${limited("requestsPerSecond").ratio.toFixed(2)}×, ${limited("p50").ratio.toFixed(2)}×, ${limited("p99").ratio.toFixed(2)}× |`,
    ...(validationFigure(r)
      ? [
          `| 1 | ingestion with \`EVENT_VALIDATION=enforce\` (service) against \`off\` (floor column), same worker and body, accepted per second; p99 ratio ${validationFigure(r).p99.toFixed(2)}×${validationFigure(r).cpuRatio === null ? "" : `; workerd CPU per accepted request, off ÷ enforce: ${validationFigure(r).cpuRatio.toFixed(2)}×`}; ${validationFigure(r).errors} refused | ${f(validationFigure(r).enforce)} | ${f(validationFigure(r).off)} | ${validationFigure(r).ratio.toFixed(2)}× |`,
        ]
      : []),
    `| 2 | end-to-end (accepted → at receiver) p50, ${f(e2eS.offeredPerSecond)} events/s over ${r.endToEnd.endpoints} endpoints, ${r.endToEnd.seconds} s | ${f(e2eS.latency.p50)} ms | ${f(e2eB.latency.p50)} ms | ${ratio(e2eS.latency.p50, e2eB.latency.p50)} |`,
    `| 2 | end-to-end p90 | ${f(e2eS.latency.p90)} ms | ${f(e2eB.latency.p90)} ms | ${ratio(e2eS.latency.p90, e2eB.latency.p90)} |`,
    `| 2 | end-to-end p99 | ${f(e2eS.latency.p99)} ms | ${f(e2eB.latency.p99)} ms | ${ratio(e2eS.latency.p99, e2eB.latency.p99)} |`,
    `| 2 | end-to-end: after the lane's ${r.endToEnd.orderingWindowMs} ms ordering window released the event (arrival − acceptance − window), p50 / p99 | ${f(e2eS.afterRelease.p50)} / ${f(e2eS.afterRelease.p99)} ms | (no window) | |`,
    ...(r.endToEndLow
      ? [
          `| 2 | end-to-end p50 / p90 / p99 at ${f(r.endToEndLow.service.offeredPerSecond)} events/s (below this machine's saturation), ${r.endToEndLow.seconds} s | ${f(r.endToEndLow.service.latency.p50)} / ${f(r.endToEndLow.service.latency.p90)} / ${f(r.endToEndLow.service.latency.p99)} ms | ${f(r.endToEndLow.baseline.latency.p50)} / ${f(r.endToEndLow.baseline.latency.p90)} / ${f(r.endToEndLow.baseline.latency.p99)} ms | ${ratio(r.endToEndLow.service.latency.p50, r.endToEndLow.baseline.latency.p50)} (p50) |`,
          `| 2 | … of which after the ordering window released the event, p50 / p99 | ${f(r.endToEndLow.service.afterRelease.p50)} / ${f(r.endToEndLow.service.afterRelease.p99)} ms | (no window) | |`,
        ]
      : []),
    `| 3 | one lane: ordered deliveries per second to one endpoint (${f(r.lane.events)} events, middle 80%${r.lane.rounds?.length > 1 ? `; the median of ${r.lane.rounds.length} back-to-back rounds, whose ratios were ${r.lane.rounds.map((x) => x.ratio.toFixed(2)).join(", ")}` : ""}) | ${f(laneS.perSecond)} | ${f(laneB.perSecond)} | ${ratio(laneS.perSecond, laneB.perSecond)} |`,
    `| 3 | (decomposition) the floor's loop plus one SQLite row written per attempt | | ${f(r.lane.withWrite.perSecond)} | ${ratio(r.lane.withWrite.perSecond, laneB.perSecond)} of floor |`,
    `| 3 | (decomposition) the floor's loop plus two HMAC-SHA256 signatures per attempt | | ${f(r.lane.withSigning.perSecond)} | ${ratio(r.lane.withSigning.perSecond, laneB.perSecond)} of floor |`,
    ...(r.lane.contractFloor
      ? [
          `| 3 | one lane against the contract floor: the floor's loop doing the least per-attempt work the contract asks (store, three signatures, a span, sealed headers, outcomes in groups of 15; median round, ratios ${r.lane.rounds.map((x) => x.contractRatio.toFixed(2)).join(", ")}) | ${f(r.lane.contractFloor.service)} | ${f(r.lane.contractFloor.contract)} | ${ratio(r.lane.contractFloor.service, r.lane.contractFloor.contract)} (the contract floor itself: ${r.lane.contractFloor.toBare === undefined ? ratio(r.lane.contractFloor.contract, laneB.perSecond) : `${r.lane.contractFloor.toBare.toFixed(2)}×`} of the bare loop, the median of the rounds' own ratios) |`,
        ]
      : []),
    `| 4 | fan-out: one event to ${r.fanout.webhooks} webhooks, acceptance → all received (median of ${cfg.fanoutRounds}) | ${f(fanS.allMs)} ms | ${f(fanB.allMs)} ms | ${ratio(fanS.allMs, fanB.allMs)} |`,
    `| 4 | fan-out: first → last of the ${r.fanout.webhooks} arrivals (median of ${cfg.fanoutRounds}) | ${f(fanS.spreadMs)} ms | ${f(fanB.spreadMs)} ms | ${ratio(fanS.spreadMs, fanB.spreadMs)} |`,
    `| 5 | list price per million delivered events (end-to-end mix, CPU excluded) | $${f(e2eCost.dollarsPerMillion, 2)} | $${f(e2eFloor.dollarsPerMillion, 2)} | ${ratio(e2eCost.dollarsPerMillion, e2eFloor.dollarsPerMillion)} |`,
    `| 5 | list price per million delivered events (fan-out to ${r.fanout.webhooks}, CPU excluded) | $${f(fanCost.dollarsPerMillion, 2)} | $${f(fanFloor.dollarsPerMillion, 2)} | ${ratio(fanCost.dollarsPerMillion, fanFloor.dollarsPerMillion)} |`,
    "",
    `Checks: lane deliveries out of order: ${laneS.outOfOrder} (baseline loop: ${laneB.outOfOrder}); duplicates at the receiver: e2e ${e2eS.duplicates}, lane ${laneS.duplicates}; ` +
      `refused or failed sends: e2e ${e2eS.failures}, ingestion ${ingestS.reduce((a, x) => a + x.errors, 0)} (baseline ${ingestB.reduce((a, x) => a + x.errors, 0)}); ` +
      `delivered e2e ${e2eS.count}/${e2eS.sent} (baseline ${e2eB.count}/${e2eB.sent})${r.endToEndLow ? `, e2e at ${r.endToEndLow.rate}/s ${r.endToEndLow.service.count}/${r.endToEndLow.service.sent}` : ""}, fan-out ${fanS.received}/${cfg.fanoutRounds * r.fanout.webhooks}. ` +
      `Lane: ${f(laneS.waitingOnWindowShare * 100)}% of the middle deliveries left within 20 ms of their ordering-window release (the lane waited on the window, not on work); the ${f(r.lane.events)} events were accepted in ${f(laneS.acceptedInMs)} ms.`,
    "",
  );

  push(
    "#### Billable operations per delivered event",
    "",
    "| per delivered event | end-to-end (1 event → 1 webhook) | fan-out (1 event → " +
      r.fanout.webhooks +
      ") | one lane (batches of 100 → 1) | ingestion only (per accepted event, no webhook) | floor, end-to-end |",
    "|---|---:|---:|---:|---:|---:|",
  );
  const rows = [
    ["Worker requests (HTTP + queue consumer runs)", "workerRequests", 3],
    ["Queue operations (write + read + delete, per 64 KB)", "queueOperations", 2],
    ["Durable Object requests (RPC calls + alarms)", "doRequests", 3],
    ["DO SQLite rows read", "doRowsRead", 1],
    ["DO SQLite rows written (setAlarm = 1)", "doRowsWritten", 2],
    ["D1 rows read", "d1RowsRead", 2],
    ["D1 rows written", "d1RowsWritten", 3],
    ["DO duration, GB-s (wall time in calls at 128 MB; lower bound)", "doGbSeconds", 5],
    ["CPU ms (whole local workerd incl. simulators; upper bound)", "cpuMsUpperBound", 2],
  ];
  for (const [label, key, digits] of rows) {
    push(
      `| ${label} | ${f(e2eCost[key], digits)} | ${f(fanCost[key], digits)} | ${f(laneCost[key], digits)} | ${f(ingestCost[key], digits)} | ${f(e2eFloor[key], digits)} |`,
    );
  }
  push(
    `| **$ per million delivered events**, list prices, CPU excluded | **$${f(e2eCost.dollarsPerMillion, 2)}** | **$${f(fanCost.dollarsPerMillion, 2)}** | **$${f(laneCost.dollarsPerMillion, 2)}** | $${f(ingestCost.dollarsPerMillion, 2)} | $${f(e2eFloor.dollarsPerMillion, 2)} |`,
    `| $ per million with the CPU upper bound | $${f(e2eCost.dollarsPerMillionWithCpu, 2)} | $${f(fanCost.dollarsPerMillionWithCpu, 2)} | $${f(laneCost.dollarsPerMillionWithCpu, 2)} | $${f(ingestCost.dollarsPerMillionWithCpu, 2)} | $${f(e2eFloor.dollarsPerMillionWithCpu, 2)} |`,
    "",
  );

  if (r.log) {
    push(
      `#### The delivery log's read paths over one lane holding ${f(r.log.events)} events`,
      "",
      "Over HTTP (auth, the webhook's D1 ownership check, the lane RPC), 10 requests each; the lane's events have no status or type index.",
      "",
      "| `GET …/deliveries` | median | max |",
      "|---|---:|---:|",
      ...r.log.reads.map(
        (x) =>
          `| \`${x.query.replace(/cursor=[^&]+/, `cursor=<page ${Math.floor(r.log.events / 200)} of 100>`)}\` | ${f(x.medianMs, 1)} ms | ${f(x.maxMs, 1)} ms |`,
      ),
      "",
    );
  }

  if (r.rateLimited) {
    const { limited, paced, rate, events } = r.rateLimited;
    const limitedCost = costOf(limited, limited.delivered);
    const pacedCost = costOf(paced, paced.delivered);
    push(
      `#### Rate limit: ${f(events)} events to one endpoint at ${f(rate)}/s`,
      "",
      "A burst to a lane with `rateLimitPerSecond` waits for each token with an alarm; the unlimited lane gets the same events sent one by one at that rate, so it wakes once per event too.",
      "",
      "| per delivered event | rate-limited lane, one burst | unlimited lane, events sent at the rate |",
      "|---|---:|---:|",
      `| deliveries per second (middle 80%) | ${f(limited.perSecond, 1)} | ${f(paced.perSecond, 1)} |`,
      `| Durable Object requests (RPC calls + alarms) | ${f(limitedCost.doRequests, 3)} | ${f(pacedCost.doRequests, 3)} |`,
      `| DO SQLite rows written (setAlarm = 1) | ${f(limitedCost.doRowsWritten, 2)} | ${f(pacedCost.doRowsWritten, 2)} |`,
      `| DO SQLite rows read | ${f(limitedCost.doRowsRead, 1)} | ${f(pacedCost.doRowsRead, 1)} |`,
      `| $ per million delivered events, CPU excluded | $${f(limitedCost.dollarsPerMillion, 2)} | $${f(pacedCost.dollarsPerMillion, 2)} |`,
      `| out of order, duplicates | ${limited.outOfOrder}, ${limited.duplicates} | ${paced.outOfOrder}, ${paced.duplicates} |`,
      "",
    );
  }

  if (r.backlog) {
    const b = r.backlog;
    push(
      `#### Backlog: ${f(b.events)} events recovered at once, drained (the first ${f(b.window)} against the last ${f(b.window)})`,
      "",
      "One webhook per ordering, kept off while the events arrived (its lane keeps them as skipped), then enabled and recovered at once; under key one key holds 90% of the backlog. Target: the first run at least 0.8x the last.",
      "",
      "| ordering | first, per s | last, per s | ratio | whole backlog | DO rows read / written per event |",
      "|---|---:|---:|---:|---:|---:|",
      ...["endpoint", "key", "none"].map((mode) => {
        const x = b[mode];
        const cost = costOf(x, x.delivered);
        return `| ${mode} | ${f(x.firstPerSecond, 0)} | ${f(x.lastPerSecond, 0)} | ${f(x.ratio, 2)} | ${f(x.seconds, 1)} s | ${f(cost.doRowsRead, 1)} / ${f(cost.doRowsWritten, 2)} |`;
      }),
      "",
    );
  }

  if (r.adaptive) {
    const a = r.adaptive;
    push(
      `#### Adaptive concurrency: ${f(a.events)} events over ${f(a.keys)} keys, ceiling ${a.maxInFlight}, a receiver that takes ${a.capacity} at once`,
      "",
      `One webhook ordered by key with \`concurrency: "adaptive"\` and maxInFlight ${a.maxInFlight}, against a receiver that answers in ${a.delayMs} ms and 503s at once whatever arrives while ${a.capacity} of its requests are open (docs/ordering.md). Deliveries per second over the middle 80% of arrivals against ${a.capacity} / ${a.delayMs} ms. Targets: at least 0.8x, at most 10% of attempts answered 503, none out of order per key.`,
      "",
      "| delivered per s | bound | ratio | answered 503 | most open at once | out of order per key, duplicates |",
      "|---:|---:|---:|---:|---:|---:|",
      `| ${f(a.perSecond, 0)} | ${f(a.bound, 0)} | ${f(a.ratio, 2)} | ${f(100 * a.share503, 1)}% (${f(a.refused)}) | ${a.peakOpen} | ${a.keyOutOfOrder}, ${a.duplicates} |`,
      "",
    );
  }

  if (r.batch) {
    const b = r.batch;
    push(
      `#### Ordered batches: ${f(b.events)} events in acceptance order, up to ${b.maxEvents} per request, ${b.delayMs} ms answers`,
      "",
      `One webhook under the default ordering with \`batch: {"maxEvents": ${b.maxEvents}}\` (docs/batches.md), against a receiver that answers each request in ${b.delayMs} ms. Events per second over the middle 80% of arrivals against ${b.maxEvents} / ${b.delayMs} ms; one event per request would be bounded by 1 / ${b.delayMs} ms. Targets: at least 0.8x, none out of order.`,
      "",
      "| events per s | bound | ratio | requests | events per request | out of order, duplicates |",
      "|---:|---:|---:|---:|---:|---:|",
      `| ${f(b.perSecond, 0)} | ${f(b.bound, 0)} | ${f(b.ratio, 2)} | ${f(b.requests)} | ${f(b.delivered / b.requests, 1)} | ${b.outOfOrder}, ${b.duplicates} |`,
      "",
    );
  }

  if (r.polling) {
    const p = r.polling;
    const cost = costOf(p, p.events);
    push(
      `#### Polling: ${f(p.events)} events read by one consumer, pages of 100`,
      "",
      "A polling webhook's stream (docs/polling.md) already holding the events, read with a cursor that acknowledges each page; beside the one-lane phase's push rate to one endpoint.",
      "",
      "| | polling, one consumer | push, one lane (median round) |",
      "|---|---:|---:|",
      `| events per second | ${f(p.perSecond, 0)} | ${f(r.lane.service.perSecond, 0)} |`,
      `| page of 100, p50 / p99 | ${f(p.page.p50, 1)} / ${f(p.page.p99, 1)} ms | |`,
      `| DO SQLite rows written / read per event | ${f(cost.doRowsWritten, 2)} / ${f(cost.doRowsRead, 1)} | |`,
      `| out of order | ${p.outOfOrder} | ${r.lane.service.outOfOrder} |`,
      "",
    );
  }

  push(
    ...statementTable(
      "Durable Object SQL per delivered event, end-to-end phase (rows written include index entries)",
      e2eS.counters.doSql,
      e2eS.count,
    ),
  );
  push(...statementTable("Durable Object SQL per delivered event, one-lane phase", laneS.counters.doSql, laneS.delivered));
  push(...d1Table("D1 per delivered event, end-to-end phase", e2eS.counters.d1, e2eS.count));
  push(...d1Table("D1 per delivered event, fan-out phase", fanS.counters.d1, fanS.received));
  push(
    ...requestTable([
      ["end-to-end", e2eS.counters, e2eS.count],
      ["fan-out", fanS.counters, fanS.received],
      ["one lane", laneS.counters, laneS.delivered],
    ]),
  );

  push(
    "#### CPU during each phase (% of one core; the machine has " + (e2eS.cpu.cores ?? "?") + ")",
    "",
    "| phase | machine busy | service (workerd) | service (wrangler, node) | baseline (all) | receiver | load driver | everything else on the machine | … just before (waited) |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
  );
  const cpuRow = (name, phase) => {
    const c = phase.cpu;
    const q = phase.quiet ? `${phase.quiet.otherPercentAtStart} (${f(phase.quiet.waitedMs / 1000)} s)` : "";
    push(
      `| ${name} | ${c.percent.machine} | ${c.percent.serviceWorkerd} | ${c.percent.service - c.percent.serviceWorkerd} | ${c.percent.baseline} | ${c.percent.receiver} | ${c.percent.driver} | ${c.percent.other} | ${q} |`,
    );
  };
  r.ingestion.forEach((round, i) => {
    cpuRow(`ingestion ${i + 1}, service`, round.service);
    cpuRow(`ingestion ${i + 1}, baseline`, round.baseline);
    if (round.baselineLimited) cpuRow(`ingestion ${i + 1}, baseline + rate limit`, round.baselineLimited);
  });
  cpuRow("one lane, service", laneS);
  cpuRow("one lane, baseline", laneB);
  cpuRow("fan-out, service", fanS);
  cpuRow("fan-out, baseline", fanB);
  cpuRow(`end-to-end ${r.endToEnd.rate}/s, service`, e2eS);
  cpuRow(`end-to-end ${r.endToEnd.rate}/s, baseline`, e2eB);
  if (r.endToEndLow) {
    cpuRow(`end-to-end ${r.endToEndLow.rate}/s, service`, r.endToEndLow.service);
    cpuRow(`end-to-end ${r.endToEndLow.rate}/s, baseline`, r.endToEndLow.baseline);
  }
  push("");
  return lines.join("\n");
}

function statementTable(title, doSql, delivered) {
  const rows = [];
  for (const [cls, statements] of Object.entries(doSql ?? {})) {
    for (const [sql, s] of Object.entries(statements)) if (s.calls > 0) rows.push({ cls, sql, ...s });
  }
  rows.sort((a, b) => b.rowsWritten - a.rowsWritten || b.rowsRead - a.rowsRead);
  const out = [`#### ${title}`, "", "| object | statement | calls | rows read | rows written |", "|---|---|---:|---:|---:|"];
  let calls = 0;
  let read = 0;
  let written = 0;
  for (const s of rows) {
    calls += s.calls;
    read += s.rowsRead;
    written += s.rowsWritten;
    out.push(
      `| ${s.cls} | \`${s.sql.replace(/\|/g, "\\|")}\` | ${f(s.calls / delivered, 2)} | ${f(s.rowsRead / delivered, 2)} | ${f(s.rowsWritten / delivered, 2)} |`,
    );
  }
  out.push(`| | **total** | **${f(calls / delivered, 2)}** | **${f(read / delivered, 2)}** | **${f(written / delivered, 2)}** |`, "");
  return out;
}

function d1Table(title, d1, delivered) {
  const out = [`#### ${title}`, "", "| statement | calls | rows read | rows written |", "|---|---:|---:|---:|"];
  for (const [sql, s] of Object.entries(d1 ?? {})) {
    if (s.calls === 0) continue;
    out.push(
      `| \`${sql.replace(/\|/g, "\\|")}\` | ${f(s.calls / delivered, 3)} | ${f(s.rowsRead / delivered, 3)} | ${f(s.rowsWritten / delivered, 3)} |`,
    );
  }
  out.push("");
  return out;
}

function requestTable(phases) {
  const methods = new Set();
  for (const [, c] of phases)
    for (const [cls, perMethod] of Object.entries(c.doRequests ?? {})) for (const m of Object.keys(perMethod)) methods.add(`${cls}.${m}`);
  const out = [
    "#### Durable Object requests per delivered event, by method",
    "",
    `| method | ${phases.map(([name]) => name).join(" | ")} |`,
    `|---|${phases.map(() => "---:").join("|")}|`,
  ];
  for (const key of [...methods].sort()) {
    const [cls, m] = key.split(".");
    out.push(`| ${key} | ${phases.map(([, c, n]) => f((c.doRequests?.[cls]?.[m] ?? 0) / n, 3)).join(" | ")} |`);
  }
  out.push("");
  return out;
}

/**
 * The headline figures of a run, small enough to commit (bench/results/full-run.json): each figure with its
 * floor and ratio, rows written and list price per delivered event, the checks, machine, date and commit.
 */
export function summarize(r) {
  const round = (x, digits) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : null);
  const figure = (service, floor, digits = 0) => ({
    service: round(service, digits),
    floor: round(floor, digits),
    ratio: round(service / floor, 2),
  });
  const ingest = ingestionFigure(r);
  const limited = ingestionFigure(r, "baselineLimited");
  const e2e = r.endToEnd;
  const low = r.endToEndLow;
  const lane = r.lane;
  const fan = r.fanout;
  const e2eCost = costOf(e2e.service, e2e.service.count);
  const e2eFloor = floorCostOf(e2e.baseline, e2e.baseline.count);
  const fanCost = costOf(fan.service, fan.service.received);
  const fanFloor = floorCostOf(fan.baseline, fan.baseline.received);
  const laneCost = costOf(lane.service, lane.service.delivered);
  return {
    about: "Headline figures of one full `npm run bench`; docs/benchmarks.md holds the same run's tables. Ratios are service / floor.",
    startedAt: r.startedAt,
    durationSeconds: r.durationSeconds,
    git: r.git ?? null,
    machine: r.machine,
    figures: {
      ingestionPerSecond: {
        ...figure(ingest("requestsPerSecond").service, ingest("requestsPerSecond").floor),
        ratio: round(ingest("requestsPerSecond").ratio, 2),
        connections: r.config.connections,
      },
      ingestionP99Ms: { ...figure(ingest("p99").service, ingest("p99").floor, 1), ratio: round(ingest("p99").ratio, 2) },
      // The same against the floor that also calls a Rate Limiting binding once per request (see docs/benchmarks.md).
      ingestionPerSecondVsLimitedFloor: {
        ...figure(limited("requestsPerSecond").service, limited("requestsPerSecond").floor),
        ratio: round(limited("requestsPerSecond").ratio, 2),
      },
      ingestionP99MsVsLimitedFloor: { ...figure(limited("p99").service, limited("p99").floor, 1), ratio: round(limited("p99").ratio, 2) },
      // EVENT_VALIDATION=enforce ("service") against off ("floor"), same worker and body.
      ...(validationFigure(r)
        ? {
            ingestionEnforceVsOffPerSecond: {
              ...figure(validationFigure(r).enforce, validationFigure(r).off),
              ratio: round(validationFigure(r).ratio, 2),
              ...(validationFigure(r).cpuRatio === null ? {} : { cpuPerRequestRatio: round(validationFigure(r).cpuRatio, 2) }),
            },
          }
        : {}),
      endToEndP50Ms: { ...figure(e2e.service.latency.p50, e2e.baseline.latency.p50), eventsPerSecond: e2e.rate, endpoints: e2e.endpoints },
      endToEndP99Ms: { ...figure(e2e.service.latency.p99, e2e.baseline.latency.p99), eventsPerSecond: e2e.rate },
      ...(low ? { endToEndLowRateP50Ms: { ...figure(low.service.latency.p50, low.baseline.latency.p50), eventsPerSecond: low.rate } } : {}),
      laneDeliveriesPerSecond: { ...figure(lane.service.perSecond, lane.baseline.perSecond), events: lane.events },
      ...(lane.contractFloor
        ? { laneVsContractFloorPerSecond: { ...figure(lane.contractFloor.service, lane.contractFloor.contract), events: lane.events } }
        : {}),
      fanoutAllReceivedMs: { ...figure(fan.service.allMs, fan.baseline.allMs), webhooks: fan.webhooks },
    },
    doRowsWrittenPerDeliveredEvent: {
      endToEnd: round(e2eCost.doRowsWritten, 2),
      fanout: round(fanCost.doRowsWritten, 2),
      oneLane: round(laneCost.doRowsWritten, 2),
      floor: 0,
    },
    dollarsPerMillionDelivered: {
      endToEnd: figure(e2eCost.dollarsPerMillion, e2eFloor.dollarsPerMillion, 2),
      fanout: figure(fanCost.dollarsPerMillion, fanFloor.dollarsPerMillion, 2),
      oneLane: round(laneCost.dollarsPerMillion, 2),
    },
    checks: {
      laneOutOfOrder: lane.service.outOfOrder,
      duplicates: e2e.service.duplicates + lane.service.duplicates,
      delivered: {
        endToEnd: `${e2e.service.count}/${e2e.service.sent}`,
        fanout: `${fan.service.received}/${r.config.fanoutRounds * fan.webhooks}`,
      },
    },
  };
}

/** JSON with one line per figure: objects below the top two levels stay on one line. */
/**
 * The machine-readable figures every run writes to bench/results/summary.json, exactly these keys, each a number
 * from that run. End-to-end is the run below this machine's saturation (BENCH_E2E_LOW_RATE) when there is one.
 */
export function headlineFigures(r) {
  const ingest = ingestionFigure(r);
  const e2e = r.endToEndLow ?? r.endToEnd;
  const e2eCost = costOf(e2e.service, e2e.service.count);
  const e2eFloor = floorCostOf(e2e.baseline, e2e.baseline.count);
  const accepted = r.ingestion.reduce((n, round) => n + round.service.accepted, 0);
  const d1Queries = r.ingestion.reduce(
    (n, round) => n + Object.values(round.service.counters.d1 ?? {}).reduce((a, s) => a + s.calls, 0),
    0,
  );
  const round = (x, digits = 3) => Number(x.toFixed(digits));
  return {
    ingestionRatio: round(ingest("requestsPerSecond").ratio),
    ingestionP99Ratio: round(ingest("p99").ratio),
    laneRatio: round(r.lane.service.perSecond / r.lane.baseline.perSecond),
    ...(r.lane.contractFloor ? { laneContractRatio: round(r.lane.contractFloor.ratio) } : {}),
    fanoutRatio: round(r.fanout.service.allMs / r.fanout.baseline.allMs),
    e2eP50Ms: round(e2e.service.latency.p50, 1),
    e2eFloorP50Ms: round(e2e.baseline.latency.p50, 1),
    rowsWrittenPerDelivered: round(e2eCost.doRowsWritten),
    doRequestsPerDelivered: round(e2eCost.doRequests),
    d1QueriesPerAccepted: round(d1Queries / accepted, 4),
    dollarsPerMillion: round(e2eCost.dollarsPerMillion, 2),
    floorDollarsPerMillion: round(e2eFloor.dollarsPerMillion, 2),
    ...(r.slowEndpoint
      ? { slowEndpointRatio: round(r.slowEndpoint.keyed.ratio), slowEndpointStrictRatio: round(r.slowEndpoint.strict.ratio) }
      : {}),
    ...(r.endToEndNoOrder ? { e2eNoOrderP50Ms: round(r.endToEndNoOrder.service.latency.p50, 1) } : {}),
    ...(r.backlog
      ? {
          backlogDrainRatioEndpoint: round(r.backlog.endpoint.ratio),
          backlogDrainRatioKey: round(r.backlog.key.ratio),
          backlogDrainRatioNone: round(r.backlog.none.ratio),
        }
      : {}),
    ...(r.adaptive
      ? {
          adaptiveGoodputRatio: round(r.adaptive.ratio),
          adaptive503Share: round(r.adaptive.share503),
          adaptiveKeyOutOfOrder: r.adaptive.keyOutOfOrder,
        }
      : {}),
    ...(r.batch ? { strictBatchRatio: round(r.batch.ratio), strictBatchOutOfOrder: r.batch.outOfOrder } : {}),
    ...(r.polling
      ? { pollingPerSecond: round(r.polling.perSecond, 0), pollingToPushRatio: round(r.polling.perSecond / r.lane.service.perSecond) }
      : {}),
  };
}

export function summaryJson(summary) {
  const inline = (v) =>
    `{ ${Object.entries(v)
      .map(([k, x]) => `${JSON.stringify(k)}: ${JSON.stringify(x)}`)
      .join(", ")} }`;
  const block = (obj, depth) =>
    "{\n" +
    Object.entries(obj)
      .map(
        ([k, v]) =>
          `${"  ".repeat(depth + 1)}${JSON.stringify(k)}: ${v && typeof v === "object" && depth < 1 ? block(v, depth + 1) : v && typeof v === "object" ? inline(v) : JSON.stringify(v)}`,
      )
      .join(",\n") +
    `\n${"  ".repeat(depth)}}`;
  return block(summary, 0) + "\n";
}

/**
 * Puts the generated section between the markers of `file` (docs/benchmarks.md; the hand-written text stays), so it
 * holds the current run's tables only. The run it replaces keeps its headline table (up to the first `####` table)
 * in `historyFile` (docs/benchmarks-history.md), newest first under its marker.
 */
export function writeReport(file, markdown, historyFile) {
  const section = `${START}\n${markdown}\n${END}`;
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `# Benchmarks\n\n${section}\n`);
    return;
  }
  const text = readFileSync(file, "utf8");
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (!(start >= 0 && end > start)) {
    writeFileSync(file, `${text.trimEnd()}\n\n${section}\n`);
    return;
  }
  const previous = text.slice(start + START.length, end).trim();
  if (historyFile && previous !== "") keepHeadline(historyFile, previous.split("\n#### ")[0].trim());
  writeFileSync(file, text.slice(0, start) + section + text.slice(end + END.length));
}

/** Adds one replaced run's headline table to the history page, right under its marker. */
function keepHeadline(historyFile, headline) {
  const text = existsSync(historyFile) ? readFileSync(historyFile, "utf8") : "# Benchmarks: history\n";
  const at = text.indexOf(HISTORY);
  const entry = `${HISTORY}\n\n${headline}\n`;
  writeFileSync(
    historyFile,
    at >= 0 ? text.slice(0, at) + entry + text.slice(at + HISTORY.length) : `${text.trimEnd()}\n\n## Earlier full runs\n\n${entry}`,
  );
}
