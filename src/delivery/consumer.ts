// The queue consumer: hands each accepted event to the lane of every webhook subscribed to it, treating every
// message on its own, so one that cannot be read, routed or handed over never holds back its batch neighbours.
import type { Env } from "../env";
import { webhooksOf } from "../db/subscriptions";
import { readQueuedEvent, type QueuedEvent } from "../events/queued-event";
import { matchesFilter } from "../lib/endpoint-controls";
import { laneConfigOf, type LaneConfig } from "./lane-config";
import { laneOf } from "../bindings";
import { bodyOf } from "./payload";

interface Carried {
  message: Message<unknown>;
  event: QueuedEvent;
}

interface Handoff {
  config: LaneConfig;
  carried: Carried[];
}

const byOrderKey = (a: Carried, b: Carried) => (a.event.orderKey < b.event.orderKey ? -1 : a.event.orderKey > b.event.orderKey ? 1 : 0);

/** Retries one message; the runtime's own ack/retry calls are the last step and must not fail the others. */
function settle(message: Message<unknown>, ok: boolean, why?: unknown): void {
  try {
    if (ok) message.ack();
    else {
      if (why !== undefined) console.error(`queue message ${message.id} is retried alone:`, why);
      message.retry();
    }
  } catch (err) {
    console.error(`could not settle queue message ${message.id}:`, err);
  }
}

/** Hands a lane its events in one call; if that fails, one by one in order, so only the events that fail are retried. */
async function handOver(env: Env, { config, carried }: Handoff): Promise<Carried[]> {
  const lane = laneOf(env.ENDPOINT_LANE, config.webhookId, config.dataLocation);
  try {
    await lane.enqueue(
      config,
      carried.map((c) => c.event),
    );
    return [];
  } catch (err) {
    if (carried.length === 1) {
      console.error(`hand-off to lane ${config.webhookId} failed:`, err);
      return carried;
    }
  }
  const failed: Carried[] = [];
  for (const one of carried) {
    try {
      await lane.enqueue(config, [one.event]);
    } catch (err) {
      console.error(`hand-off of ${one.event.id} to lane ${config.webhookId} failed:`, err);
      failed.push(one);
    }
  }
  return failed;
}

/**
 * One RPC per lane per batch, events in acceptance order. A message is acknowledged once every lane it goes to
 * has stored it; otherwise it alone is retried, and lanes ignore the event ids they already hold.
 */
export async function consumeEvents(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const readable: Carried[] = [];
  for (const message of batch.messages) {
    try {
      readable.push({ message, event: readQueuedEvent(message.body) });
    } catch (err) {
      settle(message, false, err);
    }
  }
  readable.sort(byOrderKey);

  let subscriptions: Awaited<ReturnType<typeof webhooksOf>>;
  try {
    subscriptions = await webhooksOf(env, [...new Set(readable.map((c) => c.event.workspaceId))]);
  } catch (err) {
    // Without D1 no message can be routed; none is at fault, and all come back.
    console.error(`reading subscriptions failed; ${readable.length} message(s) will be retried:`, err);
    for (const { message } of readable) settle(message, false);
    return;
  }

  const handoffs = new Map<string, Handoff>();
  const failed = new Set<Message<unknown>>();
  for (const carried of readable) {
    try {
      let body: Record<string, unknown> | undefined;
      for (const webhook of subscriptions.get(carried.event.workspaceId) ?? []) {
        if (!webhook.events.includes(carried.event.type)) continue;
        // A filter sees the body the endpoint would get; an event it refuses never reaches that lane (no storage, no cost).
        if (Object.keys(webhook.filter).length > 0 && !matchesFilter(webhook.filter, (body ??= bodyOf(carried.event)))) continue;
        let handoff = handoffs.get(webhook.id);
        if (!handoff) handoffs.set(webhook.id, (handoff = { config: laneConfigOf(webhook), carried: [] }));
        handoff.carried.push(carried);
      }
    } catch (err) {
      console.error(`routing ${carried.event.id} failed:`, err);
      failed.add(carried.message);
    }
  }

  const results = await Promise.allSettled([...handoffs.values()].map((handoff) => handOver(env, handoff)));
  for (const [i, result] of results.entries()) {
    const lost = result.status === "fulfilled" ? result.value : [...handoffs.values()][i]!.carried;
    for (const { message } of lost) failed.add(message);
  }
  for (const { message } of readable)
    settle(message, !failed.has(message), failed.has(message) ? "its hand-off to a lane failed" : undefined);
}
