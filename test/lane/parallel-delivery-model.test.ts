// A model-based property test of ordering by key and no ordering (docs/ordering.md), against the real receiver:
// random keys (some events with none), failures, 429s with Retry-After, maxInFlight, a config change or a disable
// with requests out. Whatever happens: never more than maxInFlight requests open at the endpoint, never more than
// 6 out from any object, never two of one key at once, each key's events in order of acceptance (retries
// included), events accepted after a change of key only once the earlier ones finished, every event delivered once.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { OutgoingLimit } from "../../src/delivery/outgoing-limit";
import { MAX_OUTGOING_PER_OBJECT } from "../../src/delivery/ordering";
import { call, createWebhook, createWorkspace, eventually } from "../support/helpers";
import { lane, laneState } from "../support/lane";
import { bodyOf, byKey, driveUntil, inAcceptanceOrder, outgoingPeaks, overlapping, successesOf } from "../support/parallel";
import { endpoint, type Behaviour, type RecordedRequest } from "../support/receiver";

type Settings = { ordering: "key"; orderingKey: "contact.id" | "conversation.id" } | { ordering: "none" };

const answer: fc.Arbitrary<Behaviour> = fc.oneof(
  fc.record({ status: fc.constant(200), delayMs: fc.integer({ min: 0, max: 40 }) }),
  fc.record({ status: fc.constantFrom(500, 503), delayMs: fc.integer({ min: 0, max: 20 }) }),
  fc.constant({ status: 429, headers: { "retry-after": "40" } }),
);

const scenario = fc.record({
  settings: fc.constantFrom<Settings>({ ordering: "key", orderingKey: "contact.id" }, { ordering: "none" }),
  maxInFlight: fc.integer({ min: 1, max: 14 }),
  /** Each event's contact and conversation (undefined: the body has none). */
  first: fc.array(
    fc.record({ contact: fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }), conversation: fc.integer({ min: 0, max: 2 }) }),
    { minLength: 4, maxLength: 20 },
  ),
  second: fc.array(
    fc.record({ contact: fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }), conversation: fc.integer({ min: 0, max: 2 }) }),
    { maxLength: 12 },
  ),
  /** The endpoint's first answers (at most 8 failures: the webhook's 10 retries always end in a delivery). */
  script: fc.array(answer, { maxLength: 16 }).filter((s) => s.filter((b) => "status" in b && b.status >= 300).length <= 8),
  /** Between the two batches: nothing, a change of settings, or a disable (enable and recover after the attempts out). */
  between: fc.oneof(
    fc.constant({ kind: "nothing" as const }),
    fc.record({ kind: fc.constant("disable" as const) }),
    fc.record({
      kind: fc.constant("change" as const),
      to: fc.oneof(
        fc.constant<Partial<Settings> & { maxInFlight?: number }>({ ordering: "key", orderingKey: "conversation.id" }),
        fc.constant<Partial<Settings> & { maxInFlight?: number }>({ ordering: "none" }),
        fc.integer({ min: 1, max: 14 }).map((maxInFlight) => ({ maxInFlight })),
      ),
    }),
  ),
});

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

/** The key an event is ordered by under `settings`, or null when no order is kept. */
function keyUnder(settings: Settings, r: RecordedRequest): string | null {
  if (settings.ordering === "none") return null;
  const body = bodyOf(r) as { contact?: { id?: unknown }; conversation?: { id?: unknown } };
  const value = settings.orderingKey === "contact.id" ? body.contact?.id : body.conversation?.id;
  return JSON.stringify(value ?? null);
}

function checkKeyed(settings: Settings, requests: RecordedRequest[], accepted: string[]) {
  if (settings.ordering === "none") return;
  for (const [key, group] of byKey(requests, (r) => keyUnder(settings, r)!)) {
    expect(overlapping(group), `two of key ${key} at once`).toBeNull();
    expect(inAcceptanceOrder(group, accepted), `key ${key} out of order`).toBe(true);
  }
}

const dataOf = (e: Scenario["first"][number], i: number) => ({
  i,
  conversation: { id: `v${e.conversation}` },
  ...(e.contact === undefined ? {} : { contact: { id: `c${e.contact}` } }),
});

async function send(key: string, events: Scenario["first"], offset: number): Promise<string[]> {
  if (events.length === 0) return [];
  const res = await call("POST", "/v1/events/batch", {
    key,
    body: { events: events.map((e, i) => ({ type: "message.received", data: dataOf(e, offset + i) })) },
  });
  expect(res.status).toBe(202);
  return res.json.ids as string[];
}

async function play(s: Scenario) {
  const ws = await createWorkspace();
  const ep = endpoint();
  await ep.program({ script: s.script, fallback: { status: 200, randomDelayMs: [0, 15] } });
  const hook = await createWebhook(ws.apiKey, {
    url: ep.url,
    events: ["message.received"],
    ...s.settings,
    maxInFlight: s.maxInFlight,
    retryDelaysSeconds: Array(10).fill(30),
  });
  const first = await send(ws.apiKey, s.first, 0);
  let after: Settings = s.settings;
  let widest = s.maxInFlight;
  let second: string[];
  if (s.between.kind === "change") {
    await ep.waitFor(1);
    const res = await call("PATCH", `/v1/webhooks/${hook.id}`, { key: ws.apiKey, body: s.between.to });
    expect(res.status).toBe(200);
    after = res.json.ordering === "key" ? { ordering: "key", orderingKey: res.json.orderingKey } : { ordering: "none" };
    widest = Math.max(widest, res.json.maxInFlight);
    second = await send(ws.apiKey, s.second, 100);
  } else if (s.between.kind === "disable") {
    second = await send(ws.apiKey, s.second, 100);
    // Once the lane holds them all (recover puts events back behind those pending: one the queue handed over
    // after the recover could pass an earlier one of its key, as documented).
    await eventually(async () => (await laneState(hook.id)).events.length === first.length + second.length);
    await ep.waitFor(1);
    expect((await call("POST", `/v1/webhooks/${hook.id}/disable`, { key: ws.apiKey })).status).toBe(200);
    await eventually(async () => (await lane(hook.id).outgoing()).attemptsOut === 0);
    expect((await call("POST", `/v1/webhooks/${hook.id}/enable`, { key: ws.apiKey })).status).toBe(200);
    const recovered = await call("POST", `/v1/webhooks/${hook.id}/recover`, { key: ws.apiKey, body: { since: new Date(0).toISOString() } });
    expect(recovered.status).toBe(202);
  } else {
    second = await send(ws.apiKey, s.second, 100);
  }
  const accepted = [...first, ...second];
  await driveUntil(
    hook.id,
    (state) => state.events.length === accepted.length && state.events.every((e) => e.status === "delivered"),
    90_000,
  );
  const { requests, peakOpen } = await ep.report();

  expect(peakOpen).toBeLessThanOrEqual(widest);
  for (const peak of await outgoingPeaks(hook.id)) expect(peak).toBeLessThanOrEqual(MAX_OUTGOING_PER_OBJECT);
  const successes = successesOf(requests);
  expect(successes.size).toBe(accepted.length);
  expect([...successes.values()].every((n) => n === 1)).toBe(true);

  const ofFirst = requests.filter((r) => first.includes(bodyOf(r).event_id));
  const ofSecond = requests.filter((r) => second.includes(bodyOf(r).event_id));
  const epochChanged = s.between.kind === "change" && !("maxInFlight" in s.between.to);
  if (epochChanged) {
    // The barrier: nothing accepted after the change started before everything accepted before it had finished.
    const lastAnswer = Math.max(...ofFirst.map((r) => r.answeredHr ?? Infinity));
    for (const r of ofSecond) expect(r.arrivedHr).toBeGreaterThanOrEqual(lastAnswer);
    checkKeyed(s.settings, ofFirst, accepted);
    checkKeyed(after, ofSecond, accepted);
  } else {
    checkKeyed(s.settings, requests, accepted);
  }
}

describe("delivery by key or without order, as a model", () => {
  it("holds every bound and order whatever the keys, answers, changes and disables", { timeout: 600_000 }, async () => {
    await fc.assert(fc.asyncProperty(scenario, play), { numRuns: 12, endOnFailure: true });
  });

  it("OutgoingLimit never lets more than its bound out, and lets every task run", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 40 }),
        async (max, delays) => {
          const limit = new OutgoingLimit(max);
          let open = 0;
          let peak = 0;
          const done = await Promise.all(
            delays.map((ms, i) =>
              limit.run(async () => {
                open++;
                peak = Math.max(peak, open);
                await new Promise((r) => setTimeout(r, ms));
                open--;
                return i;
              }),
            ),
          );
          expect(done).toEqual(delays.map((_, i) => i));
          expect(peak).toBeLessThanOrEqual(max);
          expect(limit.peak).toBe(peak);
          expect(limit.current).toBe(0);
        },
      ),
      { numRuns: 50 },
    );
  });
});
