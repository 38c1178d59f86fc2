// Ordered batches under the default ordering, driven by fast-check against the real receiver: whatever the batch
// size, the arrivals and the endpoint's answers, every request holds at most maxEvents events in acceptance order,
// a failed batch is retried as exactly the events that failed (until the schedule drops them), what is delivered
// arrives once and in acceptance order, and the quota counts one failure per failed request.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { call, createWebhook, createWorkspace } from "../support/helpers";
import { settledLane } from "../support/lane";
import { driveUntil } from "../support/parallel";
import { endpoint, type RecordedRequest } from "../support/receiver";

const idsIn = (r: RecordedRequest) => (JSON.parse(r.body) as { events: { event_id: string }[] }).events.map((e) => e.event_id);

async function send(key: string, count: number, from: number): Promise<string[]> {
  const events = Array.from({ length: count }, (_, i) => ({ type: "message.received", data: { i: from + i } }));
  const res = await call("POST", "/v1/events/batch", { key, body: { events } });
  expect(res.status).toBe(202);
  return res.json.ids;
}

const scenario = fc.record({
  maxEvents: fc.integer({ min: 2, max: 6 }),
  // Often fewer than a batch holds at first, so that more arrive while a batch is out or waits for its retry.
  first: fc.integer({ min: 1, max: 8 }),
  second: fc.integer({ min: 0, max: 12 }),
  // The endpoint's answers, request by request (then 200), failures more likely first: at most 8 failures keeps the
  // quota from disabling.
  answers: fc.array(fc.constantFrom(500, 503, 500, 200), { maxLength: 8 }),
});

describe("ordered batches, model-based", () => {
  it("keeps order, size and retry-as-one whatever the batch size, arrivals and answers", async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ maxEvents, first, second, answers }) => {
        const ws = await createWorkspace();
        const ep = endpoint();
        await ep.program({ script: answers.map((status) => ({ status })), fallback: { status: 200 } });
        const hook = await createWebhook(ws.apiKey, { url: ep.url, events: ["message.received"], batch: { maxEvents } });
        const ids = await send(ws.apiKey, first, 0);
        if (second > 0) {
          // The second group comes once the first request's outcome is kept (a failure: while its retry waits) and
          // is stored before any retry runs.
          await ep.waitFor(1);
          await settledLane(hook.id, (s) => s.events.some((e) => e.attempt_count > 0));
          ids.push(...(await send(ws.apiKey, second, first)));
          await settledLane(hook.id, (s) => s.events.length === ids.length);
        }
        const state = await driveUntil(
          hook.id,
          (s) => s.events.length === ids.length && s.events.every((e) => e.status === "delivered" || e.status === "dropped"),
        );
        const requests = await ep.requests();
        const order = new Map(ids.map((id, i) => [id, i]));
        const failed = requests.map((r) => r.outcome !== 200);
        const attempts = new Map<string, number>();
        const attemptNo: number[] = [];
        requests.forEach((r, n) => {
          const batch = idsIn(r);
          expect(batch.length).toBeGreaterThan(0);
          expect(batch.length).toBeLessThanOrEqual(maxEvents);
          // In acceptance order, with nothing left out between them.
          batch.forEach((id, i) => i > 0 && expect(order.get(id)).toBe(order.get(batch[i - 1]!)! + 1));
          for (const id of batch) attempts.set(id, (attempts.get(id) ?? 0) + 1);
          attemptNo[n] = attempts.get(batch[0]!)!;
          // A batch's events are all first attempts, or all the same retry of one failed batch.
          for (const id of batch) expect(attempts.get(id)).toBe(attemptNo[n]);
          // After a failure the same events go again, unless it was their last attempt (4: the first and 3 retries).
          if (n > 0 && failed[n - 1] && attemptNo[n - 1]! < 4) expect(batch).toEqual(idsIn(requests[n - 1]!));
        });
        // Delivered once each, in acceptance order; the rest dropped after four failed attempts.
        const delivered = requests.filter((_, n) => !failed[n]).flatMap(idsIn);
        expect(delivered).toEqual(ids.filter((id) => state.events.find((e) => e.id === id)?.status === "delivered"));
        for (const e of state.events) if (e.status === "dropped") expect(attempts.get(e.id)).toBe(4);
        expect((await call("GET", "/v1/quota", { key: ws.apiKey })).json.failures).toBe(failed.filter(Boolean).length);
      }),
      { numRuns: 8, endOnFailure: true },
    );
  }, 240_000);
});
