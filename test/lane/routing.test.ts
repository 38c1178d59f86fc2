// Routing cost bounded and isolated (docs/limits.md, "Routing"): the consumer reads only what routing needs, one
// workspace at a time in pages, within a per-batch budget of D1 reads and lane calls; a workspace whose routes cannot
// be read has its own messages retried, and no other's.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CACHEABLE_ROUTING_BYTES, ROUTING_PAGE_SIZE, SUBSCRIPTION_CACHE_TTL_MS } from "../../src/db/subscriptions";
import { BATCH_BUDGET, consumeEvents, type BatchBudget } from "../../src/delivery/consumer";
import { toQueuedEvent } from "../../src/events/ingest";
import { LIMITS } from "../../src/lib/limits";
import { ADMIN_TOKEN, call, createWebhook, createWorkspace } from "../support/helpers";
import { captureLogs } from "../support/logs";
import { endpoint } from "../support/receiver";

const logs = captureLogs();

/** Cloudflare's per-invocation limits on Workers Paid (developers.cloudflare.com/workers/platform/limits, d1/platform/limits). */
const SUBREQUESTS_PER_INVOCATION = 10_000;
const D1_QUERIES_PER_INVOCATION = 1_000;

/** env with a D1 binding that records every statement's SQL and can fail the ones bound to one workspace. */
function recordingEnv(failFor?: string) {
  const sql: string[] = [];
  const real = env.DB;
  const DB = {
    prepare(query: string) {
      sql.push(query);
      const statement = real.prepare(query);
      return {
        bind(...args: unknown[]) {
          if (failFor !== undefined && args.includes(failFor)) throw new Error(`D1 refuses ${failFor}`);
          return statement.bind(...args);
        },
        all: () => statement.all(),
        raw: (options?: { columnNames?: boolean }) => statement.raw(options as never),
        first: (column?: string) => statement.first(column as never),
        run: () => statement.run(),
      };
    },
    batch: (statements: D1PreparedStatement[]) => real.batch(statements),
  };
  return { env: Object.create(env, { DB: { value: DB } }) as typeof env, sql };
}

let n = 0;
async function consume(events: Awaited<ReturnType<typeof toQueuedEvent>>[], bindings = env, budget?: BatchBudget) {
  const batch = createMessageBatch<unknown>(
    "edge-webhooks-events",
    events.map((body) => ({ id: `route-${++n}`, timestamp: new Date(), attempts: 1, body })),
  );
  // The test batch does not report a retry's delay: each message's retry() records it on the way.
  const delays = new Map<string, number | undefined>();
  for (const message of batch.messages) {
    const retry = message.retry.bind(message);
    message.retry = (options?: QueueRetryOptions) => {
      delays.set(message.id, options?.delaySeconds);
      retry(options);
    };
  }
  const ctx = createExecutionContext();
  const cost = await consumeEvents(batch, bindings, budget);
  const result = await getQueueResult(batch, ctx);
  return { cost, result, delays, idOf: (i: number) => batch.messages[i]!.id };
}

const event = (workspaceId: string, data: Record<string, unknown> = {}) =>
  toQueuedEvent(workspaceId, { type: "contact.created", data }, Date.now());

/** Webhooks written straight into D1 (faster than the API for hundreds), subscribed to a type no test here sends. */
async function quietWebhooks(workspaceId: string, count: number, filterBytes = 0) {
  const now = Date.now();
  const filter = JSON.stringify(filterBytes ? { "contact.tag": ["t".repeat(filterBytes)] } : {});
  const statements = Array.from({ length: count }, (_, i) =>
    env.DB.prepare(
      "INSERT INTO webhooks (id, workspace_id, url, events, secret, signing_key, public_key, filter, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ).bind(
      `wh_quiet_${workspaceId}_${i}`,
      workspaceId,
      "https://quiet.example.com/",
      '["comment.created"]',
      "whsec_x",
      "whsk_x",
      "whpk_x",
      filter,
      now + i,
      now + i,
    ),
  );
  for (let i = 0; i < statements.length; i += 50) await env.DB.batch(statements.slice(i, i + 50));
}

describe("routing in the queue consumer", () => {
  it("reads only the columns routing needs; the lane reads its webhook's secrets and headers itself", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    await createWebhook(ws.apiKey, { url: ep.url, events: ["contact.created"], headers: { Authorization: "Bearer crm-token" } });
    const recording = recordingEnv();
    const { cost, result } = await consume([await event(ws.id)], recording.env);
    expect(result.retryMessages).toEqual([]);
    expect(cost.queries).toBe(1);
    expect(recording.sql).toHaveLength(1);
    for (const column of ['"secret"', '"headers"', '"signing_key"', '"previous_secret"', '"url"'])
      expect(recording.sql[0]).not.toContain(column);
    const [request] = await ep.waitFor(1);
    expect(request!.headers.authorization).toBe("Bearer crm-token");
  });

  it("retries only the messages of a workspace whose routes cannot be read; another workspace's in the same batch are delivered", async () => {
    const broken = await createWorkspace("Broken");
    const healthy = await createWorkspace("Healthy");
    const ep = endpoint();
    await createWebhook(broken.apiKey, { url: ep.url, events: ["contact.created"] });
    await createWebhook(healthy.apiKey, { url: ep.url, events: ["contact.created"] });
    const events = [await event(broken.id), await event(healthy.id), await event(broken.id), await event(healthy.id)];
    const { result, idOf } = await consume(events, recordingEnv(broken.id).env);
    expect(result.retryMessages.map((m) => m.msgId).sort()).toEqual([idOf(0), idOf(2)].sort());
    expect(logs.error).toHaveLength(1);
    const logged = `reading the routes of workspace ${broken.id} failed; its 2 message(s) will be retried: Error: Failed query: select "id", "events"`;
    expect(logs.error[0]!.slice(0, logged.length)).toBe(logged);
    expect(result.explicitAcks.sort()).toEqual([idOf(1), idOf(3)].sort());
    const got = await ep.waitFor(2);
    expect(got.map((r) => JSON.parse(r.body).event_id)).toEqual([events[1]!.id, events[3]!.id]);
  });

  it("reads a workspace's routes in pages of 100, within the bytes its limits allow, and not again within the cache's lifetime", async () => {
    const ws = await createWorkspace();
    await call("PATCH", `/v1/admin/workspaces/${ws.id}`, { key: ADMIN_TOKEN, body: { limits: { webhooks: 300 } } });
    await quietWebhooks(ws.id, 249, 1000);
    const ep = endpoint();
    await createWebhook(ws.apiKey, { url: ep.url, events: ["contact.created"] });
    const first = await consume([await event(ws.id), await event(ws.id)]);
    expect(first.cost.queries).toBe(Math.ceil(250 / ROUTING_PAGE_SIZE));
    expect(first.cost.laneCalls).toBe(1);
    // Each route is its id, its event types and its filter: bounded by the configuration size limit.
    expect(first.cost.bytes).toBeGreaterThan(249 * 1000);
    expect(first.cost.bytes).toBeLessThanOrEqual(250 * LIMITS.webhookConfigBytes.default);
    expect(first.cost.bytes).toBeLessThanOrEqual(CACHEABLE_ROUTING_BYTES);
    const again = await consume([await event(ws.id)]);
    expect(again.cost.queries).toBe(0);
    await ep.waitFor(3);
    expect(SUBSCRIPTION_CACHE_TTL_MS).toBeLessThanOrEqual(5_000);
  });

  it("spends at most its budget of lane calls; the workspaces past it are put off, and a later batch delivers them", async () => {
    const ep = endpoint();
    const workspaces = [];
    for (let i = 0; i < 5; i++) {
      const ws = await createWorkspace(`W${i}`);
      for (let j = 0; j < 3; j++) await createWebhook(ws.apiKey, { url: ep.url, events: ["contact.created"] });
      workspaces.push(ws);
    }
    const budget = { routingReads: 200, laneCalls: 7 };
    let pending = await Promise.all(workspaces.map((ws) => event(ws.id)));
    const batches: number[] = [];
    while (pending.length > 0) {
      const { cost, result, delays } = await consume(pending, env, budget);
      expect(cost.laneCalls).toBeLessThanOrEqual(budget.laneCalls);
      expect(cost.laneCalls).toBeGreaterThan(0);
      for (const retried of result.retryMessages) expect(delays.get(retried.msgId)).toBe(1);
      batches.push(cost.laneCalls);
      const put = new Set(result.retryMessages.map((m) => m.msgId));
      const ids = Array.from({ length: pending.length }, (_, i) => `route-${n - pending.length + 1 + i}`);
      pending = pending.filter((_, i) => put.has(ids[i]!));
      expect(batches.length).toBeLessThan(5);
    }
    expect(batches).toEqual([6, 6, 3]);
    await ep.waitFor(15);
  });

  it("keeps the default budget within Cloudflare's per-invocation limits, with room for a workspace at the largest limit", () => {
    // Lane calls: one per subscribed webhook, or one per event and webhook after a failed call (the fallback).
    expect(BATCH_BUDGET.routingReads + BATCH_BUDGET.laneCalls).toBeLessThanOrEqual(SUBREQUESTS_PER_INVOCATION / 2);
    expect(BATCH_BUDGET.routingReads).toBeLessThanOrEqual(D1_QUERIES_PER_INVOCATION);
    expect(BATCH_BUDGET.laneCalls).toBeGreaterThanOrEqual(LIMITS.webhooks.max);
    expect(BATCH_BUDGET.routingReads).toBeGreaterThanOrEqual(Math.ceil(LIMITS.webhooks.max / ROUTING_PAGE_SIZE));
    // The most one page of routes can hold: its webhooks at the largest configuration an operator can allow.
    expect(ROUTING_PAGE_SIZE * LIMITS.webhookConfigBytes.max).toBeLessThanOrEqual(8 * 1024 * 1024);
  });
});
