// The adaptive concurrency phase: one webhook ordered by key with `concurrency: "adaptive"` and a ceiling of
// `maxInFlight`, against a receiver that answers in `delayMs` and 503s at once whatever arrives while `capacity` of
// its requests are open. Goodput (deliveries per second over the middle 80% of arrivals) against capacity / delay
// (target >= 0.8), the share of attempts answered 503 (target <= 0.10), and arrivals out of order per key (0).
import { arrivals, outOfOrderPerKey } from "./arrivals.mjs";

/**
 * Runs the phase. `ctx`: `call(base, method, path, body, key)`, `main` and `receiverUrl`, `adminToken`, `receiver`
 * ({count, take}), `waitFor`, `measured`, `log`, and the sizes: `events`, `keys`, `maxInFlight`, `capacity`, `delayMs`.
 */
export async function adaptiveGoodput(ctx) {
  const { call, main, receiverUrl, adminToken, receiver, waitFor, measured, log, events, keys, maxInFlight, capacity, delayMs } = ctx;
  const phase = "adaptive";
  const ws = await call(main, "POST", "/v1/admin/workspaces", { name: "bench adaptive concurrency" }, adminToken);
  await call(
    main,
    "POST",
    "/v1/webhooks",
    {
      url: `${receiverUrl}/p/${phase}/0?delay=${delayMs}&capacity=${capacity}`,
      events: ["message.received"],
      ordering: "key",
      orderingKey: "contact.id",
      maxInFlight,
      concurrency: "adaptive",
    },
    ws.apiKey,
  );
  log(
    `adaptive concurrency: ${events} events over ${keys} keys, up to ${maxInFlight} in flight, receiver takes ${capacity} at once, ${delayMs} ms answers`,
  );
  const result = await measured(async () => {
    for (let i = 0; i < events; i += 100) {
      const batch = [];
      for (let j = i; j < Math.min(events, i + 100); j++)
        batch.push({
          type: "message.received",
          data: { seq: j, contact: { id: 30_000 + (j % keys) }, message: { type: "text", text: "Hi" } },
        });
      await call(main, "POST", "/v1/events/batch", { events: batch }, ws.apiKey);
    }
    await waitFor(`the adaptive webhook's deliveries`, async () => (await receiver.count(phase)) >= events, 300_000 + events * delayMs);
    const take = await receiver.take(phase);
    const { order, t, n, perSecond } = arrivals(take);
    // Each contact's own events in order: an arrival before an earlier event of its key is out of order.
    const keyOutOfOrder = outOfOrderPerKey(take, order, keys);
    const bound = (capacity * 1000) / delayMs;
    return {
      events,
      keys,
      maxInFlight,
      capacity,
      delayMs,
      delivered: n,
      duplicates: take.duplicates,
      refused: take.refused,
      peakOpen: take.peakOpen,
      perSecond,
      bound,
      ratio: perSecond / bound,
      share503: take.refused / (take.refused + n),
      keyOutOfOrder,
      seconds: (t[n - 1] - t[0]) / 1000,
    };
  });
  log(
    `adaptive concurrency: ${Math.round(result.perSecond)}/s against ${result.bound}/s (${result.ratio.toFixed(2)}), ${(100 * result.share503).toFixed(1)}% answered 503, ${result.keyOutOfOrder} out of order per key`,
  );
  return result;
}
