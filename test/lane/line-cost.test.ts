// What starting an event costs the lane in rows read (SqlStorageCursor.rowsRead), at 100 pending and at 10,000:
// the same bound in every ordering mode and whatever the spread of keys (one hot key holding most of the backlog
// included), and the same for the alarm's question of when the next event is due (docs/capacity.md).
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Sealed } from "../../src/lib/encryption";
import { counted } from "../support/counted-sql";
import { handMadeConfig } from "../support/lane";
import { LaneSecrets } from "../../src/delivery/lane/secrets";
import type { EndpointLane } from "../../src/delivery/lane/endpoint-lane";
import { LaneOutcomes } from "../../src/delivery/lane/outcomes";
import { ParallelDelivery } from "../../src/delivery/lane/parallel";
import type { LaneSending, SentAttempt } from "../../src/delivery/lane/sending";
import { LaneStore, type NewEvent } from "../../src/delivery/lane/store";
import type { LaneConfig } from "../../src/delivery/lane-config";
import type { Ordering } from "../../src/delivery/ordering";

type Spread = "endpoint" | "endpoint, recovered" | "none" | "key: many keys" | "key: one hot key";

const orderingOf = (spread: Spread): Ordering => (spread.startsWith("key") ? "key" : spread.startsWith("endpoint") ? "endpoint" : "none");

const config = (spread: Spread): LaneConfig =>
  handMadeConfig({
    webhookId: "wh_cost",
    workspaceId: "ws_cost",
    ordering: orderingOf(spread),
    orderingKey: spread.startsWith("key") ? "contact.id" : null,
    maxInFlight: spread.startsWith("endpoint") ? 1 : 10,
  });

/** The key of the i-th event: its own under "none", one of 50 keys, or the hot key for 9 events in 10. */
function orderingKey(spread: Spread, i: number, id: string): string | null {
  if (spread.startsWith("endpoint")) return null;
  if (spread === "none") return `#${id}`;
  if (spread === "key: many keys") return `"c${i % 50}"`;
  return i % 10 === 9 ? `"c${i}"` : '"hot"';
}

const success = (): SentAttempt => ({
  sealedHeaders: "{}" as Sealed,
  at: Date.now(),
  durationMs: 1,
  statusCode: 200,
  error: null,
  responseBody: "",
  headers: {},
  delivered: true,
  retryAfterMs: null,
});

/**
 * Rows read and written per started event over `starts` starts, with `pending` events waiting, and rows read by one
 * question of when the next is due.
 */
async function costAt(
  spread: Spread,
  pending: number,
  starts: number,
): Promise<{ perStart: number; writtenPerStart: number; dueQuestion: number }> {
  const stub = env.ENDPOINT_LANE.get(env.ENDPOINT_LANE.idFromName(`line-cost-${spread}-${pending}`));
  return runInDurableObject(stub, async (_instance: EndpointLane, state) => {
    const io = counted(state.storage);
    const store = new LaneStore(io.storage);
    store.applyConfig(config(spread));
    const events: NewEvent[] = Array.from({ length: pending }, (_, i) => {
      const id = `evt_${String(i).padStart(6, "0")}`;
      return {
        id,
        order_key: `k${String(i).padStart(6, "0")}`,
        type: "t",
        body: "{}",
        accepted_at: 0,
        status: "pending",
        next_attempt_at: 0,
        finished_at: null,
        ordering_key: orderingKey(spread, i, id),
      };
    });
    store.insertEvents(events);
    // A backlog kept while the webhook was off and recovered at once: every event put back in line.
    if (spread === "endpoint, recovered") {
      store.applyConfig({ ...config(spread), version: 2, enabled: false });
      store.applyConfig({ ...config(spread), version: 3 });
      store.requeue(store.recoverable(0));
    }
    const lane = store.lane()!;
    const outcomes = new LaneOutcomes(() => env, store, new LaneSecrets(() => env));
    let started = 0;
    io.reset();
    if (spread.startsWith("endpoint")) {
      // The line's loop (runner.ts deliverInLine), without the request: head, work while out, outcome.
      for (; started < starts; started++) {
        const head = store.head()!;
        store.whileOut(head);
        store.nextAfterHead(head);
        await outcomes.ofHead(lane, head, success());
      }
      store.flushDelivered();
    } else {
      const sending = {
        attemptFrom: async () => {
          started++;
          return success();
        },
      } as unknown as LaneSending;
      const parallel = new ParallelDelivery(store, sending, outcomes, {
        tokenAt: () => 0,
        took: () => {},
        inLine: () => false,
        pause: () => {},
      });
      await parallel.run(Date.now(), Date.now() + 60_000, starts, 0);
      store.flushDelivered();
    }
    const perStart = io.rowsRead() / started;
    const writtenPerStart = io.rowsWritten() / started;
    io.reset();
    if (spread.startsWith("endpoint")) store.head();
    else
      new ParallelDelivery(store, {} as LaneSending, outcomes, {
        tokenAt: () => 0,
        took: () => {},
        inLine: () => false,
        pause: () => {},
      }).line.nextDueAt();
    return { perStart, writtenPerStart, dueQuestion: io.rowsRead() };
  });
}

describe("what starting an event costs", () => {
  it.each(["endpoint", "endpoint, recovered", "none", "key: many keys", "key: one hot key"] as const)(
    "under %s, reads as many rows per start at 10,000 pending as at 100",
    async (spread) => {
      const small = await costAt(spread, 100, 60);
      const large = await costAt(spread, 10_000, 60);
      // A few rows per start (the heads read ahead, the key's next one, the outcome written), whatever the backlog:
      // measured 4 under endpoint (5 for a recovered backlog), 8-9 otherwise, 17 with a hot key and few others (each
      // start then reads again).
      expect(small.perStart).toBeLessThanOrEqual(20);
      expect(large.perStart).toBeLessThanOrEqual(20);
      expect(large.perStart).toBeLessThanOrEqual(small.perStart * 1.5 + 1);
      // The alarm's question (asked at every hand-off and whenever the lane goes idle) reads a few rows too.
      expect(small.dueQuestion).toBeLessThanOrEqual(10);
      expect(large.dueQuestion).toBeLessThanOrEqual(10);
      // The heads table costs the default ordering nothing: one row written per delivered event, as before.
      if (spread === "endpoint") expect(large.writtenPerStart).toBeLessThanOrEqual(1);
    },
    60_000,
  );
});
