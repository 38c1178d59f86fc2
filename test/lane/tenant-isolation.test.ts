// One workspace at every limit, sending as fast as it is let, leaves another workspace's deliveries alone
// (docs/self-protection.md, "Tenants kept apart"): the other's events all arrive, with a p99 latency within 1.5x of a
// run where the first is idle.
import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS } from "../../src/lib/limits";
import { call, createWebhook, createWorkspace } from "../support/helpers";
import { endpoint } from "../support/receiver";

/** A filter whose configuration fills the default 16 KiB, values at the 256-character limit, that no event matches. */
function fullFilter(): Record<string, string[]> {
  const filter: Record<string, string[]> = {};
  for (let path = 0; path < 6; path++)
    filter[`contact.custom_${path}`] = Array.from({ length: 10 }, (_, i) => `${path}-${i}-`.padEnd(256, "z"));
  return filter;
}

const p99 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.ceil(values.length * 0.99) - 1]!;

/** The victim's events, one every `spacingMs`; resolves with each one's latency (acceptance to arrival at its endpoint). */
async function victimRun(apiKey: string, ep: ReturnType<typeof endpoint>, count: number, spacingMs: number, offset: number) {
  const sent = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const at = Date.now();
    const res = await call("POST", "/v1/events", { key: apiKey, body: { type: "contact.created", data: { n: offset + i } } });
    expect(res.status).toBe(202);
    sent.set(res.json.id, at);
    await new Promise((r) => setTimeout(r, Math.max(0, spacingMs - (Date.now() - at))));
  }
  const got = await ep.waitFor(offset + count, 30_000);
  return got.slice(offset).map((request) => {
    const id = JSON.parse(request.body).event_id as string;
    expect(sent.has(id)).toBe(true);
    return request.at - sent.get(id)!;
  });
}

describe("tenants kept apart", () => {
  it("delivers every event of a workspace, within 1.5x its idle p99, while another fills every limit and sends at its limit", async () => {
    const hostile = await createWorkspace("Hostile");
    const victim = await createWorkspace("Victim");
    const ep = endpoint();
    await createWebhook(victim.apiKey, { url: ep.url, events: ["contact.created"] });

    // The hostile workspace: as many webhooks as it may have, each as large as it may be, on the victim's event type.
    const sink = endpoint();
    const filter = fullFilter();
    const bytes = new TextEncoder().encode(
      JSON.stringify({ url: sink.url, description: "", events: ["contact.created"], filter, headers: {} }),
    ).length;
    expect(bytes).toBeGreaterThan(DEFAULT_LIMITS.webhookConfigBytes * 0.9);
    for (let i = 0; i < DEFAULT_LIMITS.webhooks; i++)
      await createWebhook(hostile.apiKey, { url: sink.url, events: ["contact.created"], filter });
    const over = await call("POST", "/v1/webhooks", { key: hostile.apiKey, body: { url: sink.url, events: ["contact.created"] } });
    expect(over.status).toBe(409);

    const idle = await victimRun(victim.apiKey, ep, 30, 100, 0);

    // The hostile workspace sends as fast as two clients can, until the victim's second run is over.
    let running = true;
    const answers = { accepted: 0, limited: 0 };
    const flood = async () => {
      while (running) {
        const res = await call("POST", "/v1/events", { key: hostile.apiKey, body: { type: "contact.created", data: { flood: true } } });
        if (res.status === 202) answers.accepted++;
        else if (res.status === 429) answers.limited++;
        else throw new Error(`hostile send: ${res.status}`);
        // A refusal by the rate limiter does no I/O: without a turn of the event loop here, nothing else would run.
        await new Promise((r) => setTimeout(r, 1));
      }
    };
    const flooding = Promise.all([flood(), flood()]);
    await new Promise((r) => setTimeout(r, 500));
    const busy = await victimRun(victim.apiKey, ep, 30, 100, 30);
    running = false;
    await flooding;

    expect(answers.accepted).toBeGreaterThan(30);
    expect(idle).toHaveLength(30);
    expect(busy).toHaveLength(30);
    expect((await ep.requests()).length).toBe(60);
    // Nothing the hostile sent matched its filters: none of its 100 lanes got anything to deliver.
    expect(await sink.requests()).toEqual([]);
    expect(p99(busy), `p99 idle ${p99(idle)} ms, busy ${p99(busy)} ms`).toBeLessThanOrEqual(1.5 * p99(idle));
  }, 120_000);
});
