// The backlog phase: one webhook per ordering kept off while a backlog piles up (its lane keeps the events as
// skipped), then enabled and recovered at once. Whether the lane drains the first events of the backlog as fast
// as the last: deliveries per second over the first `window` arrivals against the last `window` (target >= 0.8).
// Under "key" one key holds 90% of the backlog (the others one event each): the case a scan of every pending row
// per start made quadratic (docs/capacity.md).

/** The orderings measured, with the webhook fields that set them. */
const MODES = {
  endpoint: {},
  key: { ordering: "key", orderingKey: "contact.id" },
  none: { ordering: "none" },
};

/**
 * Sends one batch, waiting out a 429: a workspace may send 10,000 batched events per 10 s (INGEST_EVENTS_LIMITER,
 * docs/limits.md), and a backlog of 20,000 is more, so its upload takes a pause or two before the measure starts.
 */
async function sendPaced(send) {
  for (;;) {
    try {
      return await send();
    } catch (err) {
      if (!String(err?.message).includes("-> 429")) throw err;
      await new Promise((r) => setTimeout(r, 2_000));
    }
  }
}

/** The contact of the j-th event: the hot one for 9 events in 10, else one of its own. */
const contactOf = (j) => (j % 10 === 9 ? 100_000 + j : 1);

/**
 * Runs the phase. `ctx`: `call(base, method, path, body, key)`, `main` and `receiverUrl` (the service's and the
 * receiver's base URLs), `adminToken`, `receiver` ({count, take}), `waitFor`, `drained` (the service's queue has
 * handed every event to its lane), `measured` (a phase with CPU and counters), `log`, `events`, `window`.
 */
export async function backlogDrain(ctx) {
  const { call, main, receiverUrl, adminToken, receiver, waitFor, drained, measured, log, events, window } = ctx;
  const results = {};
  for (const [mode, settings] of Object.entries(MODES)) {
    const phase = `backlog${mode}`;
    const ws = await call(main, "POST", "/v1/admin/workspaces", { name: `bench backlog ${mode}` }, adminToken);
    const hook = await call(
      main,
      "POST",
      "/v1/webhooks",
      { url: `${receiverUrl}/p/${phase}/0`, events: ["message.received"], ...settings },
      ws.apiKey,
    );
    await call(main, "POST", `/v1/webhooks/${hook.id}/disable`, undefined, ws.apiKey);
    log(`backlog, ${mode}: ${events} events kept while the webhook is off`);
    for (let i = 0; i < events; i += 100) {
      const batch = [];
      for (let j = i; j < Math.min(events, i + 100); j++)
        batch.push({ type: "message.received", data: { seq: j, contact: { id: contactOf(j) }, message: { type: "text", text: "Hi" } } });
      await sendPaced(() => call(main, "POST", "/v1/events/batch", { events: batch }, ws.apiKey));
    }
    await drained();
    await call(main, "POST", `/v1/webhooks/${hook.id}/enable`, undefined, ws.apiKey);
    log(`backlog, ${mode}: enabled and recovered at once; draining`);
    results[mode] = await measured(async () => {
      const { recovered } = await call(main, "POST", `/v1/webhooks/${hook.id}/recover`, { since: new Date(0).toISOString() }, ws.apiKey);
      await waitFor(`the backlog's deliveries (${mode})`, async () => (await receiver.count(phase)) >= events, 900_000);
      const take = await receiver.take(phase);
      const arrival = [...take.arrival].sort((a, b) => a - b);
      const n = arrival.length;
      // Deliveries per second between the first and the last arrival of a run of `window`.
      const rate = (from) => (window - 1) / ((arrival[from + window - 1] - arrival[from]) / 1000);
      const first = rate(0);
      const last = rate(n - window);
      return {
        events,
        recovered,
        delivered: n,
        duplicates: take.duplicates,
        seconds: (arrival[n - 1] - arrival[0]) / 1000,
        firstPerSecond: first,
        lastPerSecond: last,
        ratio: first / last,
      };
    });
    log(
      `backlog, ${mode}: ${Math.round(results[mode].firstPerSecond)}/s over the first ${window}, ${Math.round(results[mode].lastPerSecond)}/s over the last (${results[mode].ratio.toFixed(2)})`,
    );
  }
  return { events, window, ...results };
}
