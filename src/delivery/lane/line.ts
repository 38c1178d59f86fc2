// The lane's line in place-in-line order and what of it is read ahead: the head, without one query per attempt.
import type { EventRow, LaneRow } from "./schema";

/** The head query writes line_start forward once it read more than this many rows to find the head. */
const LINE_START_SLACK = 64;

/** How many pending events the head query reads ahead (bodies included, each within a queue message's 128 KB: at most ~2 MB held). */
const LINE_READ_AHEAD = 16;

/**
 * What the store (store.ts) knows of its line between writes. Storage stays the truth: the store tells it of every
 * write that can move the head, and it forgets or asks again. `after` in its reads is the line key of the last
 * delivered event whose outcome is not written yet (LaneStore.unwrittenKeys): storage still holds those as pending.
 */
export class Line {
  /** line_start as it is now; the stored one may be lower (safe: the head query only reads more). */
  private lineStart = "";

  /**
   * The next pending events still in their first place, in line order, read ahead so that a backlog costs one
   * query per LINE_READ_AHEAD attempts instead of one per attempt. Nothing pending in its first place lies
   * before the first of them or between two of them (past the delivered events not written yet): every write
   * that could change that empties it (insertEvent of an earlier one, a recorded outcome of one of them, a
   * config, a disable, a delete), and the next head() reads again from storage, which stays the truth. Events
   * put back in line never join it: they have a new place in line, and come from their own index.
   */
  private ahead: EventRow[] = [];

  /** Whether any event put back in line is pending: undefined when not known (then asked of the index). */
  private requeuedPending: boolean | undefined;

  /** `lane` is the store's lane row, read once and kept in step (its line_start is written here too). */
  constructor(
    private readonly sql: SqlStorage,
    private readonly lane: () => LaneRow | undefined,
  ) {}

  /** The lane row was read from storage: the line starts where it says. */
  loaded(lineStart: string): void {
    this.lineStart = lineStart;
  }

  /**
   * The next event in line: the pending one with the lowest place in line. Either one still in its first
   * place (line key = order key), read from the clustered table LINE_READ_AHEAD at a time (see `ahead`), or
   * one put back in line by retry or recover, from their small index.
   */
  head(after: string | undefined): EventRow | undefined {
    const first = this.ahead[0] ?? this.readAhead(after);
    const requeued = this.requeuedPending === false ? undefined : this.firstRequeued(after);
    if (!first || !requeued) return first ?? requeued;
    return requeued.line_key < first.line_key ? requeued : first;
  }

  private readAhead(after: string | undefined): EventRow | undefined {
    const lane = this.lane();
    // Past the delivered events not written yet: the next head has a later place in line than the last of them.
    if (after !== undefined) {
      // line_start stays where it is (at or below the first of them): stored, it must never pass an event
      // storage still holds as pending.
      this.ahead = this.pendingInFirstPlace(">", after).toArray();
      return this.ahead[0];
    }
    const cursor = this.pendingInFirstPlace(">=", this.lineStart);
    this.ahead = cursor.toArray();
    const first = this.ahead[0];
    // Nothing in its first place is pending below the found one (or below the newest event, when none is).
    this.lineStart =
      first?.order_key ?? this.sql.exec<{ k: string | null }>("SELECT MAX(order_key) AS k FROM events").one().k ?? this.lineStart;
    // The stored start only matters after a restart; it is moved forward when it has fallen far behind.
    if (lane && cursor.rowsRead > LINE_START_SLACK + LINE_READ_AHEAD && this.lineStart > lane.line_start) {
      this.sql.exec("UPDATE lane SET line_start = ?", this.lineStart);
      lane.line_start = this.lineStart;
    }
    return first;
  }

  /**
   * The event in line after `head` (the head, its request out), when it is the first of those read ahead
   * and nothing put back in line can come between: what a success of the head leaves as the next head.
   * Undefined when not known.
   */
  nextAfterHead(head: EventRow): EventRow | undefined {
    return this.requeuedPending === false && this.ahead[0]?.order_key === head.order_key ? this.ahead[1] : undefined;
  }

  /** Reads further ahead while the request of `head` is out, when it is the last event read ahead (see LaneStore.whileOut). */
  readFurther(head: EventRow): void {
    if (this.requeuedPending === false && this.ahead.length === 1 && this.ahead[0]!.order_key === head.order_key) {
      this.ahead.push(...this.pendingInFirstPlace(">", head.order_key).toArray());
    }
  }

  /** The next LINE_READ_AHEAD pending events still in their first place, from order key `from` on. */
  private pendingInFirstPlace(after: ">" | ">=", from: string) {
    return this.sql.exec<EventRow>(
      `SELECT * FROM events WHERE order_key ${after} ? AND status = 'pending' AND line_key = order_key ORDER BY order_key LIMIT ${LINE_READ_AHEAD}`,
      from,
    );
  }

  /** The first event put back in line that is pending (after `after`, the last delivered one not written yet). */
  private firstRequeued(after: string | undefined): EventRow | undefined {
    // Every line key sorts after "".
    const found = this.sql
      .exec<EventRow>(
        "SELECT * FROM events INDEXED BY events_requeued WHERE status = 'pending' AND line_key <> order_key AND line_key > ? ORDER BY line_key LIMIT 1",
        after ?? "",
      )
      .toArray()[0];
    // Only a search of the whole index says whether any is pending.
    if (after === undefined) this.requeuedPending = found !== undefined;
    return found;
  }

  /** A pending event was stored with order key `earliest` (the earliest of a batch): one before the last read ahead breaks the run. */
  stored(earliest: string): void {
    if (earliest < (this.ahead.at(-1)?.order_key ?? "")) this.ahead = [];
  }

  /** One the queue handed over late goes before the line's start: move the start back, durably, at once. */
  storedLate(earliest: string): void {
    const lane = this.lane();
    if (lane && earliest < this.lineStart) {
      this.lineStart = earliest;
      this.sql.exec("UPDATE lane SET line_start = ?", this.lineStart);
      lane.line_start = this.lineStart;
    }
  }

  /**
   * Nothing is pending in its first place up to order key `upTo` (a disable skipped every pending event, or the
   * lane kept events while disabled): the head query starts past them instead of reading them all once enabled
   * again (a backlog kept while a webhook was off and then recovered). Stored too (one write of the lane row per
   * disable, or per batch kept while disabled): the lane row is read again at the next config.
   */
  noneInFirstPlace(upTo: string | null): void {
    const lane = this.lane();
    if (upTo === null || upTo <= this.lineStart || !lane) return;
    this.lineStart = upTo;
    this.sql.exec("UPDATE lane SET line_start = ?", upTo);
    lane.line_start = upTo;
  }

  /** The outcome of the event with `orderKey` is written: if it was read ahead, the run read ahead no longer holds. */
  recorded(orderKey: string): void {
    if (this.ahead.some((e) => e.order_key === orderKey)) this.ahead = [];
  }

  /** The head with `orderKey` was delivered (its outcome kept in memory): the next one read ahead is the head. */
  delivered(orderKey: string): void {
    if (this.ahead[0]?.order_key === orderKey) this.ahead.shift();
  }

  /**
   * The events of a batch delivered in line (batches.ts) are written: none in its first place is pending up to the
   * last of them, so the next read starts past them, not at the batch's first (in memory: the stored start is moved
   * by readAhead when it falls far behind). `firstPlace`: the batch's events in their first place, in order.
   */
  passed(firstPlace: readonly EventRow[]): void {
    const first = firstPlace[0]?.order_key;
    const last = firstPlace.at(-1)?.order_key;
    // Below the batch's first only when an event stored late moved the start back meanwhile: then it stays.
    if (first !== undefined && last !== undefined && this.lineStart >= first && last > this.lineStart) this.lineStart = last;
    this.ahead = [];
  }

  /** A config, a disable or a delete changed which events are pending: read again from storage. */
  forget(): void {
    this.ahead = [];
  }

  /** Events were put back in line: some are pending in the requeued index. */
  requeued(): void {
    this.requeuedPending = true;
  }

  /** An event put back in line may have been stored, finished or skipped: ask the requeued index again. */
  requeuedChanged(): void {
    this.requeuedPending = undefined;
  }
}
