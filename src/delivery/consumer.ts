// The queue consumer: hands each accepted event to the lane of every webhook subscribed to it, one workspace at a
// time, so one workspace whose routes cannot be read, or one message that cannot be read, routed or handed over,
// never holds back the others. Each batch has a budget of D1 reads and lane calls (docs/limits.md, "Routing").
import type { Env } from "../env";
import { routesOf, type Route, type RoutingReads } from "../db/subscriptions";
import { readQueuedEvent, type QueuedEvent } from "../events/queued-event";
import { matchesFilter } from "../lib/endpoint-controls";
import { laneOf } from "../bindings";
import { bodyOf } from "./payload";

/**
 * What one batch may spend: D1 queries to read routes (D1 allows 1,000 per invocation on Workers Paid) and lane calls
 * (Workers Paid allows 10,000 subrequests per invocation). A workspace at the largest webhooks limit an operator can
 * set (src/lib/limits.ts) fits in one batch's lane calls.
 */
export interface BatchBudget {
  routingReads: number;
  laneCalls: number;
}

export const BATCH_BUDGET: Readonly<BatchBudget> = Object.freeze({ routingReads: 200, laneCalls: 2_000 });
/** Workspaces routed at once: as many as an invocation has outgoing connections. */
const WORKSPACES_AT_ONCE = 6;
/** A message whose routing was put off because its batch's budget was spent comes back after this. */
const DEFER_SECONDS = 1;

interface Carried {
  message: Message<unknown>;
  event: QueuedEvent;
}

/** What one batch cost, for logs and the tests that hold its bounds. */
export interface BatchCost extends RoutingReads {
  laneCalls: number;
  /** Messages whose routing was put off to a later batch because this one's budget was spent. */
  deferred: number;
}

const byOrderKey = (a: Carried, b: Carried) => (a.event.orderKey < b.event.orderKey ? -1 : a.event.orderKey > b.event.orderKey ? 1 : 0);

/** Retries one message; the runtime's own ack/retry calls are the last step and must not fail the others. */
function settle(message: Message<unknown>, ok: boolean, why?: unknown, delaySeconds?: number): void {
  try {
    if (ok) message.ack();
    else {
      if (why !== undefined) console.error(`queue message ${message.id} is retried alone:`, why);
      message.retry(delaySeconds === undefined ? undefined : { delaySeconds });
    }
  } catch (err) {
    console.error(`could not settle queue message ${message.id}:`, err);
  }
}

/** Hands a lane its events in one call; if that fails, one by one in order, so only the events that fail are retried. */
async function handOver(env: Env, route: Route, carried: Carried[], cost: BatchCost): Promise<Carried[]> {
  const lane = laneOf(env.ENDPOINT_LANE, route.id, route.dataLocation);
  const ref = { webhookId: route.id, version: route.version };
  cost.laneCalls++;
  try {
    await lane.enqueueRouted(
      ref,
      carried.map((c) => c.event),
    );
    return [];
  } catch (err) {
    if (carried.length === 1) {
      console.error(`hand-off to lane ${route.id} failed:`, err);
      return carried;
    }
  }
  const failed: Carried[] = [];
  for (const one of carried) {
    cost.laneCalls++;
    try {
      await lane.enqueueRouted(ref, [one.event]);
    } catch (err) {
      console.error(`hand-off of ${one.event.id} to lane ${route.id} failed:`, err);
      failed.push(one);
    }
  }
  return failed;
}

/** Which of a page of routes takes which of the workspace's events (filters see the body the endpoint would get). */
function route(page: Route[], carried: Carried[], failed: Set<Message<unknown>>): Map<Route, Carried[]> {
  const handoffs = new Map<Route, Carried[]>();
  for (const one of carried) {
    try {
      let body: Record<string, unknown> | undefined;
      for (const webhook of page) {
        if (!webhook.events.includes(one.event.type)) continue;
        // An event a filter refuses never reaches that lane (no storage, no cost).
        if (Object.keys(webhook.filter).length > 0 && !matchesFilter(webhook.filter, (body ??= bodyOf(one.event)))) continue;
        let list = handoffs.get(webhook);
        if (!list) handoffs.set(webhook, (list = []));
        list.push(one);
      }
    } catch (err) {
      console.error(`routing ${one.event.id} failed:`, err);
      failed.add(one.message);
    }
  }
  return handoffs;
}

/**
 * One workspace's messages: its routes page by page, each page's lanes called at once (one call per lane, events in
 * acceptance order). If its routes cannot be read, or the batch's budget is spent before it is done, its messages
 * alone come back (lanes ignore the event ids they already hold, so a partial hand-off is safe to repeat).
 */
async function consumeWorkspace(env: Env, workspaceId: string, carried: Carried[], cost: BatchCost, budget: BatchBudget): Promise<void> {
  const failed = new Set<Message<unknown>>();
  const pages = routesOf(env, workspaceId, cost, () => cost.queries < budget.routingReads);
  let complete: boolean;
  try {
    for (;;) {
      const next = await pages.next();
      if (next.done) {
        complete = next.value;
        break;
      }
      const handoffs = route(next.value, carried, failed);
      // The first calls of a batch always go out, so every batch makes progress.
      if (cost.laneCalls > 0 && cost.laneCalls + handoffs.size > budget.laneCalls) {
        complete = false;
        break;
      }
      const lists = [...handoffs];
      const results = await Promise.allSettled(lists.map(([webhook, list]) => handOver(env, webhook, list, cost)));
      for (const [i, result] of results.entries()) {
        for (const { message } of result.status === "fulfilled" ? result.value : lists[i]![1]) failed.add(message);
      }
    }
  } catch (err) {
    // Without its routes none of this workspace's messages can be routed; none is at fault, and they alone come back.
    console.error(`reading the routes of workspace ${workspaceId} failed; its ${carried.length} message(s) will be retried:`, err);
    for (const { message } of carried) settle(message, false);
    return;
  }
  if (!complete) {
    cost.deferred += carried.length;
    for (const { message } of carried) settle(message, false, undefined, DEFER_SECONDS);
    return;
  }
  for (const { message } of carried) {
    settle(message, !failed.has(message), failed.has(message) ? "its hand-off to a lane failed" : undefined);
  }
}

/**
 * A message is acknowledged once every lane it goes to has stored it; otherwise it alone (or its workspace's
 * messages, when their routes could not be read) is retried.
 */
export async function consumeEvents(batch: MessageBatch<unknown>, env: Env, budget: BatchBudget = BATCH_BUDGET): Promise<BatchCost> {
  const readable: Carried[] = [];
  for (const message of batch.messages) {
    try {
      readable.push({ message, event: readQueuedEvent(message.body) });
    } catch (err) {
      settle(message, false, err);
    }
  }
  readable.sort(byOrderKey);
  // Workspaces in the order of their oldest event, so a message put off once is among the first the next time.
  const byWorkspace = new Map<string, Carried[]>();
  for (const one of readable) {
    let list = byWorkspace.get(one.event.workspaceId);
    if (!list) byWorkspace.set(one.event.workspaceId, (list = []));
    list.push(one);
  }
  const cost: BatchCost = { queries: 0, bytes: 0, laneCalls: 0, deferred: 0 };
  const queue = [...byWorkspace];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) await consumeWorkspace(env, next[0], next[1], cost, budget);
  };
  await Promise.all(Array.from({ length: Math.min(WORKSPACES_AT_ONCE, queue.length) }, worker));
  return cost;
}
