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

/**
 * Headers the service sets itself: a webhook's own headers may not replace them (`traceparent`: each attempt's
 * span; `tracestate`: the producer's vendor state, which belongs with that trace).
 */
const SERVICE_HEADERS = ["content-type", "content-length", "host", "user-agent", "x-webhook-signature", "traceparent", "tracestate"];
/**
 * Headers that change how the request is made or framed rather than what it says: a connection's options,
 * a protocol switch (workerd's and Cloudflare's fetch turn `Upgrade: websocket` into a body-less WebSocket
 * GET), transfer and content codings, trailers, expectations, proxy instructions, and the `sec-*` names
 * browsers reserve (`sec-websocket-key` among them).
 */
const FRAMING_HEADERS = ["connection", "upgrade", "keep-alive", "te", "trailer", "transfer-encoding", "expect", "content-encoding"];
const RESERVED = new Set([...SERVICE_HEADERS, ...FRAMING_HEADERS]);
const RESERVED_PREFIXES = ["webhook-", "proxy-", "sec-"];

/** Every reserved name and prefix, for messages and the docs (a prefix ends with `*`). */
export const RESERVED_HEADER_LIST: readonly string[] = [...SERVICE_HEADERS, ...FRAMING_HEADERS, ...RESERVED_PREFIXES.map((p) => `${p}*`)];

/** Whether a header name (any case) changes how the request is made or framed (FRAMING_HEADERS, proxy-*, sec-*). */
export function changesRequest(name: string): boolean {
  const lower = name.toLowerCase();
  return FRAMING_HEADERS.includes(lower) || lower.startsWith("proxy-") || lower.startsWith("sec-");
}

/** Whether a header name (any case) is the service's own or changes how the request is made: never sent. */
export function isReservedHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return RESERVED.has(lower) || RESERVED_PREFIXES.some((prefix) => lower.startsWith(prefix));
}

/** An HTTP field name (RFC 9110 token). */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/**
 * A field value that arrives byte for byte as stored: visible ASCII, with spaces and tabs only between visible
 * characters (HTTP strips them at either end), or empty. Anything else is refused rather than altered: control
 * characters (CR, LF and NUL would split or end the header), and every character above U+007E, since a
 * runtime's fetch refuses what is not Latin-1 and the receiving side decodes bytes above 0x7F as it pleases.
 */
export const HEADER_VALUE = /^(?:[\x21-\x7e](?:[\x20\x09]*[\x21-\x7e])*)?$/;

/** Why a header value cannot be sent as stored (HEADER_VALUE), in words; null when it can. */
export function headerValueProblem(value: string): string | null {
  if (HEADER_VALUE.test(value)) return null;
  const bad = [...value].find((ch) => !/^[\x20-\x7e\x09]$/.test(ch));
  if (bad === undefined) return "must not start or end with a space or a tab (HTTP would strip it)";
  const code = bad.codePointAt(0)!;
  const shown = `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
  if (code < 0x20 || code === 0x7f) return `must not contain control characters such as line breaks (found ${shown})`;
  return `must hold only visible ASCII characters, spaces and tabs (found ${shown}); encode other text, e.g. percent-encoding`;
}

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
