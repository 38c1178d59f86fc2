// The lane's storage: its queries and writes over the schema in schema.ts, and when its alarm is due.
import { monotonicFactory } from "ulidx";
import { pooledRandom } from "../../lib/ids";
import type { DisabledReason } from "../../db/schema";
import type { LaneConfig } from "../lane-config";
import { orderingKeyOf } from "../ordering";
import { VERIFICATION_EVENT_TYPE } from "../verification";
import { LANE_STORAGE_STEPS, type AttemptOutcome, type AttemptRow, type EventRow, type LaneRow, type NewEvent } from "./schema";
import { TOMBSTONE, writeLaneRow } from "./lane-row";
import { runStorageSteps } from "../../lib/storage-steps";
import { Line } from "./line";
import { recordAttempt, type EventState } from "./record-attempt";
import {
  EVENT_BY_ID,
  eventColumns,
  FLUSH_FIRSTS,
  headersJson,
  INSERT_CHUNK_CHARS,
  INSERT_EVENTS,
  LAST_PLACE,
  REQUEUE,
  SNAPSHOT_ATTEMPTS,
} from "./store-sql";

export type { AttemptOutcome, AttemptRow, DeliveryStatus, EventRow, LaneRow, NewEvent } from "./schema";
export { nextAlarmAt, SYNC_RETRY_MS } from "./next-alarm";

/**
 * While a backlog is being delivered, successful outcomes are recorded in groups, in one transaction: the
 * runtime's output gate holds every request until the writes before it are durable, so one write per
 * attempt makes each attempt wait for a commit. A group is written while the request after its last event
 * is out (whileOut), once it holds this many minus one. The price is the bound on repeats after a crash: at
 * most this many events the endpoint already got (the unrecorded ones, the one in flight included) are
 * delivered again, in order, with the same webhook-id.
 */
export const OUTCOME_GROUP_SIZE = 16;

const lineKey = monotonicFactory(pooledRandom);

export class LaneStore {
  readonly sql: SqlStorage;
  /** The lane row as stored: read once, then kept in step by every write below (one object, one thread). */
  private cached: LaneRow | undefined;
  private loaded = false;
  /** The line and what of it is read ahead (line.ts): told below of every write that can move the head. */
  private readonly line: Line;
  /**
   * Delivered events whose outcome is not written yet (deferDelivered), in line order: the first events of the
   * line. Storage still holds them as pending, so the head skips past the last one; nothing else may read
   * them as pending, so every write path and every read the API makes flushes them first.
   */
  private unrecorded: { event: EventRow; outcome: AttemptOutcome; finishedAt: number }[] = [];
  /**
   * Raised by every write that can add or move a key's head (stored events, requeues, configs, disables, a
   * delete): what the keyed line read ahead (keyed-line.ts) is stale once it moved.
   */
  changes = 0;

  constructor(readonly storage: DurableObjectStorage) {
    this.sql = storage.sql;
    runStorageSteps(storage, "lane", LANE_STORAGE_STEPS);
    this.line = new Line(this.sql, () => this.lane());
  }

  lane(): LaneRow | undefined {
    if (!this.loaded) {
      this.cached = this.sql.exec<LaneRow>("SELECT * FROM lane").toArray()[0];
      this.line.loaded(this.cached?.line_start ?? "");
      this.loaded = true;
    }
    return this.cached;
  }

  private reload(): LaneRow | undefined {
    this.loaded = false;
    return this.lane();
  }

  /** One event as storage holds it once the grouped successes are written (a read through settled()). */
  event(id: string): EventRow | undefined {
    return this.settled().exec<EventRow>(EVENT_BY_ID, id).toArray()[0];
  }

  /**
   * The one way in for a read of what the lane holds (the log, stats, one event, what recover takes): the
   * successes still grouped in memory are written first, so a read sees every outcome. Writes flush for
   * themselves (applyConfig, requeue, recordDisable); the delivery loop flushes by group size.
   */
  settled(): SqlStorage {
    this.flushDelivered();
    return this.sql;
  }

  /** The next event in line (Line.head), past the delivered events not written yet. */
  head(): EventRow | undefined {
    return this.line.head(this.unrecorded.at(-1)?.event.line_key);
  }

  /** A batch delivered in line is written (batches.ts): the line reads on from past its events in their first place. */
  passedInLine(batch: readonly EventRow[]): void {
    this.line.passed(batch.filter((e) => e.line_key === e.order_key));
  }

  /** What a success of `head` leaves as the next head, when known (Line.nextAfterHead). */
  nextAfterHead(head: EventRow): EventRow | undefined {
    return this.line.nextAfterHead(head);
  }

  /**
   * Work that can wait for no answer, done while the request of `head` (the head) is out instead of between
   * two requests: writing the successes kept so far once the head's would fill the group (so the group
   * never reaches OUTCOME_GROUP_SIZE on the way to the next request, and the bound on repeats after a crash
   * stays that size: the ones kept and the one out), and reading further ahead when the head is the last
   * event read ahead.
   */
  whileOut(head: EventRow): void {
    if (this.unrecorded.length >= OUTCOME_GROUP_SIZE - 1) this.flushDelivered();
    this.line.readFurther(head);
  }

  /** Stores an event unless the lane already holds its id; true when it was stored. */
  insertEvent(event: NewEvent): boolean {
    return this.insertEvents([event]) === 1;
  }

  /**
   * Stores the events, in order, except those whose id the lane already holds (or an earlier one of them
   * took); returns how many were stored. One statement per chunk of INSERT_CHUNK_CHARS of JSON, not one per
   * event: a statement's fixed cost is most of what a small event's insert costs.
   */
  insertEvents(given: readonly NewEvent[]): number {
    this.changes++;
    // The statement skips an id already held, not one repeated within its own rows (found two ways, withId).
    const ids = new Set<string>();
    const events = given.filter((e) => !ids.has(e.id) && ids.add(e.id));
    return this.storage.transactionSync(() => {
      const storedKeys: string[] = [];
      let chunk: string[] = [];
      let chars = 0;
      const insert = () => {
        for (const { k } of this.sql.exec<{ k: string }>(INSERT_EVENTS, `[${chunk.join(",")}]`)) storedKeys.push(k);
        chunk = [];
        chars = 0;
      };
      for (const event of events) {
        const row = JSON.stringify(eventColumns(event));
        if (chunk.length > 0 && chars + row.length > INSERT_CHUNK_CHARS) insert();
        chunk.push(row);
        chars += row.length;
      }
      if (chunk.length > 0) insert();
      // One with its own place in line is found through the requeued index, which is asked again.
      if (events.some((e) => e.line_key !== undefined && e.line_key !== e.order_key)) this.line.requeuedChanged();
      // What follows concerns pending events only, and only the earliest of them matters for each check.
      const pending = new Set(events.filter((e) => e.status === "pending").map((e) => e.order_key));
      const earliest = storedKeys.filter((k) => pending.has(k)).sort()[0];
      // A disabled lane holds nothing pending: what it keeps meanwhile lies behind the line's start.
      if (earliest === undefined && !this.lane()?.enabled) this.line.noneInFirstPlace(storedKeys.sort().at(-1) ?? null);
      if (earliest === undefined) return storedKeys.length;
      this.line.stored(earliest);
      // One that goes before a delivered one not written yet (it came after its ordering window) is next in
      // line: the head looks past those only, so they are written first.
      if (earliest < (this.unrecorded.at(-1)?.event.line_key ?? "")) this.flushDelivered();
      this.line.storedLate(earliest);
      return storedKeys.length;
    });
  }

  /**
   * Records an attempt of `event` and, when it still applies, the event's new state (record-attempt.ts), in one
   * transaction. False when the lane no longer holds the event (deleted).
   */
  recordOutcome(event: EventRow, outcome: AttemptOutcome, state: EventState): boolean {
    this.line.recorded(event.order_key);
    this.held.delete(event.order_key);
    return this.storage.transactionSync(() => {
      const was = recordAttempt(this.sql, event, outcome, state);
      // One put back in line may have left the requeued index.
      if (was && was.line_key !== event.order_key) this.line.requeuedChanged();
      return was !== undefined;
    });
  }

  /**
   * Events held from starting until a time, by order key, in memory: their outcome could not be written
   * (outcomes.ts recordingFailed), and storage, which may be failing, still says they are due.
   */
  readonly held = new Map<string, number>();

  /** The order keys of the delivered events not written yet: finished, though storage still says pending. */
  unwrittenKeys(): string[] {
    return this.unrecorded.map(({ event }) => event.order_key);
  }

  /** The delivered events not written yet, in line order. */
  unwrittenEvents(): EventRow[] {
    return this.unrecorded.map(({ event }) => event);
  }

  /**
   * Keeps a delivered line attempt of `event` (the head) in memory, to be written with others by
   * flushDelivered; returns how many are kept now. The caller flushes at OUTCOME_GROUP_SIZE.
   */
  deferDelivered(event: EventRow, outcome: AttemptOutcome, finishedAt: number): number {
    this.line.delivered(event.order_key);
    this.held.delete(event.order_key);
    this.unrecorded.push({ event, outcome, finishedAt });
    return this.unrecorded.length;
  }

  /**
   * Writes the delivered outcomes kept in memory, in one transaction: each event delivered if it is still pending
   * or skipped (record-attempt.ts). Those that were first attempts, nearly all of them, go in one statement over
   * the group as JSON.
   */
  flushDelivered(): void {
    if (this.unrecorded.length === 0) return;
    const group = this.unrecorded;
    this.unrecorded = [];
    const firsts = group.filter(({ event }) => event.attempt_count === 0);
    try {
      this.writeDelivered(group, firsts);
    } catch (err) {
      // Kept for the next flush, in order: storage still holds them as pending, and the line has gone past them.
      this.unrecorded = [...group, ...this.unrecorded];
      throw err;
    }
  }

  /** flushDelivered's transaction over `group`, of which `firsts` were first attempts. */
  private writeDelivered(group: typeof this.unrecorded, firsts: typeof this.unrecorded): void {
    this.storage.transactionSync(() => {
      if (firsts.length > 0) {
        this.sql.exec(
          FLUSH_FIRSTS,
          JSON.stringify(
            firsts.map(({ event, outcome, finishedAt }) => [
              event.order_key,
              event.line_key,
              event.round_attempts + 1,
              finishedAt,
              headersJson(outcome),
              outcome.at,
              outcome.durationMs,
              outcome.statusCode,
              outcome.error,
              outcome.responseBody,
            ]),
          ),
        );
      }
      // A recovered event (put back in line) may have been the requeued index's first.
      if (group.some(({ event }) => event.line_key !== event.order_key)) this.line.requeuedChanged();
      for (const { event, outcome, finishedAt } of group) {
        if (event.attempt_count > 0)
          recordAttempt(this.sql, event, outcome, { status: "delivered", finishedAt, nextAttemptAt: event.next_attempt_at });
      }
    });
  }

  /**
   * Puts events back in line, in the order given, behind every event in line: each gets a place after the
   * last one taken, a fresh retry round, and is due now.
   */
  requeue(ids: string[], now = Date.now()): void {
    this.flushDelivered();
    if (ids.length === 0) return;
    // The last place taken: the newest order key, or a place given by an earlier requeue still pending.
    const last = this.sql.exec<{ last: string | null }>(LAST_PLACE).one().last ?? "";
    let keys = ids.map(() => lineKey(now));
    // A place from this clock sorts before the last one taken only if clocks disagree; then extend the last.
    if (keys[0]! <= last) keys = ids.map((_, i) => `${last}.${String(i).padStart(8, "0")}`);
    this.line.requeued();
    this.changes++;
    // Back in line under the ordering in force now: its key and epoch are those of an event stored now.
    const lane = this.lane();
    const settings = { ordering: lane?.ordering ?? "endpoint", orderingKey: lane?.ordering_path ?? null };
    this.storage.transactionSync(() => {
      ids.forEach((id, i) => {
        const key =
          settings.ordering === "endpoint"
            ? null
            : orderingKeyOf(settings, id, () => JSON.parse(this.sql.exec<EventRow>(EVENT_BY_ID, id).one().body));
        this.sql.exec(REQUEUE, keys[i]!, now, key, lane?.ordering_epoch ?? 0, id);
      });
    });
  }

  /** Every dropped or skipped line event accepted at or after `since`, in acceptance order: what recover puts back. */
  recoverable(since: number): string[] {
    return this.settled()
      .exec<{ id: string }>(
        "SELECT id FROM events WHERE status IN ('dropped', 'skipped') AND test = 0 AND accepted_at >= ? ORDER BY order_key",
        since,
      )
      .toArray()
      .map((row) => row.id);
  }

  /** Takes a newer config of the webhook; an older or equal version, or a deleted lane, changes nothing. */
  applyConfig(config: LaneConfig): LaneRow {
    const current = this.lane();
    // The same version is the state the lane already holds: nothing to write (most hand-offs).
    if (current && (current.deleted || config.version <= current.config_version)) return current;
    this.flushDelivered();
    this.line.forget();
    this.changes++;
    this.storage.transactionSync(() => {
      writeLaneRow(this.sql, config, current);
      if (!config.enabled) this.skipPending();
    });
    return this.reload()!;
  }

  /**
   * The lane turned its own webhook off at `at`: atomically with keeping what it holds as skipped, and
   * flagged until D1 has it too.
   */
  recordDisable(reason: DisabledReason, at: number): void {
    this.flushDelivered();
    this.line.forget();
    this.changes++;
    this.storage.transactionSync(() => {
      // Never below the version held: a config handed over while the request was out may be newer than `at`.
      this.sql.exec(
        "UPDATE lane SET enabled = 0, disabled_reason = ?, config_version = MAX(config_version + 1, ?), d1_sync_pending = 1",
        reason,
        at,
      );
      this.skipPending();
    });
    this.reload();
  }

  /** Whether a verification challenge (verification.ts) is in line. */
  hasPendingChallenge(): boolean {
    return (
      this.sql.exec("SELECT 1 FROM events WHERE type = ? AND status = 'pending' LIMIT 1", VERIFICATION_EVENT_TYPE).toArray().length > 0
    );
  }

  /**
   * Takes the challenges still in line out of it (skipped at `at`), for a new one. They sit in the requeued index
   * only (their place is not their order key), which the next head() asks again.
   */
  dropPendingChallenges(at: number): void {
    this.sql.exec(
      "UPDATE events SET status = 'skipped', finished_at = ? WHERE type = ? AND status = 'pending'",
      at,
      VERIFICATION_EVENT_TYPE,
    );
    this.line.requeuedChanged();
  }

  /** The endpoint at the lane's URL answered a challenge at `at` (verification.ts). */
  recordVerified(at: number): void {
    this.sql.exec("UPDATE lane SET verified_at = ?, verified_sync_pending = 1", at);
    if (this.cached) Object.assign(this.cached, { verified_at: at, verified_sync_pending: 1 });
  }

  /** D1 has the verification too. */
  markVerifiedSynced(): void {
    this.sql.exec("UPDATE lane SET verified_sync_pending = 0");
    if (this.cached) this.cached.verified_sync_pending = 0;
  }

  markSynced(): void {
    this.sql.exec("UPDATE lane SET d1_sync_pending = 0");
    if (this.cached) this.cached.d1_sync_pending = 0;
  }

  /** The webhook was deleted: forget its events and keep a tombstone that refuses any that still arrive. */
  markDeleted(): void {
    this.unrecorded = [];
    this.line.forget();
    this.changes++;
    this.storage.transactionSync(() => {
      this.sql.exec(TOMBSTONE);
      this.sql.exec("DELETE FROM events");
      this.sql.exec("DELETE FROM attempts");
    });
    this.reload();
  }

  /** Everything the lane holds, in acceptance order (attempts by time, first ones included): for tests and debugging. */
  snapshot(): { lane: LaneRow | undefined; events: EventRow[]; attempts: AttemptRow[] } {
    this.flushDelivered();
    return {
      lane: this.reload(),
      events: this.sql.exec<EventRow>("SELECT * FROM events ORDER BY order_key").toArray(),
      attempts: this.sql.exec<AttemptRow>(SNAPSHOT_ATTEMPTS).toArray(),
    };
  }

  /** A disabled webhook keeps its undelivered events as `skipped`, for recover. */
  private skipPending(): void {
    this.sql.exec("UPDATE events SET status = 'skipped', finished_at = ? WHERE status = 'pending'", Date.now());
    this.line.noneInFirstPlace(this.sql.exec<{ k: string | null }>("SELECT MAX(order_key) AS k FROM events").one().k);
  }
}
