// The lane's storage schema and its row types: one CREATE TABLE IF NOT EXISTS for each table.
//
// Until the first tagged release this schema is edited in place (README "Storage schemas"): nothing has been
// deployed, so there is no stored lane to migrate.
import type { AttemptRecord } from "../attempt";
import type { Sealed } from "../../lib/encryption";
import type { Ordering } from "../ordering";
import type { DataLocation } from "../../bindings";
import type { DeliveryMode, DisabledReason } from "../../db/schema";

/** What a lane delivers: a webhook's events, or a workspace's alerts (src/alerts). */
export type LaneKind = "webhook" | "alerts";

export type DeliveryStatus = "pending" | "delivered" | "dropped" | "skipped";

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
