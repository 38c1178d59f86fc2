// A webhook's endpoint controls (rate limit, retry schedule, custom headers, filter): their limits, the
// headers no one may set, and what a filter matches. Pure, shared by the API's validation and delivery.

export const MAX_RATE_LIMIT_PER_SECOND = 1000;
export const MAX_RETRY_DELAYS = 10;
export const MAX_RETRY_DELAY_SECONDS = 86_400;
export const MAX_HEADERS = 10;
export const MAX_HEADER_VALUE_LENGTH = 1000;
export const MAX_FILTER_ENTRIES = 10;
export const MAX_FILTER_PATH_LENGTH = 200;
export const MAX_FILTER_CHOICES = 50;

/** A value a filter compares with: a JSON scalar. */
export type FilterScalar = string | number | boolean | null;
/** Dotted path in the delivered body → the value it must equal, or the values it may be one of. */
export type WebhookFilter = Record<string, FilterScalar | FilterScalar[]>;

/** Headers the service sets itself: a webhook's own headers may not replace them. */
const RESERVED = new Set(["content-type", "content-length", "host", "user-agent", "x-webhook-signature"]);

export function isReservedHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return RESERVED.has(lower) || lower.startsWith("webhook-");
}

/** An HTTP field name (RFC 9110 token). */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** A field value without CR, LF or NUL (no header injection), other control characters but tab refused too. */
export const HEADER_VALUE = /^[^\u0000-\u0008\u000a-\u001f\u007f]*$/;

/** A dotted path: one or more non-empty segments. */
export const FILTER_PATH = /^[^.]+(\.[^.]+)*$/;

/** The value at a dotted path of a JSON value; undefined where the path leads nowhere. Own keys only. */
export function valueAt(body: unknown, path: string): unknown {
  let value = body;
  for (const segment of path.split(".")) {
    if (value === null || typeof value !== "object" || !Object.hasOwn(value, segment)) return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  return value;
}

/**
 * Whether a delivered body passes a filter: every path's value equals the scalar, or is one of the
 * array's. A path that leads nowhere matches nothing (not even null). An empty filter passes everything.
 */
export function matchesFilter(filter: WebhookFilter, body: unknown): boolean {
  return Object.entries(filter).every(([path, expected]) => {
    const actual = valueAt(body, path);
    if (actual === undefined) return false;
    return Array.isArray(expected) ? expected.some((choice) => choice === actual) : expected === actual;
  });
}
