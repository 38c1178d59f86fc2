// The service as the benchmark runs it: src/index.ts unchanged, its bindings wrapped by ./counters so each
// billable operation is counted, plus GET /__bench/counters to read the counts. Same classes, same config.
import service, { EndpointLane as Lane, WorkspaceQuota as Quota } from "../../src/index";
import type { Env } from "../../src/env";
import type { QueuedEvent } from "../../src/events/queued-event";
import { addActiveMs, countAlarm, countedBatch, countedEnv, countedState, counters, countFetches, settleD1 } from "./counters";

countFetches();

export class EndpointLane extends Lane {
  constructor(ctx: DurableObjectState, env: Env) {
    super(countedState(ctx, "EndpointLane"), countedEnv(env));
  }

  override async alarm(): Promise<void> {
    countAlarm("EndpointLane");
    const started = Date.now();
    try {
      await super.alarm();
    } finally {
      addActiveMs("EndpointLane", Date.now() - started);
    }
  }
}

export class WorkspaceQuota extends Quota {
  constructor(ctx: DurableObjectState, env: Env) {
    super(countedState(ctx, "WorkspaceQuota"), countedEnv(env));
  }
}

/**
 * The service's env with EVENT_VALIDATION as a request's `x-bench-event-validation` asks, one object per mode
 * (the config is parsed once per env object, as in production): the validation phase compares modes in one worker.
 */
const byMode = new WeakMap<object, Map<string, Env>>();
function withValidation(env: Env, mode: string | null): Env {
  if (mode === null) return env;
  let modes = byMode.get(env);
  if (!modes) byMode.set(env, (modes = new Map()));
  let variant = modes.get(mode);
  if (!variant) modes.set(mode, (variant = { ...env, EVENT_VALIDATION: mode }));
  return variant;
}

export default {
  async fetch(request, env, ctx) {
    if (new URL(request.url).pathname === "/__bench/counters") {
      await settleD1();
      return Response.json(counters);
    }
    counters.workerRequests++;
    const handle = service.fetch as ExportedHandlerFetchHandler<Env>;
    return handle(request, withValidation(countedEnv(env), request.headers.get("x-bench-event-validation")), ctx);
  },
  async queue(batch, env, ctx) {
    counters.consumerInvocations++;
    const consume = service.queue as ExportedHandlerQueueHandler<Env, QueuedEvent>;
    await consume(countedBatch(batch), countedEnv(env), ctx);
  },
} satisfies ExportedHandler<Env, QueuedEvent>;
