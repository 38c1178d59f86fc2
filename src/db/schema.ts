// The D1 schema: workspaces, their API keys, their webhook configurations, dead letters, settings sessions and portal links.
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import type { DataLocation } from "../bindings";
import type { EventType } from "../events/catalog";
import type { WebhookFilter } from "../lib/endpoint-controls";
import type { BatchSettings, Concurrency, Ordering } from "../delivery/ordering";
import type { LimitOverrides } from "../lib/limits";
import type { Sealed } from "../lib/encryption";

// Times are set by the Worker (unix ms), so API and storage agree to the millisecond.
const createdAt = () => integer("created_at", { mode: "timestamp_ms" }).notNull();

export const workspaces = sqliteTable("workspaces", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  notificationEmail: text("notification_email"),
  /**
   * When the notification address was confirmed through its one-time link (README "Security"); null until then,
   * and again whenever the address changes. An unconfirmed address receives only its confirmation message.
   */
  notificationEmailConfirmedAt: integer("notification_email_confirmed_at", { mode: "timestamp_ms" }),
  /** SHA-256 (hex) of the pending confirmation link's token; null once confirmed or when there is no address. */
  notificationEmailTokenHash: text("notification_email_token_hash"),
  notificationEmailTokenExpiresAt: integer("notification_email_token_expires_at", { mode: "timestamp_ms" }),
  /** When the last confirmation message went out: resends wait a while after it. */
  notificationEmailSentAt: integer("notification_email_sent_at", { mode: "timestamp_ms" }),
  /** Where the workspace's operational events go (README "Alerts"); null for none. */
  alertUrl: text("alert_url"),
  /**
   * When the endpoint at alertUrl answered its verification challenge (docs/signatures.md); null while it has not.
   * With REQUIRE_ENDPOINT_VERIFICATION off, the time alertUrl was set.
   */
  alertUrlVerifiedAt: integer("alert_url_verified_at", { mode: "timestamp_ms" }),
  /** Signs the operational events (`whsec_` + base64), made when alertUrl is first set; sealed like webhook secrets. */
  alertSecret: text("alert_secret").$type<Sealed>(),
  /** The alert secret before the last rotation, which keeps signing beside the new one until alertPreviousSecretExpiresAt. */
  alertPreviousSecret: text("alert_previous_secret").$type<Sealed>(),
  alertPreviousSecretExpiresAt: integer("alert_previous_secret_expires_at", { mode: "timestamp_ms" }),
  /** The Ed25519 key pair that signs the alerts' `v1a` (as a webhook's signingKey/publicKey), made with alertSecret. */
  alertSigningKey: text("alert_signing_key").$type<Sealed>(),
  alertPublicKey: text("alert_public_key"),
  /** The key pair before the last rotation: signs and stays published until alertPreviousSecretExpiresAt. */
  alertPreviousSigningKey: text("alert_previous_signing_key").$type<Sealed>(),
  alertPreviousPublicKey: text("alert_previous_public_key"),
  /** Where its payloads, attempts, dead letters and quota records are stored (docs/data-location.md); null: anywhere. Never changes. */
  dataLocation: text("data_location").$type<DataLocation>(),
  /** The limits an operator changed for this workspace (docs/limits.md); the others follow src/lib/limits.ts. */
  limits: text("limits", { mode: "json" }).$type<LimitOverrides>().notNull().default({}),
  createdAt: createdAt(),
  updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
});

export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    /** SHA-256 of the whole key, hex. The key itself is never stored. */
    keyHash: text("key_hash").notNull().unique(),
    /** The first characters of the key, so a person can tell keys apart. */
    prefix: text("prefix").notNull(),
    createdAt: createdAt(),
    lastUsedAt: integer("last_used_at", { mode: "timestamp_ms" }),
    revokedAt: integer("revoked_at", { mode: "timestamp_ms" }),
  },
  (t) => [index("api_keys_workspace_idx").on(t.workspaceId)],
);

export type DisabledReason = "failure_quota" | "manual" | "gone";

/** push: the lane sends each event to `url`; poll: the consumer reads them (docs/polling.md) and `url` is "". */
export type DeliveryMode = "push" | "poll";

export const webhooks = sqliteTable(
  "webhooks",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    url: text("url").notNull(),
    delivery: text("delivery").$type<DeliveryMode>().notNull().default("push"),
    /** SHA-256 (hex) of a polling webhook's pollToken (`whpoll_…`); null for push. */
    pollTokenHash: text("poll_token_hash").unique(),
    /** Its workspace's dataLocation, copied at creation (both never change): what its lane is asked for with. */
    dataLocation: text("data_location").$type<DataLocation>(),
    events: text("events", { mode: "json" }).$type<EventType[]>().notNull(),
    description: text("description").notNull().default(""),
    /** `whsec_` + base64, sealed with ENCRYPTION_KEYS (src/lib/encryption.ts) like every secret below; opened to sign. */
    secret: text("secret").$type<Sealed>().notNull(),
    /** The secret before the last rotation; it keeps signing, beside the new one, until previousSecretExpiresAt. */
    previousSecret: text("previous_secret").$type<Sealed>(),
    previousSecretExpiresAt: integer("previous_secret_expires_at", { mode: "timestamp_ms" }),
    /** The Ed25519 private key that signs `v1a` (`whsk_` + base64 PKCS #8), sealed like the secret; never returned. */
    signingKey: text("signing_key").$type<Sealed>().notNull(),
    /** Its public key, `whpk_` + base64 of the raw 32 bytes: on every webhook object and in the JWKS. */
    publicKey: text("public_key").notNull(),
    /** The key pair before the last rotation: signs and stays published until previousSecretExpiresAt. */
    previousSigningKey: text("previous_signing_key").$type<Sealed>(),
    previousPublicKey: text("previous_public_key"),
    /**
     * When the endpoint at `url` answered its verification challenge (docs/signatures.md); null while it has not.
     * With REQUIRE_ENDPOINT_VERIFICATION off, the time the url was set.
     */
    verifiedAt: integer("verified_at", { mode: "timestamp_ms" }),
    /** Endpoint controls (README "Endpoint controls"): null / empty = respond.io's defaults. */
    rateLimitPerSecond: integer("rate_limit_per_second"),
    retryDelaysSeconds: text("retry_delays_seconds", { mode: "json" }).$type<number[]>(),
    /**
     * Sent with every attempt: the JSON object of names and values, sealed whole like the secret (names can tell
     * things too, and one open serves every attempt of a config). `{}` in clear for a row written before sealing.
     */
    headers: text("headers")
      .$type<Sealed>()
      .notNull()
      .default("{}" as Sealed),
    filter: text("filter", { mode: "json" }).$type<WebhookFilter>().notNull().default({}),
    /** Ordering and parallel delivery (docs/ordering.md): endpoint (one in flight), key (per orderingKey) or none. */
    ordering: text("ordering").$type<Ordering>().notNull().default("endpoint"),
    orderingKey: text("ordering_key"),
    maxInFlight: integer("max_in_flight").notNull().default(1),
    /** fixed, or adaptive: the lane finds the endpoint's limit up to maxInFlight (docs/ordering.md). */
    concurrency: text("concurrency").$type<Concurrency>().notNull().default("fixed"),
    /** Ordered batches (docs/batches.md): events per request and how long one may wait to fill; null = one event per request. */
    batch: text("batch", { mode: "json" }).$type<BatchSettings>(),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    disabledReason: text("disabled_reason").$type<DisabledReason>(),
    disabledAt: integer("disabled_at", { mode: "timestamp_ms" }),
    createdAt: createdAt(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [index("webhooks_workspace_idx").on(t.workspaceId, t.createdAt)],
);

/**
 * Messages the queue gave up on (after its retries), as the dead-letter consumer received them. No foreign key to
 * workspaces: a malformed message may name one that does not exist, and it is still worth keeping.
 */
export const deadLetters = sqliteTable(
  "dead_letters",
  {
    workspaceId: text("workspace_id").notNull(),
    eventId: text("event_id").notNull(),
    type: text("type").notNull(),
    /** The queued event as JSON, for replay; null when it could not be serialised. */
    body: text("body"),
    reason: text("reason").notNull(),
    acceptedAt: integer("accepted_at", { mode: "timestamp_ms" }),
    deadAt: integer("dead_at", { mode: "timestamp_ms" }).notNull(),
    replayedAt: integer("replayed_at", { mode: "timestamp_ms" }),
  },
  (t) => [
    primaryKey({ columns: [t.workspaceId, t.eventId] }),
    index("dead_letters_page_idx").on(t.workspaceId, t.deadAt, t.eventId),
    index("dead_letters_dead_at_idx").on(t.deadAt),
  ],
);

/**
 * One row per sign-in to the settings pages: the cookie names the session, so signing out ends it here and a
 * replayed cookie finds it ended.
 */
export const sessions = sqliteTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    /** The API key that signed in; null for a session opened by a portal link (no key involved). */
    keyId: text("key_id").references(() => apiKeys.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
    endedAt: integer("ended_at", { mode: "timestamp_ms" }),
  },
  (t) => [index("sessions_expires_idx").on(t.expiresAt)],
);

/** One-time sign-in links minted by the operator for a workspace's settings pages (README "Portal links"). */
export const portalLinks = sqliteTable(
  "portal_links",
  {
    /** SHA-256 (hex) of the link's token; the token itself is only in the link (or, for a `continue` row, in one page). */
    tokenHash: text("token_hash").primaryKey(),
    /**
     * `link`: the token an operator hands out, spent by the first request that carries it. `continue`: the token
     * that request's landing page holds in its form, taken only by POST (never in a URL, so never in a log line).
     */
    purpose: text("purpose").$type<"link" | "continue">().notNull().default("link"),
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
    usedAt: integer("used_at", { mode: "timestamp_ms" }),
  },
  (t) => [index("portal_links_expires_idx").on(t.expiresAt)],
);

export type WorkspaceRow = typeof workspaces.$inferSelect;
export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type WebhookRow = typeof webhooks.$inferSelect;
export type DeadLetterRow = typeof deadLetters.$inferSelect;
