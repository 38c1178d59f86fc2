// What a create or PATCH of a webhook asks for, read out of the request: its event types, ordering settings and
// endpoint controls (those it leaves out stay absent), and which fields count toward its configuration size.
import type { z } from "@hono/zod-openapi";
import type { WebhookRow } from "../../db/schema";
import { mergeOrdering, orderingProblem, type OrderingSettings } from "../../delivery/ordering";
import type { EventType } from "../../events/catalog";
import { ApiError } from "../errors";
import type { UpdateWebhookSchema } from "./schemas";

export const unique = (events: EventType[]) => [...new Set(events)];
/** The fields whose JSON is a webhook's configuration size (limit webhookConfigBytes). */
export const SIZED_FIELDS = ["url", "description", "events", "filter", "headers"] as const;

/**
 * The ordering settings after the request (those it leaves out keep their value, or follow a change of ordering:
 * ordering.ts mergeOrdering); a combination the rules refuse answers its own error code.
 */
export function orderingOf(input: z.infer<typeof UpdateWebhookSchema>, current?: WebhookRow): OrderingSettings {
  const { ordering, orderingKey, maxInFlight, concurrency } = input;
  const merged = mergeOrdering(
    current && {
      ordering: current.ordering,
      orderingKey: current.orderingKey ?? null,
      maxInFlight: current.maxInFlight,
      concurrency: current.concurrency,
    },
    {
      ...(ordering !== undefined ? { ordering } : {}),
      ...(orderingKey !== undefined ? { orderingKey } : {}),
      ...(maxInFlight !== undefined ? { maxInFlight } : {}),
      ...(concurrency !== undefined ? { concurrency } : {}),
    },
  );
  const problem = orderingProblem(merged);
  if (problem) throw new ApiError(problem.code, problem.message, undefined, { param: problem.param });
  return merged;
}

/** The endpoint controls a request sets (those it leaves out are absent, so PATCH keeps them). */
export function controlsOf(input: z.infer<typeof UpdateWebhookSchema>) {
  const { rateLimitPerSecond, retryDelaysSeconds, headers, filter, batch } = input;
  return Object.fromEntries(
    Object.entries({ rateLimitPerSecond, retryDelaysSeconds, headers, filter, batch }).filter(([, value]) => value !== undefined),
  ) as Pick<Partial<WebhookRow>, "rateLimitPerSecond" | "retryDelaysSeconds" | "filter" | "batch"> & { headers?: Record<string, string> };
}
