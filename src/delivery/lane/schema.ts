// The lane's storage schema and its row types: the 1.0.0 tables (step 1 of LANE_STORAGE_STEPS), and the numbered
// steps that move a stored lane forward from there (docs/architecture.md, "Storage schemas").
import type { AttemptRecord } from "../attempt";
import type { Sealed } from "../../lib/encryption";
import type { Concurrency, Ordering } from "../ordering";
import type { DataLocation } from "../../bindings";
import type { DeliveryMode, DisabledReason } from "../../db/schema";

/** What a lane delivers: a webhook's events, or a workspace's alerts (src/alerts). */
export type LaneKind = "webhook" | "alerts";

export type DeliveryStatus = "pending" | "delivered" | "dropped" | "skipped";

/** A trigger's NEW event, pending and keyed, takes its key's head when it goes before it (or the key has none). */
const BECOMES_HEAD = `
    INSERT OR REPLACE INTO key_heads (epoch, ordering_key, line_key, order_key, due)
    SELECT NEW.ordering_epoch, NEW.ordering_key, NEW.line_key, NEW.order_key, NEW.next_attempt_at
    WHERE NEW.status = 'pending' AND NEW.ordering_key IS NOT NULL AND NOT EXISTS (
      SELECT 1 FROM key_heads WHERE epoch = NEW.ordering_epoch AND ordering_key = NEW.ordering_key AND line_key < NEW.line_key);`;

/**
 * A trigger's OLD event left its place (finished, moved, rescheduled, deleted): if it was its key's head, the key's
 * pending event with the lowest place in line is (one step of the pending index; itself again when only its due
 * time changed). A key with another head keeps it (INSERT OR IGNORE).
 */
const LEFT_HEAD = `
    DELETE FROM key_heads WHERE epoch = OLD.ordering_epoch AND ordering_key = OLD.ordering_key AND order_key = OLD.order_key;
    INSERT OR IGNORE INTO key_heads (epoch, ordering_key, line_key, order_key, due)
    SELECT ordering_epoch, ordering_key, line_key, order_key, next_attempt_at FROM events
    WHERE ordering_epoch = OLD.ordering_epoch AND ordering_key = OLD.ordering_key AND status = 'pending'
    ORDER BY line_key LIMIT 1;`;

export const SCHEMA = `
  CREATE TABLE IF NOT EXISTS lane (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    webhook_id TEXT NOT NULL,
    workspace_id TEXT NOT NULL,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_secret_expires_at INTEGER,
    signing_key TEXT,
    previous_signing_key TEXT,
    verified_at INTEGER,
    verified_sync_pending INTEGER NOT NULL DEFAULT 0,
    enabled INTEGER NOT NULL,
    disabled_reason TEXT,
    rate_limit_per_second INTEGER,
    retry_delays TEXT,
    headers TEXT NOT NULL DEFAULT '{}',
    config_version INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    line_start TEXT NOT NULL DEFAULT '',
    d1_sync_pending INTEGER NOT NULL DEFAULT 0,
    kind TEXT NOT NULL DEFAULT 'webhook',
    ordering TEXT NOT NULL DEFAULT 'endpoint',
    ordering_path TEXT,
    max_in_flight INTEGER NOT NULL DEFAULT 1,
    ordering_epoch INTEGER NOT NULL DEFAULT 0,
    data_location TEXT,
    delivery TEXT NOT NULL DEFAULT 'push'
  );
  -- Clustered in acceptance order (the log's order, and for most events their place in line): an event is
  -- one row and one id-index entry when stored, and one row rewritten when it finishes. Its first attempt
  -- lives on the row; only later ones get an attempts row. The body comes last, so scans skip it.
  CREATE TABLE IF NOT EXISTS events (
    order_key TEXT PRIMARY KEY,
    id TEXT NOT NULL,
    line_key TEXT NOT NULL,
    type TEXT NOT NULL,
    accepted_at INTEGER NOT NULL,
    status TEXT NOT NULL,
    attempt_count INTEGER NOT NULL DEFAULT 0,
    round_attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    finished_at INTEGER,
    test INTEGER NOT NULL DEFAULT 0,
    first_at INTEGER,
    first_duration_ms INTEGER,
    first_status_code INTEGER,
    first_error TEXT,
    first_response_body TEXT,
    last_headers TEXT,
    ordering_key TEXT,
    ordering_epoch INTEGER NOT NULL DEFAULT 0,
    traceparent TEXT,
    tracestate TEXT,
    schema_warning TEXT,
    body TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE UNIQUE INDEX IF NOT EXISTS events_by_id ON events (id);
  -- Test events only (a few per minute at most): what the per-minute limit on them counts (docs/limits.md).
  CREATE INDEX IF NOT EXISTS events_tests ON events (accepted_at) WHERE test = 1;
  -- Only events put back in line by retry or recover (their place in line is no longer their order key).
  CREATE INDEX IF NOT EXISTS events_requeued ON events (line_key) WHERE status = 'pending' AND line_key <> order_key;
  -- Pending events of a webhook ordered by key or not at all (keyed-line.ts): the head of each key, per epoch.
  -- Under the default ordering events have no ordering key and never enter it (no index write per event).
  CREATE INDEX IF NOT EXISTS events_by_ordering_key ON events (ordering_epoch, ordering_key, line_key)
    WHERE status = 'pending' AND ordering_key IS NOT NULL;
  -- The head of each key of a webhook ordered by key or not at all (keyed-line.ts): its pending event with the
  -- lowest place in line, per ordering epoch, with its due time. Kept by the triggers below as events are stored,
  -- put back in line, rescheduled and finished, each change one lookup in events_by_ordering_key: starting an
  -- event reads a few rows here, whatever the backlog and however its keys spread (one hot key included).
  -- Under the default ordering no event has an ordering key, so none of this is written.
  CREATE TABLE IF NOT EXISTS key_heads (
    epoch INTEGER NOT NULL,
    ordering_key TEXT NOT NULL,
    line_key TEXT NOT NULL,
    order_key TEXT NOT NULL,
    due INTEGER NOT NULL,
    PRIMARY KEY (epoch, ordering_key)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS key_heads_in_line ON key_heads (epoch, line_key);
  CREATE INDEX IF NOT EXISTS key_heads_by_due ON key_heads (epoch, due);
  CREATE TRIGGER IF NOT EXISTS key_head_stored AFTER INSERT ON events
  WHEN NEW.status = 'pending' AND NEW.ordering_key IS NOT NULL BEGIN
    ${BECOMES_HEAD}
  END;
  CREATE TRIGGER IF NOT EXISTS key_head_changed
  AFTER UPDATE OF status, line_key, next_attempt_at, ordering_key, ordering_epoch ON events
  WHEN (OLD.status = 'pending' AND OLD.ordering_key IS NOT NULL) OR (NEW.status = 'pending' AND NEW.ordering_key IS NOT NULL) BEGIN
    ${LEFT_HEAD}
    ${BECOMES_HEAD}
  END;
  CREATE TRIGGER IF NOT EXISTS key_head_deleted AFTER DELETE ON events
  WHEN OLD.status = 'pending' AND OLD.ordering_key IS NOT NULL BEGIN
    ${LEFT_HEAD}
  END;
  -- Attempts after an event's first one.
  CREATE TABLE IF NOT EXISTS attempts (
    event_id TEXT NOT NULL,
    n INTEGER NOT NULL,
    at INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    status_code INTEGER,
    error TEXT,
    response_body TEXT,
    PRIMARY KEY (event_id, n)
  ) WITHOUT ROWID;
`;

/**
 * Step 2 (adaptive concurrency, docs/ordering.md): the webhook's concurrency ("fixed" for every lane stored before),
 * and the limit an adaptive lane used, one row per 5-minute bucket (stats.ts reads it for the chart; at most one
 * write a minute, kept as long as the longest stats period).
 */
const ADAPTIVE_CONCURRENCY = `
  ALTER TABLE lane ADD COLUMN concurrency TEXT NOT NULL DEFAULT 'fixed';
  CREATE TABLE IF NOT EXISTS concurrency_limits (
    bucket_start INTEGER PRIMARY KEY,
    concurrency_limit REAL NOT NULL
  );
`;

/**
 * Step 3 (ordered batches, docs/batches.md): events per request and how long a batch may wait to fill; null for
 * every lane stored before (one event per request).
 */
const ORDERED_BATCHES = `
  ALTER TABLE lane ADD COLUMN batch_max_events INTEGER;
  ALTER TABLE lane ADD COLUMN batch_max_wait_ms INTEGER;
`;

/**
 * An event accepted without an idempotency key has the id `evt_` + its order key in lower case (src/events/ingest.ts):
 * its row is found by primary key from its id (store-sql.ts, withId), so storing it writes its row alone, not an
 * index entry too. Only the other ids (an idempotency key's, an alert's, and every event stored before this step)
 * are indexed, and an id is still held once: the insert looks both ways first. The last step whatever its number
 * (the code names what it creates, never the step).
 */
const EVENT_ID_FROM_ORDER_KEY = `
  CREATE UNIQUE INDEX IF NOT EXISTS events_by_other_id ON events (id) WHERE order_key <> upper(substr(id, 5));
  DROP INDEX IF EXISTS events_by_id;
`;

/**
 * The lane's storage, step by step (src/lib/storage-steps.ts): step 1 is the 1.0.0 shape above. From 1.0.0 a change
 * to a stored shape is a new step at the end of this list (an ALTER TABLE, a new index, a backfill), never an edit of
 * SCHEMA, and the upgrade test (test/e2e/upgrade.test.ts) must keep passing on the 1.0.0 fixture.
 */
export const LANE_STORAGE_STEPS = [SCHEMA, ADAPTIVE_CONCURRENCY, ORDERED_BATCHES, EVENT_ID_FROM_ORDER_KEY] as const;

/** The lane's one row: its webhook's config as last handed over, and its own bookkeeping. */
export interface LaneRow {
  webhook_id: string;
  workspace_id: string;
  url: string;
  /** The secrets, private keys and headers are sealed as D1 holds them (src/lib/encryption.ts), opened by secrets.ts. */
  secret: Sealed;
  previous_secret: Sealed | null;
  previous_secret_expires_at: number | null;
  /** Ed25519 private keys (`whsk_…`) that sign `v1a`, current and previous; null for the alerts lane. */
  signing_key: Sealed | null;
  previous_signing_key: Sealed | null;
  /** When the endpoint at `url` answered its challenge; null while not (verification.ts says what that holds back). */
  verified_at: number | null;
  /** Set while verified_at is not in D1 yet (its write failed); the alarm retries it like an unsynced disable. */
  verified_sync_pending: number;
  enabled: number;
  disabled_reason: DisabledReason | null;
  rate_limit_per_second: number | null;
  /** JSON list of seconds; null = the service's RETRY_DELAYS_SECONDS. */
  retry_delays: string | null;
  /** JSON object of the webhook's own headers, sealed whole. */
  headers: Sealed;
  config_version: number;
  deleted: number;
  /**
   * No pending event in its first place in line has an order key below this: where the head query starts
   * reading. Written at once when a late event lowers it, and when the head query had to read far past it.
   */
  line_start: string;
  /** Set when the lane disabled itself but could not yet write that to D1. */
  d1_sync_pending: number;
  /** webhook, or alerts: the workspace's operational events (src/alerts), whose failures count against nothing. */
  kind: LaneKind;
  /** The webhook's ordering (docs/ordering.md), its key path under "key", and its requests in flight at once. */
  ordering: Ordering;
  ordering_path: string | null;
  max_in_flight: number;
  /** Raised by every change of ordering or ordering_path: events of a later epoch wait for those of earlier ones. */
  ordering_epoch: number;
  /** fixed: up to max_in_flight out; adaptive: the lane finds the endpoint's limit up to it (adaptive-limit.ts). */
  concurrency: Concurrency;
  /** Ordered batches: events per request at most, null for one event per request (docs/batches.md). */
  batch_max_events: number | null;
  /** How long the oldest ready event waits for its batch to fill; null with batch_max_events. */
  batch_max_wait_ms: number | null;
  /** The workspace's data location (bindings.ts): where its quota object is asked for. */
  data_location: DataLocation | null;
  /** push, or poll: never attempted, read by its consumer (poll.ts). */
  delivery: DeliveryMode;
  [key: string]: SqlStorageValue;
}

export interface EventRow {
  id: string;
  /** Acceptance order: the log's order. */
  order_key: string;
  /** The event's place in the delivery line: its order key, or a later one once retried or recovered. */
  line_key: string;
  type: string;
  body: string;
  accepted_at: number;
  status: DeliveryStatus;
  /** Attempts ever made; numbers the attempts in the log. */
  attempt_count: number;
  /** Attempts since it was (re)queued; drives the retry schedule. */
  round_attempts: number;
  next_attempt_at: number;
  finished_at: number | null;
  test: number;
  /** The first attempt, kept on the row (null until it is made). */
  first_at: number | null;
  first_duration_ms: number | null;
  first_status_code: number | null;
  first_error: string | null;
  first_response_body: string | null;
  /** JSON object, sealed: the headers of the latest attempt as sent, signatures included (null until one is made). */
  last_headers: Sealed | null;
  /**
   * What the event is ordered by (ordering.ts orderingKeyOf): null under "endpoint" (the line is one key), the
   * JSON of the value at the key path under "key", the event's id under "none".
   */
  ordering_key: string | null;
  /** The lane's ordering_epoch when the event was stored or put back in line. */
  ordering_epoch: number;
  /** The W3C traceparent the event was accepted with (or started for it); each attempt sends a child of it. */
  traceparent: string | null;
  /** The W3C tracestate that came with that traceparent (null when none did); each attempt sends it unchanged. */
  tracestate: string | null;
  /** With EVENT_VALIDATION=warn: what in its data did not match its type's schema. */
  schema_warning: string | null;
  [key: string]: SqlStorageValue;
}

/** Events in line order (their place in line), for merging what two reads of the line found. */
export const byLineKey = (a: Pick<EventRow, "line_key">, b: Pick<EventRow, "line_key">) =>
  a.line_key < b.line_key ? -1 : a.line_key > b.line_key ? 1 : 0;

export interface AttemptRow {
  event_id: string;
  n: number;
  at: number;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
  response_body: string | null;
  [key: string]: SqlStorageValue;
}

/** An event as it is first stored: in line (pending), already skipped, or a test event already tried. */
export interface NewEvent {
  id: string;
  order_key: string;
  type: string;
  body: string;
  accepted_at: number;
  status: DeliveryStatus;
  next_attempt_at: number;
  finished_at: number | null;
  /** Its place in line when not its order key (an endpoint's verification challenge goes first). */
  line_key?: string;
  /** A test event is stored after its one attempt. */
  first?: AttemptOutcome;
  ordering_key?: string | null;
  ordering_epoch?: number;
  test?: boolean;
  traceparent?: string | null | undefined;
  tracestate?: string | null | undefined;
  schemaWarning?: string | null | undefined;
}

/** What an attempt left behind, as the store records it: the log's record, and the headers as sent (sealed) when known. */
export type AttemptOutcome = AttemptRecord & { sealedHeaders?: Sealed };
