// The adaptive concurrency rule (src/delivery/adaptive-limit.ts) alone: its bounds over any sequence of outcomes,
// and that it follows a simulated endpoint's capacity as it changes.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  allowed,
  BACKOFF_RATIO,
  initialAdaptiveState,
  isOverload,
  nextAdaptiveState,
  type AdaptiveSample,
  type AdaptiveState,
} from "../../src/delivery/adaptive-limit";

const sampleArb = fc.record<AdaptiveSample>({
  startedAt: fc.integer({ min: 0, max: 1_000_000 }),
  rttMs: fc.integer({ min: 0, max: 30_000 }),
  inflight: fc.integer({ min: 1, max: 60 }),
  dropped: fc.boolean(),
});

/**
 * A round-trip model of an endpoint that serves `capacity` requests at once in `rttMs` and answers the rest 503 at
 * once: each round the lane sends what its limit allows, and each answer moves the limit.
 */
function simulate(state: AdaptiveState, capacity: number, ceiling: number, rounds: number, clock: { now: number }) {
  const used: number[] = [];
  let refused = 0;
  for (let round = 0; round < rounds; round++) {
    const out = allowed(state, ceiling);
    used.push(out);
    const start = clock.now;
    for (let i = 0; i < out; i++) {
      const dropped = i >= capacity;
      if (dropped) refused++;
      state = nextAdaptiveState(state, { startedAt: start, rttMs: dropped ? 1 : 100, inflight: out, dropped }, ceiling);
    }
    clock.now += 100;
  }
  return { state, used, refused };
}

describe("adaptive concurrency rule", () => {
  it("stays between 1 and the ceiling, whatever the outcomes", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.array(sampleArb, { maxLength: 300 }), (ceiling, samples) => {
        let state = initialAdaptiveState(ceiling);
        for (const sample of samples) {
          state = nextAdaptiveState(state, sample, ceiling);
          expect(state.limit).toBeGreaterThanOrEqual(1);
          expect(state.limit).toBeLessThanOrEqual(ceiling);
          expect(allowed(state, ceiling)).toBeGreaterThanOrEqual(1);
          expect(allowed(state, ceiling)).toBeLessThanOrEqual(ceiling);
        }
      }),
    );
  });

  it("cuts at once on an overload, once per round trip, and never raises on one", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 50 }), fc.array(sampleArb, { maxLength: 100 }), sampleArb, (ceiling, before, drop) => {
        let state = initialAdaptiveState(ceiling);
        for (const sample of before) state = nextAdaptiveState(state, sample, ceiling);
        const after = nextAdaptiveState(state, { ...drop, dropped: true }, ceiling);
        expect(after.limit).toBeLessThanOrEqual(state.limit);
        if (drop.startedAt >= state.cutAt) expect(after.limit).toBeCloseTo(Math.max(1, state.limit * BACKOFF_RATIO));
        else expect(after.limit).toBe(state.limit);
      }),
    );
  });

  it("raises only while the limit is used and latency stays near the lowest seen", () => {
    const ceiling = 50;
    let state: AdaptiveState = { limit: 10, minRttMs: 100, slowStart: false, cutAt: 0 };
    const ok = (rttMs: number, inflight: number) => ({ startedAt: 1_000, rttMs, inflight, dropped: false });
    expect(nextAdaptiveState(state, ok(100, 3), ceiling).limit).toBe(10);
    expect(nextAdaptiveState(state, ok(900, 10), ceiling).limit).toBe(10);
    state = nextAdaptiveState(state, ok(110, 10), ceiling);
    expect(state.limit).toBeCloseTo(10.1);
  });

  it("knows an overload: 429, 503, 504, a timeout, a connection error; not a 500 or a 4xx", () => {
    expect([429, 503, 504].every((code) => isOverload(code, `endpoint answered HTTP ${code}`))).toBe(true);
    expect(isOverload(null, "timeout: no response within 30000 ms")).toBe(true);
    expect(isOverload(null, "connection failed: refused")).toBe(true);
    expect(isOverload(500, "endpoint answered HTTP 500")).toBe(false);
    expect(isOverload(400, "endpoint answered HTTP 400")).toBe(false);
    expect(isOverload(200, null)).toBe(false);
  });

  it("follows an endpoint's capacity as it changes (8, then 2, then 20), with few requests refused", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 40 }), fc.integer({ min: 2, max: 40 }), fc.integer({ min: 2, max: 40 }), (a, b, c) => {
        const ceiling = 50;
        const clock = { now: 0 };
        let state = initialAdaptiveState(ceiling);
        for (const capacity of [a, b, c]) {
          const run = simulate(state, capacity, ceiling, 100, clock);
          state = run.state;
          // Once settled (the last 50 of 100 rounds), it sends about the capacity: never far above, on average near it.
          const settled = run.used.slice(-50);
          const mean = settled.reduce((x, y) => x + y, 0) / settled.length;
          expect(Math.max(...settled)).toBeLessThanOrEqual(capacity + 1);
          expect(mean).toBeGreaterThanOrEqual(Math.max(1, capacity * 0.75 - 1));
          // Refused once settled: a probe every few round trips.
          const last = simulate(state, capacity, ceiling, 200, clock);
          state = last.state;
          expect(last.refused / last.used.reduce((x, y) => x + y, 0)).toBeLessThanOrEqual(0.1);
        }
      }),
      { numRuns: 50 },
    );
  });
});
