// What the bench receiver took in during a phase, as every phase reads it: the arrivals in the order they came
// and deliveries per second over the middle 80% of them (no start-up, no tail).

/**
 * `take` from the receiver (its `arrival` times, one per event; a batch's events share their request's time and
 * keep their order, the sort being stable). Returns `order` (indexes into take's arrays), `t` (times in that
 * order), `n`, the middle's bounds `lo` and `hi`, and `perSecond` over them.
 */
export function arrivals(take) {
  const order = take.arrival.map((_, i) => i).sort((a, b) => take.arrival[a] - take.arrival[b]);
  const t = order.map((i) => take.arrival[i]);
  const n = t.length;
  const lo = Math.floor(0.1 * (n - 1));
  const hi = Math.floor(0.9 * (n - 1));
  return { order, t, n, lo, hi, perSecond: (hi - lo) / ((t[hi] - t[lo]) / 1000) };
}

/**
 * Arrivals (in `order`) that came before an earlier event of their key, the key of an event being its `seq` modulo
 * `keys` (as the phases number their contacts); `keys` 1: the global order.
 */
export function outOfOrderPerKey(take, order, keys) {
  const lastSeq = new Map();
  let outOfOrder = 0;
  for (const i of order) {
    const k = take.seq[i] % keys;
    if (take.seq[i] < (lastSeq.get(k) ?? -1)) outOfOrder++;
    lastSeq.set(k, Math.max(take.seq[i], lastSeq.get(k) ?? -1));
  }
  return outOfOrder;
}
