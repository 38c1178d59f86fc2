// workerd holds at most 10,000 active timeouts per I/O context, and a Durable Object's requests share one: a timer
// left running after its use counts until it fires. An attempt's delivery timeout (5 s by default, up to minutes if
// configured) and a lane's waits are cleared the moment they are no longer needed, so a lane delivering hundreds of
// events a second never meets the cap (past it every setTimeout, AbortSignal.timeout included, throws). Counted
// here: after many attempts and waits, the context can still set almost all of its 10,000.
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { attemptDelivery, requestHeaders } from "../../src/delivery/attempt";
import type { EndpointLane } from "../../src/delivery/lane/endpoint-lane";
import type { LaneRunner } from "../../src/delivery/lane/runner";
import { createWebhook, createWorkspace } from "../support/helpers";
import { lane } from "../support/lane";
import { endpoint } from "../support/receiver";

/** workerd's cap on the timeouts an I/O context holds at once (IoContext::TimeoutManagerImpl, MAX_TIMEOUTS). */
const MAX_ACTIVE_TIMEOUTS = 10_000;

/** Sets `n` timeouts of a minute and clears them: throws QuotaExceededError when the context holds too many already. */
function setAndClear(n: number): void {
  const timers: ReturnType<typeof setTimeout>[] = [];
  try {
    for (let i = 0; i < n; i++) timers.push(setTimeout(() => {}, 60_000));
  } finally {
    for (const timer of timers) clearTimeout(timer);
  }
}

describe("timers a lane leaves behind", () => {
  it("the probe itself meets the cap: a context holds at most 10,000 timeouts at once", () => {
    const timers: ReturnType<typeof setTimeout>[] = [];
    let refused: unknown = null;
    try {
      for (let i = 0; i <= MAX_ACTIVE_TIMEOUTS; i++) timers.push(setTimeout(() => {}, 60_000));
    } catch (err) {
      refused = err;
    } finally {
      for (const timer of timers) clearTimeout(timer);
    }
    expect(String(refused)).toMatch(/max active timeouts: 10000/);
    // The test's own context holds a few already; the probe below leaves it room for them.
    expect(timers.length).toBeGreaterThan(MAX_ACTIVE_TIMEOUTS - 100);
    expect(timers.length).toBeLessThanOrEqual(MAX_ACTIVE_TIMEOUTS);
  });

  it("an attempt's delivery timeout is cleared once it is answered, whatever the answer", async () => {
    const ep = endpoint();
    await ep.program({ script: [{ status: 500 }, { status: 200, body: "x".repeat(5000) }, { status: 204 }], fallback: { status: 200 } });
    const base = requestHeaders({});
    const attempts = 300;
    for (let i = 0; i < attempts; i++) {
      // A minute each: left running, 300 of them would keep the probe below from setting its 9,800.
      const result = await attemptDelivery(ep.url, `{"n":${i}}`, base, { "webhook-id": `evt_${i}` }, 60_000, { allowPrivateUrls: true });
      expect(result.statusCode).not.toBeNull();
    }
    expect(() => setAndClear(MAX_ACTIVE_TIMEOUTS - 200)).not.toThrow();
  });

  it("a timeout still ends an attempt the endpoint never answers", async () => {
    const ep = endpoint();
    await ep.program({ fallback: { hang: true } });
    const result = await attemptDelivery(ep.url, "{}", requestHeaders({}), {}, 200, { allowPrivateUrls: true });
    expect(result).toMatchObject({ statusCode: null, delivered: false });
    expect(result.error).toMatch(/^timeout: no response within 200 ms/);
  });

  it("a lane's waits for a change clear their timer when the change comes first", async () => {
    const ws = await createWorkspace();
    const hook = await createWebhook(ws.apiKey, { url: endpoint().url });
    await runInDurableObject(lane(hook.id), async (instance: EndpointLane) => {
      const { parallel } = (instance as unknown as { runner: LaneRunner }).runner;
      for (let i = 0; i < 300; i++) {
        const waited = parallel.whenChanged(60_000);
        parallel.notify();
        expect(await waited).toBe(false);
      }
      expect(() => setAndClear(MAX_ACTIVE_TIMEOUTS - 200)).not.toThrow();
    });
  });
});
