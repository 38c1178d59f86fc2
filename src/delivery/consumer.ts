// The queue consumer: hands each accepted event to the lane of every webhook subscribed to it.
import type { Env } from "../env";
import type { QueuedEvent } from "../events/queued-event";
import { laneConfigOf, type LaneConfig } from "./lane-config";
import { matchesFilter } from "../lib/endpoint-controls";
import { laneOf } from "./lane/endpoint-lane";
import { bodyOf } from "./payload";
import { webhooksOf } from "../db/subscriptions";

interface Handoff {
  config: LaneConfig;
  events: QueuedEvent[];
  messages: Message<QueuedEvent>[];
}

/**
 * One RPC per lane per batch, events in acceptance order. A message is acknowledged once every lane it
 * goes to has stored it; otherwise it is retried, and lanes ignore the event ids they already hold.
 */
export async function consumeEvents(batch: MessageBatch<QueuedEvent>, env: Env): Promise<void> {
  const messages = [...batch.messages].sort((a, b) => (a.body.orderKey < b.body.orderKey ? -1 : a.body.orderKey > b.body.orderKey ? 1 : 0));
  const subscriptions = await webhooksOf(env, [...new Set(messages.map((m) => m.body.workspaceId))]);

  const handoffs = new Map<string, Handoff>();
  for (const message of messages) {
    let body: Record<string, unknown> | undefined;
    for (const webhook of subscriptions.get(message.body.workspaceId) ?? []) {
      if (!webhook.events.includes(message.body.type)) continue;
      // A filter sees the body the endpoint would get; an event it refuses never reaches that lane (no storage, no cost).
      if (Object.keys(webhook.filter).length > 0 && !matchesFilter(webhook.filter, (body ??= bodyOf(message.body)))) continue;
      let handoff = handoffs.get(webhook.id);
      if (!handoff) handoffs.set(webhook.id, (handoff = { config: laneConfigOf(webhook), events: [], messages: [] }));
      handoff.events.push(message.body);
      handoff.messages.push(message);
    }
  }

  const failed = new Set<Message<QueuedEvent>>();
  await Promise.all(
    [...handoffs.values()].map(async ({ config, events, messages: carried }) => {
      try {
        await laneOf(env.ENDPOINT_LANE, config.webhookId).enqueue(config, events);
      } catch (err) {
        console.error(`hand-off to lane ${config.webhookId} failed; ${carried.length} message(s) will be retried:`, err);
        for (const message of carried) failed.add(message);
      }
    }),
  );
  for (const message of messages) {
    if (failed.has(message)) message.retry();
    else message.ack();
  }
}
