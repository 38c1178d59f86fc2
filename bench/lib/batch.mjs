// The ordered batches phase: one webhook under the default ordering (every event in acceptance order) with
// `batch: {"maxEvents": maxEvents}`, against a receiver that answers each request in `delayMs`. Events per second
// over the middle 80% of arrivals against maxEvents / delayMs (target >= 0.8), and arrivals out of order (0).
import { arrivals, outOfOrderPerKey } from "./arrivals.mjs";

/**
 * Runs the phase. `ctx`: `call(base, method, path, body, key)`, `main` and `receiverUrl`, `adminToken`, `receiver`
 * ({count, take}), `waitFor`, `measured`, `log`, and the sizes: `events`, `maxEvents`, `delayMs`.
 */
export async function strictBatches(ctx) {
  const { call, main, receiverUrl, adminToken, receiver, waitFor, measured, log, events, maxEvents, delayMs } = ctx;
  const phase = "batch";
  const ws = await call(main, "POST", "/v1/admin/workspaces", { name: "bench ordered batches" }, adminToken);
  await call(
    main,
    "POST",
    "/v1/webhooks",
    { url: `${receiverUrl}/p/${phase}/0?delay=${delayMs}`, events: ["message.received"], batch: { maxEvents } },
    ws.apiKey,
  );
  log(`ordered batches: ${events} events, default ordering, up to ${maxEvents} per request, ${delayMs} ms answers`);
  const result = await measured(async () => {
    for (let i = 0; i < events; i += 100) {
      const batch = [];
      for (let j = i; j < Math.min(events, i + 100); j++)
        batch.push({ type: "message.received", data: { seq: j, contact: { id: 40_000 + j }, message: { type: "text", text: "Hi" } } });
      await call(main, "POST", "/v1/events/batch", { events: batch }, ws.apiKey);
    }
    await waitFor(`the batching webhook's deliveries`, async () => (await receiver.count(phase)) >= events, 300_000 + events * delayMs);
    const take = await receiver.take(phase);
    // Arrivals in the order they came (a batch's events arrive together, in their order within it).
    const { order, t, n, perSecond } = arrivals(take);
    const outOfOrder = outOfOrderPerKey(take, order, 1);
    const bound = (maxEvents * 1000) / delayMs;
    return {
      events,
      maxEvents,
      delayMs,
      delivered: n,
      requests: take.requests,
      duplicates: take.duplicates,
      perSecond,
      bound,
      ratio: perSecond / bound,
      outOfOrder,
      seconds: (t[n - 1] - t[0]) / 1000,
    };
  });
  log(
    `ordered batches: ${Math.round(result.perSecond)} events/s against ${result.bound}/s (${result.ratio.toFixed(2)}) in ${result.requests} requests, ${result.outOfOrder} out of order`,
  );
  return result;
}
