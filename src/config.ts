// The service's configuration: defaults and parsing of the wrangler [vars], in one place.
import type { Env } from "./env";

export interface Config {
  deliveryTimeoutMs: number;
  retryDelaysSeconds: number[];
  failureQuotaLimit: number;
  failureQuotaWindowSeconds: number;
  allowPrivateUrls: boolean;
  retentionDays: number;
  emailFrom: string;
  /** How long a lane holds a new event so one accepted earlier but delivered late by the queue can go first. */
  orderingWindowMs: number;
  /** The service's public origin, for links it hands out (portal links); null: the request's own origin. */
  publicUrl: string | null;
  /** Origins that may frame the settings pages (CSP frame-ancestors); empty: none may. */
  portalFrameAncestors: string[];
  /** Whether an endpoint (a webhook's, or a workspace's alertUrl) must answer a challenge before anything else is sent to it (docs/signatures.md). */
  requireEndpointVerification: boolean;
  /** Whether ingestion checks an event's data against its type's schema: not at all, noting a mismatch, or refusing it. */
  eventValidation: EventValidation;
}

export const EVENT_VALIDATION_MODES = ["off", "warn", "enforce"] as const;
export type EventValidation = (typeof EVENT_VALIDATION_MODES)[number];

export const DEFAULT_CONFIG: Readonly<Config> = Object.freeze({
  deliveryTimeoutMs: 5000,
  retryDelaysSeconds: [30, 60, 90],
  failureQuotaLimit: 30,
  failureQuotaWindowSeconds: 1800,
  allowPrivateUrls: false,
  retentionDays: 30,
  emailFrom: "webhooks@example.com",
  orderingWindowMs: 1000,
  publicUrl: null,
  portalFrameAncestors: [],
  requireEndpointVerification: false,
  eventValidation: "off",
});

export class ConfigError extends Error {
  override name = "ConfigError";
}

function numberVar(
  name: string,
  raw: string | undefined,
  fallback: number,
  { integer = true, zero = false }: { integer?: boolean; zero?: boolean } = {},
): number {
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || (value === 0 && !zero) || (integer && !Number.isInteger(value))) {
    const kind = `${zero ? "non-negative" : "positive"} ${integer ? "integer" : "number"}`;
    throw new ConfigError(`${name} must be a ${kind}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function delayList(name: string, raw: string | undefined, fallback: number[]): number[] {
  if (raw === undefined || raw.trim() === "") return fallback;
  const parts = raw.split(",").map((part) => part.trim());
  // Fractions are allowed so a black-box test can shrink the schedule below a second.
  const values = parts.map((part) => Number(part));
  if (parts.some((p) => p === "") || values.some((v) => !Number.isFinite(v) || v < 0)) {
    throw new ConfigError(`${name} must be a comma-separated list of non-negative seconds, got ${JSON.stringify(raw)}`);
  }
  return values;
}

function flag(name: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = raw.trim().toLowerCase();
  if (["true", "1", "yes"].includes(value)) return true;
  if (["false", "0", "no"].includes(value)) return false;
  throw new ConfigError(`${name} must be true or false, got ${JSON.stringify(raw)}`);
}

function origin(name: string, raw: string | undefined): string | null {
  if (raw === undefined || raw.trim() === "") return null;
  const url = URL.parse(raw.trim());
  if (!url || (url.protocol !== "https:" && url.protocol !== "http:") || url.pathname !== "/" || url.search || url.hash || url.username) {
    throw new ConfigError(`${name} must be an origin such as https://webhooks.example.com, got ${JSON.stringify(raw)}`);
  }
  return url.origin;
}

/** A CSP source list of origins (a `*.` wildcard allowed for subdomains): nothing that could widen or break the header. */
function origins(name: string, raw: string | undefined): string[] {
  if (raw === undefined || raw.trim() === "") return [];
  const list = raw.split(/[\s,]+/).filter(Boolean);
  for (const item of list) {
    if (!/^https?:\/\/(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(:\d{1,5})?$/i.test(item)) {
      throw new ConfigError(
        `${name} must list origins such as https://app.example.com, separated by spaces or commas; ${JSON.stringify(item)} is not one`,
      );
    }
  }
  return list;
}

function oneOf<T extends string>(name: string, raw: string | undefined, allowed: readonly T[], fallback: T): T {
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = raw.trim().toLowerCase();
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new ConfigError(`${name} must be one of ${allowed.join(", ")}, got ${JSON.stringify(raw)}`);
}

const cache = new WeakMap<object, Config>();

/** Parses the configuration from the bindings; throws ConfigError on a malformed value. */
export function readConfig(env: Env): Config {
  const cached = cache.get(env);
  if (cached) return cached;
  const config: Config = {
    deliveryTimeoutMs: numberVar("DELIVERY_TIMEOUT_MS", env.DELIVERY_TIMEOUT_MS, DEFAULT_CONFIG.deliveryTimeoutMs),
    retryDelaysSeconds: delayList("RETRY_DELAYS_SECONDS", env.RETRY_DELAYS_SECONDS, [...DEFAULT_CONFIG.retryDelaysSeconds]),
    failureQuotaLimit: numberVar("FAILURE_QUOTA_LIMIT", env.FAILURE_QUOTA_LIMIT, DEFAULT_CONFIG.failureQuotaLimit),
    failureQuotaWindowSeconds: numberVar(
      "FAILURE_QUOTA_WINDOW_SECONDS",
      env.FAILURE_QUOTA_WINDOW_SECONDS,
      DEFAULT_CONFIG.failureQuotaWindowSeconds,
      { integer: false },
    ),
    allowPrivateUrls: flag("ALLOW_PRIVATE_URLS", env.ALLOW_PRIVATE_URLS, DEFAULT_CONFIG.allowPrivateUrls),
    retentionDays: numberVar("RETENTION_DAYS", env.RETENTION_DAYS, DEFAULT_CONFIG.retentionDays, { integer: false }),
    emailFrom: env.EMAIL_FROM?.trim() || DEFAULT_CONFIG.emailFrom,
    orderingWindowMs: numberVar("ORDERING_WINDOW_MS", env.ORDERING_WINDOW_MS, DEFAULT_CONFIG.orderingWindowMs, {
      integer: false,
      zero: true,
    }),
    publicUrl: origin("PUBLIC_URL", env.PUBLIC_URL),
    portalFrameAncestors: origins("PORTAL_FRAME_ANCESTORS", env.PORTAL_FRAME_ANCESTORS),
    requireEndpointVerification: flag(
      "REQUIRE_ENDPOINT_VERIFICATION",
      env.REQUIRE_ENDPOINT_VERIFICATION,
      DEFAULT_CONFIG.requireEndpointVerification,
    ),
    eventValidation: oneOf("EVENT_VALIDATION", env.EVENT_VALIDATION, EVENT_VALIDATION_MODES, DEFAULT_CONFIG.eventValidation),
  };
  cache.set(env, config);
  return config;
}

const DAY_MS = 86_400_000;
/** Finished events and dead letters are kept at least a day whatever RETENTION_DAYS says, so an idempotency key holds for 24 h. */
const MIN_RETENTION_DAYS = 1;

/** How long finished deliveries and dead letters are kept: RETENTION_DAYS, at least a day. */
export function retentionMs(config: Pick<Config, "retentionDays">): number {
  return Math.max(config.retentionDays, MIN_RETENTION_DAYS) * DAY_MS;
}

/** The shortest ADMIN_TOKEN accepted: 32 characters, what `openssl rand -base64 32` prints is 44. */
export const MIN_ADMIN_TOKEN_LENGTH = 32;
const MAKE_A_SECRET = "make one with `openssl rand -base64 32` and set it with `wrangler secret put";

/**
 * The ADMIN_TOKEN secret, refused (ConfigError, so the admin routes answer 500 misconfigured naming it) when unset or
 * shorter than MIN_ADMIN_TOKEN_LENGTH: a short token can be guessed, and nothing else stands before the admin API.
 */
export function adminTokenOf(env: Env): string {
  const token = env.ADMIN_TOKEN ?? "";
  if (token.length >= MIN_ADMIN_TOKEN_LENGTH) return token;
  const what = token === "" ? "ADMIN_TOKEN is not set" : `ADMIN_TOKEN is ${token.length} characters long`;
  throw new ConfigError(`${what}; it must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters: ${MAKE_A_SECRET} ADMIN_TOKEN\``);
}

/** What an operator is told to do when SESSION_SECRET is missing (the settings pages' page and log line say it). */
export const SESSION_SECRET_HELP = `set the SESSION_SECRET secret: ${MAKE_A_SECRET} SESSION_SECRET\` (npm run dev sets one for you)`;
