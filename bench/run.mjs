#!/usr/bin/env node
// `npm run bench`: the service against the platform's floor, side by side in one run on this machine.
//
// Starts the service (src/, through bench/worker/counted.ts, which counts billable operations) and the
// baseline Worker (bench/baseline/) with `wrangler dev`, each on fresh local state, plus a receiver on
// 127.0.0.1; then measures ingestion, one lane's ordered throughput, fan-out, end-to-end latency and the
// operations each delivered event costs. Every run writes bench/results/summary.json (the machine-readable
// figures, not committed). A full run also writes everything to bench/results/latest.json (not committed),
// the headline figures to bench/results/full-run.json and the tables to the results section of
// docs/benchmarks.md (both committed). Every duration is an env var (see docs/benchmarks.md, "Run it");
// BENCH_QUICK=1 shrinks all and writes bench/results/quick.json and quick-summary.json besides summary.json.
import autocannon from "autocannon";
import { Agent, request as httpRequest } from "node:http";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, freemem, totalmem, tmpdir, type as osType, release } from "node:os";
import { join } from "node:path";
import {
  machineCpuSeconds,
  sleep,
  startReceiver,
  startWranglerDev,
  stopAll,
  treeCpuSeconds,
  waitForHttp,
  wranglerSync,
} from "./lib/processes.mjs";
import { adaptiveGoodput } from "./lib/adaptive.mjs";
import { arrivals, outOfOrderPerKey } from "./lib/arrivals.mjs";
import { strictBatches } from "./lib/batch.mjs";
import { backlogDrain } from "./lib/backlog.mjs";
import { profiled } from "./lib/profile.mjs";
import { headlineFigures, percentiles, renderReport, summarize, summaryJson, writeReport } from "./lib/report.mjs";

process.env.WRANGLER_SEND_METRICS ??= "false";

const num = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback);
const quick = process.env.BENCH_QUICK === "1";
const cfg = {
  quick,
  portBase: num("BENCH_PORT_BASE", 8800),
  connections: num("BENCH_CONNECTIONS", 16),
  ingestSeconds: num("BENCH_INGEST_SECONDS", quick ? 3 : 10),
  ingestRounds: num("BENCH_INGEST_ROUNDS", quick ? 1 : 4),
  laneEvents: num("BENCH_LANE_EVENTS", quick ? 400 : 3000),
  // Rounds of the lane against the bare loop, back to back in alternating order; the median round is reported.
  laneRounds: num("BENCH_LANE_ROUNDS", quick ? 1 : 5),
  // The delivery log's read paths, timed over a lane holding this many events (the one-lane phase's, topped up).
  logEvents: num("BENCH_LOG_EVENTS", quick ? 2000 : 10000),
  fanoutWebhooks: num("BENCH_FANOUT_WEBHOOKS", 100),
  fanoutRounds: num("BENCH_FANOUT_ROUNDS", quick ? 2 : 7),
  e2eRate: num("BENCH_E2E_RATE", 200),
  e2eEndpoints: num("BENCH_E2E_ENDPOINTS", 50),
  e2eSeconds: num("BENCH_E2E_SECONDS", quick ? 5 : 30),
  // The same at a rate this 2-core machine's single workerd sustains, so latency shows the design, not a backlog.
  e2eLowRate: num("BENCH_E2E_LOW_RATE", 100),
  e2eLowSeconds: num("BENCH_E2E_LOW_SECONDS", quick ? 5 : 15),
  // A rate-limited lane (rateLimitPerSecond) given a burst, against an unlimited lane given the same events at that rate.
  rateLimit: num("BENCH_RATE_LIMIT", 20),
  rateEvents: num("BENCH_RATE_EVENTS", quick ? 60 : 300),
  // One webhook whose endpoint answers after slowDelayMs: ordered by key (slowKeys contacts, slowMaxInFlight in
  // flight) against slowMaxInFlight / delay, and with the default ordering against 1 / delay.
  slowDelayMs: num("BENCH_SLOW_DELAY_MS", 100),
  slowEvents: num("BENCH_SLOW_EVENTS", quick ? 400 : 2000),
  slowKeys: num("BENCH_SLOW_KEYS", quick ? 40 : 200),
  slowMaxInFlight: num("BENCH_SLOW_MAX_IN_FLIGHT", 20),
  slowStrictEvents: num("BENCH_SLOW_STRICT_EVENTS", quick ? 40 : 100),
  // A polling webhook's stream read by one consumer in pages of 100 (docs/polling.md), against the lane's push rate.
  pollEvents: num("BENCH_POLL_EVENTS", quick ? 1000 : 3000),
  // A backlog recovered at once under each ordering (bench/lib/backlog.mjs): its first and last `backlogWindow`
  // deliveries per second compared.
  backlogEvents: num("BENCH_BACKLOG_EVENTS", quick ? 2000 : 20000),
  backlogWindow: num("BENCH_BACKLOG_WINDOW", quick ? 200 : 2000),
  // Adaptive concurrency (bench/lib/adaptive.mjs): a webhook with a ceiling of 50 against a receiver that takes 8 at once.
  adaptiveEvents: num("BENCH_ADAPTIVE_EVENTS", quick ? 400 : 2000),
  adaptiveKeys: num("BENCH_ADAPTIVE_KEYS", quick ? 40 : 200),
  // Ordered batches (bench/lib/batch.mjs): the default ordering, batches of up to 50, the slow endpoint's answers.
  batchEvents: num("BENCH_BATCH_EVENTS", quick ? 1000 : 2000),
  adaptiveCapacity: num("BENCH_ADAPTIVE_CAPACITY", 8),
  writeDocs: process.env.BENCH_WRITE_DOCS !== "0",
  // BENCH_ONLY=lane: only the one-lane rounds, printed, nothing written (for working on the lane).
  only: process.env.BENCH_ONLY ?? null,
  // BENCH_PROFILE=<file>: a CPU profile of the service's isolate over the lane's service rounds (bench/lib/profile.mjs).
  profile: process.env.BENCH_PROFILE ?? null,
};

const root = new URL("..", import.meta.url).pathname;
const ports = { main: cfg.portBase, bare: cfg.portBase + 2, receiver: cfg.portBase + 10 };
const MAIN = `http://127.0.0.1:${ports.main}`;
const BARE = `http://127.0.0.1:${ports.bare}`;
const RECEIVER = `http://127.0.0.1:${ports.receiver}`;
const ADMIN_TOKEN = "bench-admin-token-at-least-32-characters";
/** A key made for each run: the bench's state is thrown away with it. */
const BENCH_ENCRYPTION_KEYS = `bench:${randomBytes(32).toString("base64")}`;
const DEV_KEY = "whk_dev_local_key_do_not_use_in_production";
const orderingWindowMs = Number(/ORDERING_WINDOW_MS\s*=\s*"(\d+)"/.exec(readFileSync(join(root, "wrangler.toml"), "utf8"))?.[1] ?? 1000);

const log = (...args) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...args);

// ---------- small HTTP helpers ----------

async function call(base, method, path, body, key) {
  const response = await fetch(base + path, {
    method,
    headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} -> ${response.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}

/** A lean POST over kept-alive sockets (cheaper on the driver's CPU than fetch); resolves with the status. */
const agent = new Agent({ keepAlive: true, maxSockets: 128 });
function post(url, headers, body) {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: "POST", agent, headers: { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

async function pool(items, size, fn) {
  const results = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(size, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i], i);
      }
    }),
  );
  return results;
}

async function waitFor(what, predicate, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return true;
    await sleep(100);
  }
  log(`warning: timed out after ${timeoutMs / 1000} s waiting for ${what}`);
  return false;
}

const counters = () => call(MAIN, "GET", "/__bench/counters");
const bareStats = () => call(BARE, "GET", "/stats");

/** The main worker's queue is drained when every message written was acked. */
const mainDrained = () =>
  waitFor(
    "the service's queue to drain",
    async () => {
      const c = await counters();
      return c.queue.acks >= c.queue.messagesWritten;
    },
    120_000,
  );
const bareDrained = () =>
  waitFor(
    "the baseline's queue to drain",
    async () => {
      const s = await bareStats();
      return s.acked >= s.sent;
    },
    120_000,
  );

// ---------- CPU and counters around a phase ----------

let receiverPid = 0;
let mainPid = 0;
let barePid = 0;

function cpuSnapshot() {
  return {
    at: performance.now(),
    machine: machineCpuSeconds(),
    main: treeCpuSeconds(mainPid),
    bare: treeCpuSeconds(barePid),
    receiver: treeCpuSeconds(receiverPid),
    driver: process.cpuUsage(),
  };
}

function cpuDelta(a, b) {
  const wall = (b.at - a.at) / 1000;
  const sum = (o) => Object.values(o).reduce((x, y) => x + y, 0);
  const share = (seconds) => Math.round((seconds / wall) * 100);
  const machineBusy = b.machine.busy - a.machine.busy;
  const main = sum(b.main) - sum(a.main);
  const mainWorkerd = (b.main.workerd ?? 0) - (a.main.workerd ?? 0);
  const bare = sum(b.bare) - sum(a.bare);
  const receiver = sum(b.receiver) - sum(a.receiver);
  const driver = (b.driver.user + b.driver.system - a.driver.user - a.driver.system) / 1e6;
  return {
    wallSeconds: wall,
    cores: cpus().length,
    /** percent of one core, over the phase */
    percent: {
      machine: share(machineBusy),
      service: share(main),
      serviceWorkerd: share(mainWorkerd),
      baseline: share(bare),
      receiver: share(receiver),
      driver: share(driver),
      other: share(machineBusy - main - bare - receiver - driver),
    },
    serviceWorkerdSeconds: mainWorkerd,
    baselineWorkerdSeconds: (b.bare.workerd ?? 0) - (a.bare.workerd ?? 0),
  };
}

/** Numeric difference of two counter snapshots, nested objects included. */
function diff(after, before) {
  if (typeof after === "number") return after - (typeof before === "number" ? before : 0);
  const out = {};
  for (const [k, v] of Object.entries(after ?? {})) out[k] = diff(v, before?.[k]);
  return out;
}

/**
 * The machine is shared (other people's test runs): before a measurement, wait (within a budget) until
 * what is not ours uses less than 40% of a core, and record what it used, so a disturbed figure shows.
 */
let quietBudgetMs = num("BENCH_QUIET_BUDGET_SECONDS", quick ? 10 : 120) * 1000;
async function quietMachine() {
  const started = Date.now();
  for (;;) {
    const a = cpuSnapshot();
    await sleep(1000);
    const other = cpuDelta(a, cpuSnapshot()).percent.other;
    const waited = Date.now() - started;
    if (other < 40 || waited >= quietBudgetMs) {
      quietBudgetMs = Math.max(0, quietBudgetMs - waited + 1000);
      return { otherPercentAtStart: other, waitedMs: waited - 1000 };
    }
  }
}

async function measured(fn, { drain } = { drain: true }) {
  if (drain) await Promise.all([mainDrained(), bareDrained()]);
  const quiet = await quietMachine();
  const c0 = await counters();
  const b0 = await bareStats();
  const cpu0 = cpuSnapshot();
  const result = await fn();
  const cpu1 = cpuSnapshot();
  // Let the lanes finish their bookkeeping after the last arrival (attempt row, next alarm).
  await sleep(1500);
  await Promise.all([mainDrained(), bareDrained()]);
  const c1 = await counters();
  const b1 = await bareStats();
  return { ...result, quiet, cpu: cpuDelta(cpu0, cpu1), counters: diff(c1, c0), baselineOps: diff(b1, b0) };
}

function arrivalsSummary(take, held) {
  const latencies = take.arrival.map((t, i) => t - take.accepted[i]).filter((x) => Number.isFinite(x));
  return {
    count: take.arrival.length,
    duplicates: take.duplicates,
    latency: percentiles(latencies),
    // How long after the lane's ordering window released it (acceptance + window) each event arrived.
    afterRelease: held ? percentiles(latencies.map((x) => x - orderingWindowMs)) : undefined,
  };
}

// ---------- the phases ----------

const INGEST_BODY = JSON.stringify({
  type: "contact.updated",
  data: { contact: { id: 1234, firstName: "Ana", lastName: "Silva", phone: "+351900000000" }, changes: ["firstName"] },
});

/** A contact.updated in respond.io's shape that matches its schema: what the validation phase sends in both modes. */
const VALIDATED_BODY = JSON.stringify({
  type: "contact.updated",
  data: {
    contact: {
      id: 1046288,
      firstName: "Ana",
      lastName: "Silva",
      phone: "+60123456789",
      email: "ana.silva@example.com",
      language: "en",
      profilePic: null,
      countryCode: "MY",
      status: "open",
      tags: ["vip", "newsletter"],
      assignee: { id: 2231, firstName: "Ravi", lastName: "Kumar", email: "ravi.kumar@example.com" },
      lifecycle: "Hot Lead",
      created_at: 1795000000,
    },
    changes: [{ field: "email", from: "ana@example.org", to: "ana.silva@example.com" }],
  },
});

/**
 * Ingestion at full speed. Each connection sends as its own workspace: INGEST_LIMITER allows one workspace
 * 1000 requests per 10 s, and a single producer over that would measure 429s, not ingestion.
 */
async function cannon(base, path = "/v1/events", { body = INGEST_BODY, headers = {} } = {}) {
  let next = 0;
  const result = await autocannon({
    url: `${base}${path}`,
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${DEV_KEY}`, ...headers },
    body,
    connections: cfg.connections,
    duration: cfg.ingestSeconds,
    setupClient: (client) => {
      const key = ingestKeys[next++ % ingestKeys.length];
      client.setHeaders({ "content-type": "application/json", authorization: `Bearer ${key}`, ...headers });
    },
  });
  const ok = result["2xx"];
  return {
    requestsPerSecond: ok / (result.duration ?? cfg.ingestSeconds),
    p50: result.latency.p50,
    p99: result.latency.p99,
    accepted: ok,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

async function ingestion() {
  const rounds = [];
  for (let r = 0; r < cfg.ingestRounds; r++) {
    // The floor twice: bare, and with one Rate Limiting call per request (the service makes one; locally
    // the binding is a simulation, a JSON fetch to a Durable Object per call, so it is measured on its own).
    const order = r % 2 === 0 ? ["service", "baseline", "baselineLimited"] : ["baselineLimited", "baseline", "service"];
    const round = {};
    for (const who of order) {
      log(`ingestion round ${r + 1}/${cfg.ingestRounds}: ${who}, ${cfg.connections} connections, ${cfg.ingestSeconds} s`);
      round[who] = await measured(async () =>
        who === "service" ? cannon(MAIN) : cannon(BARE, who === "baselineLimited" ? "/v1/events/limited" : "/v1/events"),
      );
    }
    rounds.push(round);
  }
  return rounds;
}

/**
 * Ingestion with EVENT_VALIDATION=enforce against off: the same worker, body and connections, back to back in
 * each round (alternating which goes first); the mode is chosen per request (bench/worker/counted.ts). Each run
 * starts, like ingestion's, once the queue has drained the previous run's events and the machine is quiet
 * (measured()): without that, whichever mode went second ran beside the consumer still routing the first's
 * ~4,000 events, and one round's ratio swung from 0.82 to 1.11. measured() also gives each run's workerd CPU, so the
 * report adds CPU per accepted request, which scheduling noise moves less than requests per second.
 */
async function validation() {
  const rounds = [];
  for (let r = 0; r < cfg.ingestRounds; r++) {
    const round = {};
    for (const mode of r % 2 === 0 ? ["off", "enforce"] : ["enforce", "off"]) {
      log(
        `validation round ${r + 1}/${cfg.ingestRounds}: EVENT_VALIDATION=${mode}, ${cfg.connections} connections, ${cfg.ingestSeconds} s`,
      );
      round[mode] = await measured(() =>
        cannon(MAIN, "/v1/events", { body: VALIDATED_BODY, headers: { "x-bench-event-validation": mode } }),
      );
    }
    rounds.push(round);
  }
  return rounds;
}

function laneEvent(i) {
  return { type: "comment.created", data: { seq: i, comment: { id: 9000 + i, author: "Ana", text: "Ticket escalated to tier 2." } } };
}

async function laneThroughput(laneKey) {
  const n = cfg.laneEvents;
  const serviceRun = () =>
    measured(async () => {
      const started = performance.now();
      for (let i = 0; i < n; i += 100) {
        const events = [];
        for (let j = i; j < Math.min(n, i + 100); j++) events.push(laneEvent(j));
        await call(MAIN, "POST", "/v1/events/batch", { events }, laneKey);
      }
      const acceptedInMs = performance.now() - started;
      await waitFor("the lane's deliveries", async () => (await receiver.count("lane")) >= n, 300_000);
      return { acceptedInMs, ...laneSummary(await receiver.take("lane"), true) };
    });
  const body = JSON.stringify({ event_type: "comment.created", event_id: "evt_loop", timestamp: Date.now(), seq: 0, ...laneEvent(0).data });
  const bareLoop = async (extra, without) => {
    await call(BARE, "POST", "/loop", { url: `${RECEIVER}/p/laneb/0`, n, body, extra, without });
    await waitFor("the bare loop's deliveries", async () => (await receiver.count("laneb")) >= n, 300_000);
    return laneSummary(await receiver.take("laneb"), false);
  };
  // Each round measures both back to back (alternating which goes first), so its ratio is the least
  // disturbed by the machine's other load; the round with the median ratio is the one reported.
  // The contract floor too (bench/baseline/worker.ts contractLoop): the same loop doing the least per-attempt work
  // the contract asks of a lane (store, three signatures, a span, sealed headers, grouped outcome writes).
  const rounds = [];
  const what = {
    service: `${n} events to one endpoint, service`,
    baseline: `${n} fetches in a row from one bare Durable Object, baseline`,
    contract: `${n} fetches in a row doing the contract's per-attempt work, contract floor`,
  };
  for (let r = 0; r < cfg.laneRounds; r++) {
    const round = {};
    for (const who of r % 2 === 0 ? ["service", "baseline", "contract"] : ["contract", "baseline", "service"]) {
      log(`one lane, round ${r + 1}/${cfg.laneRounds}: ${what[who]}`);
      round[who] =
        who !== "service"
          ? await measured(() => bareLoop(who === "contract" ? "contract" : "none"))
          : cfg.profile
            ? await profiled(ports.main + 1, cfg.profile.replace(/(\.cpuprofile)?$/, `-${r + 1}.cpuprofile`), serviceRun)
            : await serviceRun();
    }
    round.ratio = round.service.perSecond / round.baseline.perSecond;
    round.contractRatio = round.service.perSecond / round.contract.perSecond;
    round.contractToBare = round.contract.perSecond / round.baseline.perSecond;
    rounds.push(round);
  }
  const median = (key) => [...rounds].sort((a, b) => a[key] - b[key])[Math.floor((rounds.length - 1) / 2)];
  const { service, baseline } = median("ratio");
  const { service: serviceForContract, contract } = median("contractRatio");
  // The floor plus one piece of a lane's per-attempt work at a time: what each costs on its own.
  log("one lane: the bare loop plus one SQLite write per attempt, then plus two HMAC signatures per attempt");
  const withWrite = await bareLoop("write");
  const withSigning = await bareLoop("sign");
  // The contract floor with one piece of its work left out at a time: what each piece costs the loop.
  const contractWithout = {};
  for (const piece of ["store", "signatures", "span", "seal"]) {
    log(`one lane: the contract floor without ${piece}`);
    contractWithout[piece] = (await bareLoop("contract", piece)).perSecond;
  }
  return {
    events: n,
    service,
    baseline,
    withWrite,
    withSigning,
    contractWithout,
    // The median round by contractRatio (it may be another round than the median by ratio).
    contractFloor: {
      service: serviceForContract.perSecond,
      contract: contract.perSecond,
      ratio: serviceForContract.perSecond / contract.perSecond,
      // The contract floor against the bare loop: the median of the rounds' own ratios (each back to back).
      toBare: median("contractToBare").contractToBare,
    },
    rounds: rounds.map((r) => ({
      service: r.service.perSecond,
      baseline: r.baseline.perSecond,
      contract: r.contract.perSecond,
      ratio: r.ratio,
      contractRatio: r.contractRatio,
      // workerd CPU per delivered event (ms), which the machine's other load moves less than the rates.
      serviceCpuMs: (1000 * r.service.cpu.serviceWorkerdSeconds) / n,
      baselineCpuMs: (1000 * r.baseline.cpu.baselineWorkerdSeconds) / n,
    })),
  };
}

/**
 * The delivery log's read paths over one big lane (its events have no status or type index; the log scans
 * the clustered table): the newest page, a page deep in the log by its cursor, a status filter nothing
 * matches (a whole scan), and a type filter. Median and max of 10 requests each, over HTTP as a user sees it.
 */
async function logReads(laneKey, alreadyThere) {
  const target = Math.max(cfg.logEvents, alreadyThere);
  log(`delivery log: topping the lane up to ${target} events, then timing its read paths`);
  for (let i = alreadyThere; i < target; i += 100) {
    const events = [];
    for (let j = i; j < Math.min(target, i + 100); j++) events.push(laneEvent(j));
    await call(MAIN, "POST", "/v1/events/batch", { events }, laneKey);
  }
  await waitFor("the top-up deliveries", async () => (await receiver.count("lane")) >= target - alreadyThere, 300_000);
  await receiver.take("lane");
  const [{ id }] = (await call(MAIN, "GET", "/v1/webhooks", undefined, laneKey)).data;
  const path = `/v1/webhooks/${id}/deliveries`;
  let cursor = null;
  for (let page = 0; page < Math.floor(target / 100 / 2); page++)
    cursor = (await call(MAIN, "GET", `${path}?limit=100${cursor ? `&cursor=${cursor}` : ""}`, undefined, laneKey)).nextCursor;
  const timed = async (query) => {
    const ms = [];
    for (let i = 0; i < 10; i++) {
      const started = performance.now();
      await call(MAIN, "GET", `${path}${query}`, undefined, laneKey);
      ms.push(performance.now() - started);
    }
    ms.sort((a, b) => a - b);
    return { query, medianMs: ms[5], maxMs: ms[9] };
  };
  return {
    events: target,
    reads: [
      await timed("?limit=50"),
      await timed(`?limit=50&cursor=${cursor}`),
      await timed("?status=dropped&limit=50"),
      await timed("?type=comment.created&status=delivered&limit=100"),
    ],
  };
}

/** Deliveries per second over the middle 80% of arrivals (no start-up or tail), and whether order held. */
function laneSummary(take, held) {
  const { order, t, n, lo, hi, perSecond } = arrivals(take);
  let outOfOrder = 0;
  for (let k = 1; k < n; k++) if (take.seq[order[k]] < take.seq[order[k - 1]]) outOfOrder++;
  // With the ordering window, an event cannot leave before acceptance + window: count the middle
  // deliveries that left within 20 ms of that moment (the lane was waiting on the window, not working).
  let waitingOnWindow = 0;
  if (held) {
    for (let k = lo; k <= hi; k++) if (t[k] - (take.accepted[order[k]] + orderingWindowMs) < 20) waitingOnWindow++;
  }
  return {
    delivered: n,
    duplicates: take.duplicates,
    perSecond,
    overallPerSecond: (n - 1) / ((t[n - 1] - t[0]) / 1000),
    outOfOrder,
    waitingOnWindowShare: held ? waitingOnWindow / (hi - lo + 1) : 0,
  };
}

/**
 * What a rate limit costs: a burst to a lane limited to `rateLimit`/s waits for each token with an alarm;
 * the same events sent at that rate to an unlimited lane wake it once each. Rows and requests per delivered
 * event should be no higher for the limited lane (a wait is an alarm, not a busy loop).
 */
async function rateLimited(limitedKey, pacedKey) {
  const n = cfg.rateEvents;
  const rate = cfg.rateLimit;
  log(`rate-limited lane: ${n} events in one burst to an endpoint limited to ${rate}/s`);
  const limited = await measured(async () => {
    for (let i = 0; i < n; i += 100) {
      const events = [];
      for (let j = i; j < Math.min(n, i + 100); j++) events.push(laneEvent(j));
      await call(MAIN, "POST", "/v1/events/batch", { events }, limitedKey);
    }
    await waitFor("the rate-limited lane's deliveries", async () => (await receiver.count("rl")) >= n, 120_000 + (n / rate) * 2000);
    return laneSummary(await receiver.take("rl"), true);
  });
  log(`unlimited lane: the same ${n} events sent one by one at ${rate}/s`);
  const paced = await measured(async () => {
    const started = performance.now();
    for (let i = 0; i < n; i++) {
      await call(MAIN, "POST", "/v1/events", laneEvent(i), pacedKey);
      await sleep(Math.max(0, started + ((i + 1) * 1000) / rate - performance.now()));
    }
    await waitFor("the paced lane's deliveries", async () => (await receiver.count("rlu")) >= n, 120_000);
    return laneSummary(await receiver.take("rlu"), true);
  });
  return { events: n, rate, limited, paced };
}

async function fanout(fanKey) {
  const urls = Array.from({ length: cfg.fanoutWebhooks }, (_, j) => `${RECEIVER}/p/fanb/${j}`);
  const run = async (who) => {
    const rounds = [];
    for (let r = 0; r < cfg.fanoutRounds; r++) {
      const phase = who === "service" ? "fan" : "fanb";
      const data = { round: r, conversation: { id: 500 + r, status: "closed", closedBy: "Ana" } };
      if (who === "service") await call(MAIN, "POST", "/v1/events", { type: "conversation.closed", data }, fanKey);
      else await call(BARE, "POST", "/v1/events", { type: "conversation.closed", data: { ...data, to: urls } });
      await waitFor(`fan-out round ${r + 1} (${who})`, async () => (await receiver.count(phase)) >= cfg.fanoutWebhooks, 60_000);
      const take = await receiver.take(phase);
      const latencies = take.arrival.map((t, i) => t - take.accepted[i]);
      rounds.push({
        received: take.arrival.length,
        allMs: Math.max(...latencies),
        firstMs: Math.min(...latencies),
        medianMs: percentiles(latencies).p50,
        spreadMs: Math.max(...take.arrival) - Math.min(...take.arrival),
      });
      await sleep(300);
    }
    const sorted = (key) => rounds.map((r) => r[key]).sort((a, b) => a - b);
    const mid = (xs) => xs[Math.floor((xs.length - 1) / 2)];
    return {
      rounds,
      allMs: mid(sorted("allMs")),
      firstMs: mid(sorted("firstMs")),
      medianMs: mid(sorted("medianMs")),
      spreadMs: mid(sorted("spreadMs")),
      received: rounds.reduce((a, r) => a + r.received, 0),
    };
  };
  log(`fan-out: one event to ${cfg.fanoutWebhooks} webhooks x ${cfg.fanoutRounds}, service`);
  const service = await measured(() => run("service"));
  log(`fan-out: baseline`);
  const baseline = await measured(() => run("baseline"));
  return { webhooks: cfg.fanoutWebhooks, service, baseline };
}

async function steady(who, keys, rate, seconds, servicePhase = "e2e") {
  const total = Math.round(rate * seconds);
  const phase = who === "service" ? servicePhase : "e2eb";
  const inflight = [];
  let failures = 0;
  let sent = 0;
  const started = performance.now();
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) * rate) / 1000) + 1);
    while (sent < due) {
      const i = sent++;
      const endpoint = i % cfg.e2eEndpoints;
      const data = {
        seq: i,
        contact: { id: 10_000 + endpoint, firstName: "Ana" },
        message: { type: "text", text: "Hi! Is my order on its way?" },
      };
      const request =
        who === "service"
          ? post(`${MAIN}/v1/events`, { authorization: `Bearer ${keys[endpoint]}` }, JSON.stringify({ type: "message.received", data }))
          : post(
              `${BARE}/v1/events`,
              {},
              JSON.stringify({ type: "message.received", data: { ...data, to: [`${RECEIVER}/p/e2eb/${endpoint}`] } }),
            );
      inflight.push(
        request.then(
          (status) => {
            if (status !== 202) failures++;
          },
          () => failures++,
        ),
      );
    }
    await sleep(2);
  }
  const sendSeconds = (performance.now() - started) / 1000;
  await Promise.all(inflight);
  await waitFor(`end-to-end deliveries (${who})`, async () => (await receiver.count(phase)) >= total - failures, 120_000);
  return { sent: total, failures, offeredPerSecond: total / sendSeconds, ...arrivalsSummary(await receiver.take(phase), phase === "e2e") };
}

/** The end-to-end mix at the low rate to webhooks with `ordering: "none"` (no ordering window): against endToEndLow's floor. */
async function endToEndNoOrder(keys, rate, seconds) {
  log(`end-to-end, ordering none: ${rate} events/s over ${cfg.e2eEndpoints} endpoints for ${seconds} s, service`);
  const service = await measured(() => steady("service", keys, rate, seconds, "e2en"));
  return { rate, endpoints: cfg.e2eEndpoints, seconds, service };
}

/**
 * A slow endpoint (answers after slowDelayMs): one webhook ordered by key over slowKeys contacts with
 * slowMaxInFlight in flight, against its bound slowMaxInFlight / delay; and one with the default ordering,
 * against 1 / delay. Deliveries per second over the middle 80% of arrivals.
 */
async function slowEndpoint(keyedKey, strictKey) {
  const run = async (key, phase, n, keys) => {
    for (let i = 0; i < n; i += 100) {
      const events = [];
      for (let j = i; j < Math.min(n, i + 100); j++)
        events.push({
          type: "message.received",
          data: { seq: j, contact: { id: 20_000 + (j % keys) }, message: { type: "text", text: "Hi" } },
        });
      await call(MAIN, "POST", "/v1/events/batch", { events }, key);
    }
    await waitFor(
      `the slow endpoint's deliveries (${phase})`,
      async () => (await receiver.count(phase)) >= n,
      120_000 + (n * cfg.slowDelayMs) / 2,
    );
    const take = await receiver.take(phase);
    // Under "key" only each contact's own events keep their order (laneSummary's outOfOrder counts the global
    // order, which parallel keys break by design): count arrivals that came before an earlier event of their key.
    return { ...laneSummary(take, false), keyOutOfOrder: outOfOrderPerKey(take, arrivals(take).order, keys) };
  };
  log(
    `slow endpoint: ${cfg.slowEvents} events over ${cfg.slowKeys} keys, ordering key, ${cfg.slowMaxInFlight} in flight, ${cfg.slowDelayMs} ms answers`,
  );
  const keyed = await measured(() => run(keyedKey, "slowk", cfg.slowEvents, cfg.slowKeys));
  log(`slow endpoint: ${cfg.slowStrictEvents} events, default ordering, ${cfg.slowDelayMs} ms answers`);
  const strict = await measured(() => run(strictKey, "slows", cfg.slowStrictEvents, 1));
  const bound = (inFlight) => (inFlight * 1000) / cfg.slowDelayMs;
  return {
    delayMs: cfg.slowDelayMs,
    keyed: {
      ...keyed,
      events: cfg.slowEvents,
      keys: cfg.slowKeys,
      maxInFlight: cfg.slowMaxInFlight,
      bound: bound(cfg.slowMaxInFlight),
      ratio: keyed.perSecond / bound(cfg.slowMaxInFlight),
    },
    strict: { ...strict, events: cfg.slowStrictEvents, bound: bound(1), ratio: strict.perSecond / bound(1) },
  };
}

async function endToEnd(keys, rate, seconds) {
  log(`end-to-end: ${rate} events/s over ${cfg.e2eEndpoints} endpoints for ${seconds} s, service`);
  const service = await measured(() => steady("service", keys, rate, seconds));
  log(`end-to-end: ${rate} events/s, baseline`);
  const baseline = await measured(() => steady("baseline", keys, rate, seconds));
  return { rate, endpoints: cfg.e2eEndpoints, seconds, orderingWindowMs, service, baseline };
}

/**
 * One consumer reading a polling webhook's stream in pages of 100, each read acknowledging the one before (the
 * cursor), from a stream that already holds the events: how fast events leave a lane by polling, to set beside
 * the one-lane phase's push rate (one request per event to an endpoint).
 */
async function polling(pollKey, pollWebhookId) {
  const n = cfg.pollEvents;
  log(`polling: ${n} events into one polling webhook, then one consumer reads them in pages of 100`);
  for (let i = 0; i < n; i += 100) {
    const events = [];
    for (let j = i; j < Math.min(n, i + 100); j++) events.push(laneEvent(j));
    await call(MAIN, "POST", "/v1/events/batch", { events }, pollKey);
  }
  const stats = () => call(MAIN, "GET", `/v1/webhooks/${pollWebhookId}/stats`, undefined, pollKey);
  await waitFor("the polling webhook's stream", async () => (await stats()).position.waiting >= n, 300_000);
  await sleep(orderingWindowMs + 100);
  return measured(
    async () => {
      const started = performance.now();
      let cursor = null;
      let read = 0;
      let pages = 0;
      let outOfOrder = 0;
      let last = -1;
      const pageMs = [];
      while (read < n) {
        const t = performance.now();
        const page = await call(
          MAIN,
          "GET",
          `/v1/webhooks/${pollWebhookId}/poll?limit=100${cursor ? `&cursor=${cursor}` : ""}`,
          undefined,
          pollKey,
        );
        pageMs.push(performance.now() - t);
        for (const event of page.data) {
          if (event.seq < last) outOfOrder++;
          last = event.seq;
        }
        read += page.data.length;
        pages++;
        cursor = page.nextCursor;
        if (page.data.length === 0) throw new Error(`polling: the stream ran dry after ${read} of ${n} events`);
      }
      // The last page is acknowledged too, as a consumer's next read would.
      await call(MAIN, "GET", `/v1/webhooks/${pollWebhookId}/poll?limit=1&cursor=${cursor}`, undefined, pollKey);
      const seconds = (performance.now() - started) / 1000;
      return { events: read, pages, perSecond: read / seconds, outOfOrder, page: percentiles(pageMs) };
    },
    { drain: false },
  );
}

// ---------- setup and the run ----------

/** Workspaces and webhooks for each phase, through the public API (as a customer would). */
async function setup() {
  const workspace = (name) => call(MAIN, "POST", "/v1/admin/workspaces", { name }, ADMIN_TOKEN);
  const webhook = (key, url, events) => call(MAIN, "POST", "/v1/webhooks", { url, events }, key);
  const e2e = await pool(
    Array.from({ length: cfg.e2eEndpoints }, (_, i) => i),
    8,
    (i) => workspace(`bench e2e ${i}`),
  );
  await pool(e2e, 8, (w, i) => webhook(w.apiKey, `${RECEIVER}/p/e2e/${i}`, ["message.received"]));
  const lane = await workspace("bench lane");
  await webhook(lane.apiKey, `${RECEIVER}/p/lane/0`, ["comment.created"]);
  ingestKeys = (
    await pool(
      Array.from({ length: cfg.connections }, (_, i) => i),
      8,
      (i) => workspace(`bench ingestion ${i}`),
    )
  ).map((w) => w.apiKey);
  const limited = await workspace("bench rate-limited");
  await call(
    MAIN,
    "POST",
    "/v1/webhooks",
    { url: `${RECEIVER}/p/rl/0`, events: ["comment.created"], rateLimitPerSecond: cfg.rateLimit },
    limited.apiKey,
  );
  const paced = await workspace("bench paced");
  await webhook(paced.apiKey, `${RECEIVER}/p/rlu/0`, ["comment.created"]);
  const noOrder = await pool(
    Array.from({ length: cfg.e2eEndpoints }, (_, i) => i),
    8,
    (i) => workspace(`bench e2e no order ${i}`),
  );
  await pool(noOrder, 8, (w, i) =>
    call(MAIN, "POST", "/v1/webhooks", { url: `${RECEIVER}/p/e2en/${i}`, events: ["message.received"], ordering: "none" }, w.apiKey),
  );
  const slowKeyed = await workspace("bench slow endpoint, by key");
  await call(
    MAIN,
    "POST",
    "/v1/webhooks",
    {
      url: `${RECEIVER}/p/slowk/0?delay=${cfg.slowDelayMs}`,
      events: ["message.received"],
      ordering: "key",
      orderingKey: "contact.id",
      maxInFlight: cfg.slowMaxInFlight,
    },
    slowKeyed.apiKey,
  );
  const slowStrict = await workspace("bench slow endpoint, default ordering");
  await webhook(slowStrict.apiKey, `${RECEIVER}/p/slows/0?delay=${cfg.slowDelayMs}`, ["message.received"]);
  const polled = await workspace("bench polling");
  const pollHook = await call(MAIN, "POST", "/v1/webhooks", { delivery: "poll", events: ["comment.created"] }, polled.apiKey);
  const fan = await workspace("bench fan-out");
  await pool(
    Array.from({ length: cfg.fanoutWebhooks }, (_, j) => j),
    8,
    (j) => webhook(fan.apiKey, `${RECEIVER}/p/fan/${j}`, ["conversation.closed"]),
  );
  return {
    e2eKeys: e2e.map((w) => w.apiKey),
    noOrderKeys: noOrder.map((w) => w.apiKey),
    slowKeyedKey: slowKeyed.apiKey,
    slowStrictKey: slowStrict.apiKey,
    laneKey: lane.apiKey,
    fanKey: fan.apiKey,
    limitedKey: limited.apiKey,
    pacedKey: paced.apiKey,
    pollKey: polled.apiKey,
    pollWebhookId: pollHook.id,
  };
}

let receiver;
/** One workspace key per ingestion connection (see cannon). */
let ingestKeys = [DEV_KEY];

async function main() {
  const runStarted = Date.now();
  const state = mkdtempSync(join(tmpdir(), "edge-webhooks-bench-"));
  const logs = join(state, "logs");
  mkdirSync(logs);
  log(`state and logs in ${state}`);

  log("preparing local D1 (migrations, dev workspace)");
  const persist = ["--persist-to", join(state, "service")];
  wranglerSync(["d1", "migrations", "apply", "DB", "--local", ...persist], join(logs, "setup.log"));
  wranglerSync(["d1", "execute", "DB", "--local", "--file", "scripts/dev-seed.sql", ...persist], join(logs, "setup.log"));

  receiver = await startReceiver(ports.receiver);
  receiverPid = receiver.pid;
  const common = ["--ip", "127.0.0.1", "--show-interactive-dev-session=false", "--log-level", "warn"];
  mainPid = startWranglerDev(
    "service",
    [
      "bench/worker/counted.ts",
      "--config",
      "wrangler.toml",
      "--port",
      String(ports.main),
      "--inspector-port",
      String(ports.main + 1),
      ...persist,
      "--var",
      `ADMIN_TOKEN:${ADMIN_TOKEN}`,
      "--var",
      `ENCRYPTION_KEYS:${BENCH_ENCRYPTION_KEYS}`,
      "--var",
      "ALLOW_PRIVATE_URLS:true",
      ...common,
    ],
    join(logs, "service.log"),
  ).pid;
  barePid = startWranglerDev(
    "baseline",
    [
      "--config",
      "bench/baseline/wrangler.toml",
      "--port",
      String(ports.bare),
      "--inspector-port",
      String(ports.bare + 1),
      "--persist-to",
      join(state, "baseline"),
      ...common,
    ],
    join(logs, "baseline.log"),
  ).pid;
  await Promise.all([waitForHttp(`${MAIN}/`), waitForHttp(`${BARE}/`)]);
  log("both workers are up; creating workspaces and webhooks");
  const { e2eKeys, noOrderKeys, slowKeyedKey, slowStrictKey, laneKey, fanKey, limitedKey, pacedKey, pollKey, pollWebhookId } =
    await setup();

  // Warm both (isolates, every lane's first storage, the dev key's last-used write) so each phase
  // measures steady state, not a lane being created.
  await warmUp(e2eKeys, laneKey, fanKey, [limitedKey, pacedKey], noOrderKeys, [slowKeyedKey, slowStrictKey]);

  const results = { startedAt: new Date(runStarted).toISOString(), config: cfg, machine: machine(), git: gitState() };
  if (cfg.only === "lane") {
    const lane = await laneThroughput(laneKey);
    for (const r of lane.rounds)
      log(
        `lane round: service ${Math.round(r.service)}/s (${r.serviceCpuMs.toFixed(3)} ms CPU per event), baseline ${Math.round(r.baseline)}/s (${r.baselineCpuMs.toFixed(3)} ms), contract floor ${Math.round(r.contract)}/s; ratios ${r.ratio.toFixed(2)} and ${r.contractRatio.toFixed(2)}`,
      );
    log(
      `laneRatio (median round) ${(lane.service.perSecond / lane.baseline.perSecond).toFixed(2)}; laneContractRatio ${lane.contractFloor.ratio.toFixed(2)}; with one write ${Math.round(lane.withWrite.perSecond)}/s, with signing ${Math.round(lane.withSigning.perSecond)}/s; the contract floor without ${Object.entries(
        lane.contractWithout,
      )
        .map(([k, v]) => `${k} ${Math.round(v)}/s`)
        .join(", ")}`,
    );
    return;
  }
  results.ingestion = await ingestion();
  results.validation = await validation();
  results.lane = await laneThroughput(laneKey);
  results.log = await logReads(laneKey, cfg.laneEvents * cfg.laneRounds + 1);
  results.rateLimited = await rateLimited(limitedKey, pacedKey);
  results.polling = await polling(pollKey, pollWebhookId);
  log(
    `polling: ${Math.round(results.polling.perSecond)} events/s read by one consumer in pages of 100 (push, one lane: ${Math.round(results.lane.service.perSecond)}/s)`,
  );
  results.fanout = await fanout(fanKey);
  results.endToEnd = await endToEnd(e2eKeys, cfg.e2eRate, cfg.e2eSeconds);
  results.endToEndLow = await endToEnd(e2eKeys, cfg.e2eLowRate, cfg.e2eLowSeconds);
  results.endToEndNoOrder = await endToEndNoOrder(noOrderKeys, cfg.e2eLowRate, cfg.e2eLowSeconds);
  results.slowEndpoint = await slowEndpoint(slowKeyedKey, slowStrictKey);
  // What the phases in their own files (bench/lib/) are handed: the service, the receiver and the measuring.
  const phase = {
    call,
    main: MAIN,
    receiverUrl: RECEIVER,
    adminToken: ADMIN_TOKEN,
    receiver,
    waitFor,
    measured: (fn) => measured(fn, { drain: false }),
    log,
  };
  results.adaptive = await adaptiveGoodput({
    ...phase,
    events: cfg.adaptiveEvents,
    keys: cfg.adaptiveKeys,
    maxInFlight: 50,
    capacity: cfg.adaptiveCapacity,
    delayMs: cfg.slowDelayMs,
  });
  results.batch = await strictBatches({ ...phase, events: cfg.batchEvents, maxEvents: 50, delayMs: cfg.slowDelayMs });
  results.backlog = await backlogDrain({
    ...phase,
    drained: mainDrained,
    events: cfg.backlogEvents,
    window: cfg.backlogWindow,
  });
  results.durationSeconds = Math.round((Date.now() - runStarted) / 1000);

  const outDir = join(root, "bench", "results");
  mkdirSync(outDir, { recursive: true });
  // Everything, for this machine only (bench/results/ is ignored by git but for full-run.json).
  writeFileSync(join(outDir, cfg.quick ? "quick.json" : "latest.json"), JSON.stringify(results, null, 2) + "\n");
  const markdown = renderReport(results);
  console.log("\n" + markdown);
  // What is committed: a quick run's figures or one with BENCH_WRITE_DOCS=0 never replace a full run's.
  const committed = cfg.writeDocs && !cfg.quick;
  writeFileSync(
    join(outDir, committed ? "full-run.json" : cfg.quick ? "quick-summary.json" : "latest-summary.json"),
    summaryJson(summarize(results)),
  );
  // Every run, quick ones too: the figures an outside check reads (ignored by git).
  writeFileSync(join(outDir, "summary.json"), JSON.stringify(headlineFigures(results), null, 2) + "\n");
  if (committed) writeReport(join(root, "docs", "benchmarks.md"), markdown, join(root, "docs", "benchmarks-history.md"));
  log(`done in ${results.durationSeconds} s; logs in ${logs}`);
  rmSync(join(state, "service"), { recursive: true, force: true });
  rmSync(join(state, "baseline"), { recursive: true, force: true });
}

async function warmUp(e2eKeys, laneKey, fanKey, rateKeys, noOrderKeys, slowKeys) {
  log("warming up: one event through every endpoint of every phase, both workers");
  for (const base of [MAIN, BARE]) {
    await autocannon({
      url: `${base}/v1/events`,
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${DEV_KEY}` },
      body: INGEST_BODY,
      connections: 4,
      amount: 200,
    });
  }
  const message = { type: "message.received", data: { warmUp: true } };
  await pool(e2eKeys, 8, (key) => call(MAIN, "POST", "/v1/events", message, key));
  await pool(e2eKeys, 8, (_, i) => call(BARE, "POST", "/v1/events", { ...message, data: { to: [`${RECEIVER}/p/e2eb/${i}`] } }));
  await call(MAIN, "POST", "/v1/events", { type: "comment.created", data: { warmUp: true } }, laneKey);
  await call(MAIN, "POST", "/v1/events", { type: "conversation.closed", data: { warmUp: true } }, fanKey);
  for (const key of rateKeys) await call(MAIN, "POST", "/v1/events", { type: "comment.created", data: { warmUp: true } }, key);
  await pool(noOrderKeys, 8, (key) => call(MAIN, "POST", "/v1/events", message, key));
  for (const key of slowKeys) await call(MAIN, "POST", "/v1/events", message, key);
  const expected = { e2e: e2eKeys.length, lane: 1, fan: cfg.fanoutWebhooks, rl: 1, rlu: 1, e2en: noOrderKeys.length, slowk: 1, slows: 1 };
  await call(BARE, "POST", "/v1/events", {
    type: "conversation.closed",
    data: { to: Array.from({ length: cfg.fanoutWebhooks }, (_, j) => `${RECEIVER}/p/fanb/${j}`) },
  });
  const extras = ["none", "write", "sign", "contract"];
  for (const extra of extras) await call(BARE, "POST", "/loop", { url: `${RECEIVER}/p/laneb/0`, n: 10, body: '{"seq":0}', extra });
  const expectedBare = { e2eb: e2eKeys.length, fanb: cfg.fanoutWebhooks, laneb: 10 * extras.length };
  for (const [phase, n] of Object.entries({ ...expected, ...expectedBare })) {
    await waitFor(`warm-up deliveries (${phase})`, async () => (await receiver.count(phase)) >= n, 60_000);
    await receiver.take(phase);
  }
}

/** The workerd that wrangler's miniflare runs (wrangler may carry its own, newer than the top-level one). */
function workerdPackage() {
  const require = createRequire(join(root, "node_modules", "wrangler", "package.json"));
  return createRequire(require.resolve("miniflare")).resolve("workerd/package.json");
}

/** The commit measured, and whether the tree had changes besides the bench's own outputs. */
function gitState() {
  const git = (...args) => execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  try {
    const changes = git(
      "status",
      "--porcelain",
      "--untracked-files=no",
      "--",
      ".",
      ":(exclude)docs/benchmarks.md",
      ":(exclude)docs/benchmarks-history.md",
      ":(exclude)bench/results",
    );
    return { commit: git("rev-parse", "HEAD"), dirty: changes !== "" };
  } catch {
    return { commit: null, dirty: null };
  }
}

function machine() {
  const cpu = cpus();
  return {
    cpu: `${cpu.length} x ${cpu[0]?.model ?? "unknown"}`,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    freeMemoryGb: Math.round(freemem() / 2 ** 30),
    os: `${osType()} ${release()}`,
    node: process.version,
    wrangler: JSON.parse(readFileSync(join(root, "node_modules", "wrangler", "package.json"), "utf8")).version,
    workerd: JSON.parse(readFileSync(workerdPackage(), "utf8")).version,
  };
}

for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => stopAll().then(() => process.exit(130)));

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => stopAll());
