// The lane's head (line.ts, behind store.ts) reads pending events ahead of the one it returns and keeps successes in memory
// until a group is written; whatever happens in between (a late event sorting earlier, a retry or recover,
// a failure, a config), the head must be the pending event with the lowest place in line, as a plain query
// over a model of the line says. Random operation sequences, against a real lane's SQLite storage.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { EndpointLane } from "../../src/delivery/lane/endpoint-lane";
import { LaneStore, OUTCOME_GROUP_SIZE, type EventRow } from "../../src/delivery/lane/store";
import type { LaneConfig } from "../../src/delivery/lane-config";
import { handMadeConfig } from "../support/lane";

const config = (version: number, enabled = true): LaneConfig =>
  handMadeConfig({ webhookId: "wh_head", workspaceId: "ws_head", version, enabled });

type Op =
  | { op: "insert"; keys: number[]; repeat: number | null }
  | { op: "succeed" }
  | { op: "fail"; drop: boolean }
  | { op: "requeue"; pick: number }
  | { op: "flush" }
  | { op: "config" }
  | { op: "pause" };

const ops: fc.Arbitrary<Op[]> = fc.array(
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        op: fc.constant("insert" as const),
        // One queue batch: several events, and now and then one whose id the lane already holds.
        keys: fc.array(fc.integer({ min: 0, max: 999 }), { minLength: 1, maxLength: 6 }),
        repeat: fc.option(fc.nat(), { nil: null }),
      }),
    },
    { weight: 6, arbitrary: fc.constant({ op: "succeed" as const }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("fail" as const), drop: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("requeue" as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.constant({ op: "flush" as const }) },
    { weight: 1, arbitrary: fc.constant({ op: "config" as const }) },
    { weight: 1, arbitrary: fc.constant({ op: "pause" as const }) },
  ),
  { minLength: 1, maxLength: 120 },
);

const outcome = (at: number) => ({ at, durationMs: 1, statusCode: 200, error: null, responseBody: "", headers: { "webhook-id": "x" } });

let run = 0;

describe("the lane's head with read-ahead and grouped successes", () => {
  it("is always the pending event with the lowest place in line, and storage ends as the model says", async () => {
    await fc.assert(
      fc.asyncProperty(ops, async (sequence) => {
        const stub = env.ENDPOINT_LANE.get(env.ENDPOINT_LANE.idFromName(`line-head-${run++}`));
        await runInDurableObject(stub, async (_instance: EndpointLane, state) => {
          const store = new LaneStore(state.storage);
          let version = 1;
          store.applyConfig(config(version));
          // The model: each event's status and place in line, with successes counted at once.
          const model = new Map<string, { line: string; status: "pending" | "delivered" | "dropped" | "skipped" }>();
          const expectedHead = () =>
            [...model]
              .filter(([, e]) => e.status === "pending")
              .sort(([, a], [, b]) => (a.line < b.line ? -1 : a.line > b.line ? 1 : 0))[0]?.[0];
          let seq = 0;
          // Order keys sort as acceptance order; a low `key` is an event the queue handed over late.
          const nextOrderKey = (key: number) => `k${String(key).padStart(4, "0")}-${String(seq++).padStart(4, "0")}`;
          for (const step of sequence) {
            if (step.op === "insert") {
              const batch = step.keys.map((key) => {
                const orderKey = nextOrderKey(key);
                return {
                  id: `evt_${orderKey}`,
                  order_key: orderKey,
                  type: "t",
                  body: "{}",
                  accepted_at: 0,
                  status: "pending" as const,
                  next_attempt_at: 0,
                  finished_at: null,
                };
              });
              const held = [...model.keys()];
              if (step.repeat !== null && held.length > 0) {
                // The same id again under a new order key (a producer's retry): not stored, wherever it sorts.
                const orderKey = nextOrderKey(step.repeat % 1000);
                batch.splice(step.repeat % (batch.length + 1), 0, {
                  ...batch[0]!,
                  id: held[step.repeat % held.length]!,
                  order_key: orderKey,
                });
              }
              const fresh = batch.filter((e) => !model.has(e.id));
              expect(store.insertEvents(batch)).toBe(fresh.length);
              for (const e of fresh) model.set(e.id, { line: e.order_key, status: "pending" });
            } else if (step.op === "succeed" || step.op === "fail") {
              const head: EventRow | undefined = store.head();
              expect(head?.id).toBe(expectedHead());
              if (!head) continue;
              if (step.op === "succeed") {
                if (store.deferDelivered(head, outcome(seq), seq) >= OUTCOME_GROUP_SIZE) store.flushDelivered();
                model.get(head.id)!.status = "delivered";
              } else {
                store.flushDelivered();
                const status = step.drop ? "dropped" : "pending";
                store.recordOutcome(
                  head,
                  { ...outcome(seq), statusCode: 500, error: "HTTP 500" },
                  { status, finishedAt: step.drop ? seq : null, nextAttemptAt: seq },
                );
                model.get(head.id)!.status = status;
              }
            } else if (step.op === "requeue") {
              const finished = [...model].filter(([, e]) => e.status !== "pending").map(([id]) => id);
              if (finished.length === 0) continue;
              const id = finished[step.pick % finished.length]!;
              store.requeue([id]);
              model.set(id, { line: store.event(id)!.line_key, status: "pending" });
            } else if (step.op === "flush") {
              store.flushDelivered();
            } else if (step.op === "config") {
              store.applyConfig(config(++version));
            } else {
              // Disabled and enabled again: what was pending is skipped, for recover (a requeue here) to put back.
              store.applyConfig(config(++version, false));
              store.applyConfig(config(++version));
              for (const e of model.values()) if (e.status === "pending") e.status = "skipped";
            }
            expect(store.head()?.id).toBe(expectedHead());
          }
          store.flushDelivered();
          const stored = Object.fromEntries(
            state.storage.sql
              .exec<{ id: string; status: string }>("SELECT id, status FROM events")
              .toArray()
              .map((r) => [r.id, r.status]),
          );
          expect(stored).toEqual(Object.fromEntries([...model].map(([id, e]) => [id, e.status])));
          // A fresh store over the same storage (as after a restart) finds the same head.
          expect(new LaneStore(state.storage).head()?.id).toBe(expectedHead());
        });
      }),
      { numRuns: 300 },
    );
  });
  it("stores a batch bigger than one statement takes, in order, each body intact, a repeated id once", async () => {
    const stub = env.ENDPOINT_LANE.get(env.ENDPOINT_LANE.idFromName("line-head-chunks"));
    await runInDurableObject(stub, async (_instance: EndpointLane, state) => {
      const store = new LaneStore(state.storage);
      store.applyConfig(config(1));
      // Eight bodies of ~100,000 characters, with characters JSON escapes and ones outside the BMP: more JSON
      // than one statement is given, so the batch is split; the last repeats the first's id.
      const body = (i: number) => JSON.stringify({ i, text: `"\\\n${"é€😀".repeat(8_000)}`.repeat(3) });
      const batch = Array.from({ length: 8 }, (_, i) => ({
        id: i === 7 ? "evt_chunk_0" : `evt_chunk_${i}`,
        order_key: `c${i}`,
        type: "t",
        body: body(i),
        accepted_at: i,
        status: "pending" as const,
        next_attempt_at: 0,
        finished_at: null,
      }));
      expect(batch.reduce((n, e) => n + JSON.stringify(e.body).length, 0)).toBeGreaterThan(600_000);
      expect(store.insertEvents(batch)).toBe(7);
      const rows = state.storage.sql.exec<{ id: string; body: string }>("SELECT id, body FROM events ORDER BY order_key").toArray();
      expect(rows.map((r) => r.id)).toEqual(batch.slice(0, 7).map((e) => e.id));
      rows.forEach((r, i) => expect(r.body).toBe(body(i)));
      expect(store.head()?.id).toBe("evt_chunk_0");
    });
  });
});
