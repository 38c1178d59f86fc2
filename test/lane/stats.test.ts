// A webhook's stats: counts, success rate, latency and the series over a known mix of delivered,
// failed-then-delivered and dropped events, test events left out; the windows and buckets of each period;
// an empty webhook; bad periods and another workspace's webhook.
import { runDurableObjectAlarm } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { aggregateStats, percentile, statsWindow } from "../../src/delivery/lane/stats";
import { call, createWebhook, createWorkspace, sendEvent } from "../support/helpers";
import { lane, settledLane } from "../support/lane";
import { endpoint } from "../support/receiver";

afterEach(() => {
  vi.useRealTimers();
});

const HOUR = 3_600_000;
const T = Date.UTC(2026, 10, 30, 10, 0, 0);

describe("stats aggregation", () => {
  it("aligns each period's buckets in UTC, the newest holding now, and puts every attempt in its bucket", () => {
    const now = T + 17 * 60_000 + 5_000; // 10:17:05
    expect(statsWindow("1h", now)).toEqual({ start: T + 20 * 60_000 - HOUR, end: T + 20 * 60_000 });
    expect(statsWindow("24h", now)).toEqual({ start: T + HOUR - 24 * HOUR, end: T + HOUR });
    expect(statsWindow("7d", now)).toEqual({ start: Date.UTC(2026, 10, 30, 12) - 7 * 24 * HOUR, end: Date.UTC(2026, 10, 30, 12) });

    const samples = [
      { at: T + 20 * 60_000 - HOUR - 1, durationMs: 999, ok: true }, // just before the window
      { at: T + 20 * 60_000 - HOUR, durationMs: 10, ok: true }, // the first bucket's first instant
      { at: T + 14 * 60_000, durationMs: 30, ok: false },
      { at: T + 15 * 60_000, durationMs: 20, ok: true },
      { at: now, durationMs: 40, ok: false },
    ];
    const stats = aggregateStats("1h", now, samples, [T - 2 * HOUR, T + 16 * 60_000]);
    expect(stats).toMatchObject({
      period: "1h",
      attempts: 4,
      delivered: 2,
      failed: 2,
      dropped: 1,
      successRate: 0.5,
      latencyMs: { p50: 20, p95: 40 },
    });
    expect(stats.series).toHaveLength(12);
    expect(stats.series[0]).toEqual({ start: "2026-11-30T09:20:00.000Z", delivered: 1, failed: 0, concurrencyLimit: null });
    expect(stats.series[10]).toEqual({ start: "2026-11-30T10:10:00.000Z", delivered: 0, failed: 1, concurrencyLimit: null });
    expect(stats.series[11]).toEqual({ start: "2026-11-30T10:15:00.000Z", delivered: 1, failed: 1, concurrencyLimit: null });
    expect(stats.series.slice(1, 10).every((b) => b.delivered === 0 && b.failed === 0)).toBe(true);

    expect(
      aggregateStats("7d", now, [], [])
        .series.map((b) => b.start)
        .slice(-2),
    ).toEqual(["2026-11-30T00:00:00.000Z", "2026-11-30T06:00:00.000Z"]);
    expect(aggregateStats("24h", now, [], [])).toMatchObject({ attempts: 0, successRate: null, latencyMs: null });
  });

  it("takes nearest-rank percentiles", () => {
    const values = Array.from({ length: 20 }, (_, i) => (i + 1) * 10);
    expect([percentile(values, 50), percentile(values, 95), percentile(values, 100)]).toEqual([100, 190, 200]);
    expect([percentile([7], 50), percentile([7], 95)]).toEqual([7, 7]);
    expect([percentile([1, 2], 50), percentile([1, 2], 95)]).toEqual([1, 2]);
  });
});

describe("GET /v1/webhooks/{id}/stats", () => {
  it("counts a delivered, a failed-then-delivered and a dropped event exactly, and leaves test events out", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    // A: 200; B: 503 then 200; C: 500 four times (dropped); then the test event gets the fallback.
    await ep.program({
      script: [
        { status: 200, delayMs: 40 },
        { status: 503 },
        { status: 200, delayMs: 120 },
        ...Array.from({ length: 4 }, () => ({ status: 500 })),
      ],
      fallback: { status: 200 },
    });
    const hook = await createWebhook(ws.apiKey, { url: ep.url, events: ["message.received"] });
    for (const n of [0, 1, 2]) await sendEvent(ws.apiKey, { type: "message.received", data: { n } });
    let state = await settledLane(hook.id, (s) => s.events.length === 3);
    for (let runs = 0; state.events[2]!.status !== "dropped"; runs++) {
      expect(runs).toBeLessThan(10);
      await runDurableObjectAlarm(lane(hook.id));
      state = await settledLane(hook.id, (s) => s.events.length === 3);
    }
    expect(state.events.map((e) => e.status)).toEqual(["delivered", "delivered", "dropped"]);
    // A test event, and a retry of it (its second attempt goes in the attempts table): neither counts.
    const test = await call("POST", `/v1/webhooks/${hook.id}/test`, { key: ws.apiKey });
    expect(test.json.test).toBe(true);
    await settledLane(hook.id, (s) => s.events.length === 4);
    expect((await call("POST", `/v1/webhooks/${hook.id}/deliveries/${test.json.eventId}/retry`, { key: ws.apiKey })).status).toBe(202);
    await runDurableObjectAlarm(lane(hook.id));
    state = await settledLane(hook.id, (s) => s.attempts.length === 9);

    // The expected figures, from the attempts as stored (the test event's left out).
    const lineAttempts = state.attempts.filter((a) => a.event_id !== state.events[3]!.id);
    const durations = lineAttempts.map((a) => a.duration_ms).sort((a, b) => a - b);
    expect(durations.at(-1)).toBeGreaterThanOrEqual(120);
    const expected = {
      attempts: 7,
      delivered: 2,
      failed: 5,
      dropped: 1,
      successRate: 2 / 7,
      // Nearest rank over 7 durations: the 4th and the 7th.
      latencyMs: { p50: durations[3], p95: durations[6] },
    };
    const now = Date.now();
    for (const period of ["1h", "24h", "7d"] as const) {
      const res = await call("GET", `/v1/webhooks/${hook.id}/stats?period=${period}`, { key: ws.apiKey });
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ period, ...expected });
      // Each attempt in the bucket its start falls in.
      const { start } = statsWindow(period, now);
      const size = { "1h": 5 * 60_000, "24h": HOUR, "7d": 6 * HOUR }[period];
      const buckets = res.json.series.map(() => ({ delivered: 0, failed: 0, concurrencyLimit: null }));
      for (const a of lineAttempts) buckets[Math.floor((a.at - start) / size)][a.status_code === 200 ? "delivered" : "failed"]++;
      expect(res.json.series).toEqual(buckets.map((b: object, i: number) => ({ start: new Date(start + i * size).toISOString(), ...b })));
    }
    expect((await call("GET", `/v1/webhooks/${hook.id}/stats`, { key: ws.apiKey })).json).toMatchObject({ period: "24h", ...expected });

    // Two hours on, they have left the last hour but not the last day.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(now + 2 * HOUR);
    const later = await call("GET", `/v1/webhooks/${hook.id}/stats?period=1h`, { key: ws.apiKey });
    expect(later.json).toMatchObject({ attempts: 0, delivered: 0, failed: 0, dropped: 0, successRate: null, latencyMs: null });
    expect(later.json.series.every((b: { delivered: number; failed: number }) => b.delivered + b.failed === 0)).toBe(true);
    expect((await call("GET", `/v1/webhooks/${hook.id}/stats?period=24h`, { key: ws.apiKey })).json).toMatchObject(expected);
  });

  it("answers an empty webhook with zeros, nulls and every bucket present", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(T + 30 * 60_000);
    const ws = await createWorkspace();
    const hook = await createWebhook(ws.apiKey);
    const res = await call("GET", `/v1/webhooks/${hook.id}/stats?period=7d`, { key: ws.apiKey });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ period: "7d", attempts: 0, delivered: 0, failed: 0, dropped: 0, successRate: null, latencyMs: null });
    expect(res.json.series).toHaveLength(28);
    expect(res.json.series[0]).toEqual({ start: "2026-11-23T12:00:00.000Z", delivered: 0, failed: 0, concurrencyLimit: null });
    expect(res.json.series[27]).toEqual({ start: "2026-11-30T06:00:00.000Z", delivered: 0, failed: 0, concurrencyLimit: null });
    const hour = await call("GET", `/v1/webhooks/${hook.id}/stats?period=1h`, { key: ws.apiKey });
    expect(hour.json.series.map((b: { start: string }) => b.start.slice(11, 16))).toEqual([
      "09:35",
      "09:40",
      "09:45",
      "09:50",
      "09:55",
      "10:00",
      "10:05",
      "10:10",
      "10:15",
      "10:20",
      "10:25",
      "10:30",
    ]);
  });

  it("refuses a bad period with invalid_period, and another workspace's webhook with 404", async () => {
    const ws = await createWorkspace();
    const other = await createWorkspace("Other");
    const hook = await createWebhook(ws.apiKey);
    for (const period of ["30d", "", "1H", "24"]) {
      const res = await call("GET", `/v1/webhooks/${hook.id}/stats?period=${period}`, { key: ws.apiKey });
      expect({ period, status: res.status, code: res.json.error.code, param: res.json.error.param }).toEqual({
        period,
        status: 400,
        code: "invalid_period",
        param: "period",
      });
      expect(res.json.error.message).toBe("period: must be one of 1h, 24h, 7d");
    }
    const foreign = await call("GET", `/v1/webhooks/${hook.id}/stats`, { key: other.apiKey });
    expect(foreign.status).toBe(404);
    expect(foreign.json.error.code).toBe("not_found");
    expect((await call("GET", "/v1/webhooks/wh_nope/stats", { key: ws.apiKey })).status).toBe(404);
    expect((await call("GET", `/v1/webhooks/${hook.id}/stats`)).status).toBe(401);
  });
});
