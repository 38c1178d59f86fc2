// A lane's events by id: one accepted without an idempotency key has the id `evt_` + its order key (ingest.ts), is
// found by primary key and costs one row written to store; any other id (an idempotency key's, an alert's, one a
// 1.0.0 lane stored) is indexed. Whichever way, an id is stored once, found, and put back in line by id.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { ulid } from "ulidx";
import { describe, expect, it } from "vitest";
import type { EndpointLane } from "../../src/delivery/lane/endpoint-lane";
import { LANE_STORAGE_STEPS, SCHEMA } from "../../src/delivery/lane/schema";
import { LaneStore, type NewEvent } from "../../src/delivery/lane/store";
import { toQueuedEvent } from "../../src/events/ingest";
import { counted } from "../support/counted-sql";
import { handMadeConfig } from "../support/lane";

const config = handMadeConfig({ webhookId: "wh_ids" });

const stored = (id: string, orderKey: string): NewEvent => ({
  id,
  order_key: orderKey,
  type: "contact.created",
  body: JSON.stringify({ id }),
  accepted_at: 0,
  status: "pending",
  next_attempt_at: 0,
  finished_at: null,
});

let instance = 0;
const inLane = <T>(fn: (state: DurableObjectState) => T | Promise<T>) =>
  runInDurableObject(env.ENDPOINT_LANE.get(env.ENDPOINT_LANE.idFromName(`event-ids-${instance++}`)), (_: EndpointLane, state) => fn(state));

const indexes = (sql: SqlStorage) =>
  sql
    .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' ORDER BY name")
    .toArray()
    .map((r) => r.name);

describe("a lane's events by id", () => {
  it("stores an event accepted without an idempotency key as one row written, one with a key as two (its row, its id's entry)", async () => {
    const plain = await toQueuedEvent("ws_ids", { type: "contact.created", data: {} }, Date.now());
    const keyed = await toQueuedEvent("ws_ids", { type: "contact.created", data: {}, id: "order-42" }, Date.now());
    expect(plain.id).toBe(`evt_${plain.orderKey.toLowerCase()}`);
    expect(keyed.id).not.toBe(`evt_${keyed.orderKey.toLowerCase()}`);
    await inLane((state) => {
      const io = counted(state.storage);
      const store = new LaneStore(io.storage);
      store.applyConfig(config);
      const written = (event: typeof plain) => {
        io.reset();
        expect(store.insertEvent(stored(event.id, event.orderKey))).toBe(true);
        return io.rowsWritten();
      };
      expect(written(plain)).toBe(1);
      expect(written(keyed)).toBe(2);
      // Both found by id, and neither stored again: the same hand-over twice, or the same id with another order key.
      for (const event of [plain, keyed]) {
        expect(store.event(event.id)?.order_key).toBe(event.orderKey);
        expect(store.insertEvent(stored(event.id, event.orderKey))).toBe(false);
        expect(store.insertEvent(stored(event.id, ulid()))).toBe(false);
      }
      expect(store.event("evt_nosuchevent")).toBeUndefined();
    });
  });

  it("holds each id once and finds it, whatever the order its copies are handed over in and however they are batched", async () => {
    // Originals, each with its own order key: an id from that key (no idempotency key) or not. Each copy handed over is
    // the original itself (the queue delivering again) or the same id under a later order key (a replay, an
    // idempotency key sent again): the first copy of an id handed over is the one kept.
    const originals = fc.array(fc.boolean(), { minLength: 1, maxLength: 12 });
    const copies = fc.array(fc.record({ of: fc.nat(), newKey: fc.boolean(), batchEnds: fc.boolean() }), { minLength: 1, maxLength: 40 });
    await fc.assert(
      fc.asyncProperty(originals, copies, async (fromKey, handOvers) => {
        await inLane((state) => {
          const store = new LaneStore(state.storage);
          store.applyConfig(config);
          const events = fromKey.map((derived, i) => {
            const orderKey = ulid(1_000_000 + i);
            return stored(derived ? `evt_${orderKey.toLowerCase()}` : `evt_${(i + 1).toString(16).padStart(26, "a")}`, orderKey);
          });
          const kept = new Map<string, string>();
          let batch: NewEvent[] = [];
          let count = 0;
          const handOver = () => {
            count += store.insertEvents(batch);
            batch = [];
          };
          for (const [n, copy] of handOvers.entries()) {
            const original = events[copy.of % events.length]!;
            const event = copy.newKey ? { ...original, order_key: ulid(2_000_000 + n) } : original;
            if (!kept.has(event.id) && !batch.some((e) => e.id === event.id)) kept.set(event.id, event.order_key);
            batch.push(event);
            if (copy.batchEnds) handOver();
          }
          handOver();
          expect(count).toBe(kept.size);
          const rows = store.snapshot().events;
          expect(rows.map((r) => [r.id, r.order_key]).sort()).toEqual([...kept].sort());
          for (const [id, orderKey] of kept) expect(store.event(id)?.order_key).toBe(orderKey);
        });
      }),
      { numRuns: 40 },
    );
  });

  it("puts events back in line by id, whichever way their id is found", async () => {
    await inLane((state) => {
      const store = new LaneStore(state.storage);
      store.applyConfig(config);
      const key = ulid();
      const [fromKey, other] = [stored(`evt_${key.toLowerCase()}`, key), stored("evt_0123456789abcdef0123456789", ulid())];
      for (const event of [fromKey, other]) store.insertEvent({ ...event, status: "dropped", finished_at: 1 });
      store.requeue([fromKey.id, other.id, "evt_nosuchevent"]);
      for (const event of [fromKey, other]) {
        const row = store.event(event.id)!;
        expect(row.status).toBe("pending");
        expect(row.line_key > row.order_key).toBe(true);
      }
    });
  });

  it("moves a lane stored by 1.0.0 forward: its events still found by id, held once, and its id index only for ids that need it", async () => {
    await inLane((state) => {
      const sql = state.storage.sql;
      // The storage as 1.0.0 left it: its shape (step 1) and events with random ids, each with an id-index entry.
      for (const { name, type } of sql
        .exec<{ name: string; type: string }>(
          "SELECT name, type FROM sqlite_master WHERE type IN ('table', 'trigger') AND name NOT LIKE '\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite%'",
        )
        .toArray())
        sql.exec(`DROP ${type.toUpperCase()} IF EXISTS ${name}`);
      sql.exec(SCHEMA);
      sql.exec("UPDATE _storage_steps SET version = 1 WHERE name = 'lane'");
      const old = [ulid(1_000), ulid(2_000)].map((k, i) => stored(`evt_${ulid(5_000 + i).toLowerCase()}`, k));
      for (const e of old)
        sql.exec(
          "INSERT INTO events (order_key, id, line_key, type, accepted_at, status, next_attempt_at, body) VALUES (?, ?, ?, ?, 0, 'pending', 0, ?)",
          e.order_key,
          e.id,
          e.order_key,
          e.type,
          e.body,
        );
      expect(indexes(sql)).toContain("events_by_id");
      const store = new LaneStore(state.storage);
      expect(sql.exec<{ version: number }>("SELECT version FROM _storage_steps WHERE name = 'lane'").one().version).toBe(
        LANE_STORAGE_STEPS.length,
      );
      expect(indexes(sql)).not.toContain("events_by_id");
      expect(indexes(sql)).toContain("events_by_other_id");
      store.applyConfig(config);
      for (const e of old) {
        expect(store.event(e.id)?.order_key).toBe(e.order_key);
        expect(store.insertEvent(e)).toBe(false);
        expect(store.insertEvent({ ...e, order_key: ulid() })).toBe(false);
      }
      // Still delivered in order: the line's head is the oldest of them.
      expect(store.head()?.id).toBe(old[0]!.id);
    });
  });
});
