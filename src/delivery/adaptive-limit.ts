// The rule of adaptive concurrency (docs/ordering.md, "Adaptive concurrency"): from the limit in force and one
// attempt's outcome, the next limit. Pure: the lane keeps the state, tests drive it with any sequence of samples.
//
// Additive increase, multiplicative decrease, as TCP's congestion avoidance and Netflix's concurrency-limits
// AIMDLimit: an overload answer (429, 503, 504), a timeout or a connection error cuts the limit by BACKOFF_RATIO
// at once; a success while the limit is actually used and latency stays near the lowest seen adds 1/limit (about
// one request more per round trip of the whole window). Until the first overload the limit grows by one per such
// success (slow start: it doubles each round trip), so a capable endpoint is found in a few round trips. Near the
// limit where the last overload came, it grows PLATEAU_SLOWDOWN times slower (as TCP CUBIC's plateau): the limit
// found is used for a while before it is probed again, so few requests are refused (a probe costs one).

/** What the lane keeps between attempts. `limit` is fractional; the lane sends up to its floor. */
export interface AdaptiveState {
  limit: number;
  /** The lowest latency of a success seen so far (ms); null before the first. */
  minRttMs: number | null;
  /** True until the first overload: grow by one per success, not by 1/limit. */
  slowStart: boolean;
  /** When the limit was last cut (ms): outcomes of attempts started before it cut nothing more. */
  cutAt: number;
  /** The limit when the last overload came (before its cut); null before the first. */
  overloadAt?: number | null;
}

/** One attempt's outcome as the rule sees it. */
export interface AdaptiveSample {
  /** When the attempt started, and how long it took (ms). */
  startedAt: number;
  rttMs: number;
  /** Attempts out when it started, itself included. */
  inflight: number;
  /** The endpoint said it is overloaded (429, 503, 504), or did not answer in time or at all. */
  dropped: boolean;
}

/** The limit is cut to this share of itself on an overload. */
export const BACKOFF_RATIO = 0.7;
/** Latency up to this many times the lowest seen (plus LATENCY_SLACK_MS) still counts as near it. */
export const LATENCY_TOLERANCE = 2;
/** Absolute slack for endpoints so fast that their jitter is larger than their latency. */
export const LATENCY_SLACK_MS = 20;
/** How much slower the limit grows within one request of where the last overload came. */
export const PLATEAU_SLOWDOWN = 8;
/** Where an adaptive lane starts: low, as the endpoint's limit is not known yet. */
export const INITIAL_LIMIT = 1;

export function initialAdaptiveState(ceiling: number): AdaptiveState {
  return { limit: Math.min(INITIAL_LIMIT, ceiling), minRttMs: null, slowStart: true, cutAt: 0 };
}

/** The whole number of attempts the state lets out at once, between 1 and `ceiling` (maxInFlight). */
export function allowed(state: AdaptiveState, ceiling: number): number {
  return Math.max(1, Math.min(ceiling, Math.floor(state.limit)));
}

/** Whether an attempt's answer says the endpoint is overloaded: what cuts the limit. */
export function isOverload(statusCode: number | null, error: string | null): boolean {
  if (statusCode === 429 || statusCode === 503 || statusCode === 504) return true;
  return statusCode === null && error !== null && (error.startsWith("timeout") || error.startsWith("connection failed"));
}

/** The state after `sample`, for a webhook whose maxInFlight is `ceiling`. */
export function nextAdaptiveState(state: AdaptiveState, sample: AdaptiveSample, ceiling: number): AdaptiveState {
  const limit = Math.min(state.limit, ceiling);
  if (sample.dropped) {
    // One cut per round trip: the other attempts out when the limit was cut were sent under the old limit, and
    // their overloads say nothing new.
    if (sample.startedAt < state.cutAt) return { ...state, limit };
    return {
      ...state,
      limit: Math.max(1, limit * BACKOFF_RATIO),
      slowStart: false,
      cutAt: sample.startedAt + sample.rttMs,
      overloadAt: limit,
    };
  }
  const minRttMs = state.minRttMs === null ? sample.rttMs : Math.min(state.minRttMs, sample.rttMs);
  // Only a limit that is used is raised (an idle lane learns nothing about the endpoint by it), and only while
  // the endpoint answers about as fast as it can (a queue building up at the endpoint shows as latency first).
  const used = sample.inflight >= Math.floor(limit);
  const near = sample.rttMs <= minRttMs * LATENCY_TOLERANCE + LATENCY_SLACK_MS;
  if (!used || !near) return { ...state, limit, minRttMs };
  const plateau = state.overloadAt != null && Math.abs(limit - state.overloadAt) < 1;
  const step = state.slowStart ? 1 : plateau ? 1 / (limit * PLATEAU_SLOWDOWN) : 1 / limit;
  return { ...state, limit: Math.min(ceiling, limit + step), minRttMs };
}
