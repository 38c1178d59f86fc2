// W3C Trace Context for events: the traceparent read at ingestion or started, and the tracestate that came with
// it, kept with the event; each delivery attempt sends a fresh child of the traceparent and the tracestate
// unchanged. Pure functions over strings.
//
// https://www.w3.org/TR/trace-context/#traceparent-header: `version-traceid-parentid-flags`, lowercase hex.
// https://www.w3.org/TR/trace-context/#tracestate-header: `key=value` list-members, comma-separated.

/** A trace context as the service keeps it with an event: always version 00. */
export interface TraceContext {
  /** 32 lowercase hex digits, not all zero. */
  traceId: string;
  /** 16 lowercase hex digits, not all zero: the span the next hop is a child of. */
  spanId: string;
  /** 2 lowercase hex digits; bit 0 is "sampled". */
  flags: string;
}

const HEX = /^[0-9a-f]+$/;
const allZero = (hex: string) => /^0+$/.test(hex);

/**
 * The trace context a `traceparent` header carries, or null when it has none or a malformed one (then, as the
 * spec says, the receiver starts a new trace rather than refusing the request). A version above 00 is read
 * for its first four fields, as the spec asks of a version the reader does not know; ff is invalid.
 */
export function parseTraceparent(header: string | null | undefined): TraceContext | null {
  if (!header) return null;
  const value = header.trim();
  const [version, traceId, spanId, flags] = value.split("-", 4);
  if (version === undefined || traceId === undefined || spanId === undefined || flags === undefined) return null;
  if (version.length !== 2 || !HEX.test(version) || version === "ff") return null;
  if (version === "00" ? value.length !== 55 : value.length < 55 || (value.length > 55 && value[55] !== "-")) return null;
  if (traceId.length !== 32 || !HEX.test(traceId) || allZero(traceId)) return null;
  if (spanId.length !== 16 || !HEX.test(spanId) || allZero(spanId)) return null;
  if (flags.length !== 2 || !HEX.test(flags)) return null;
  return { traceId, spanId, flags };
}

function randomHex(bytes: number): string {
  for (;;) {
    const hex = crypto.getRandomValues(new Uint8Array(bytes)).toHex();
    if (!allZero(hex)) return hex;
  }
}

/** A new trace, sampled: what the service starts when a request brings no (valid) traceparent. */
export function startTrace(): TraceContext {
  return { traceId: randomHex(16), spanId: randomHex(8), flags: "01" };
}

export function formatTraceparent({ traceId, spanId, flags }: TraceContext): string {
  return `00-${traceId}-${spanId}-${flags}`;
}

/** The request's trace context, normalised to version 00, or a new trace: what an accepted event keeps. */
export function traceparentOf(header: string | null | undefined): string {
  return formatTraceparent(parseTraceparent(header) ?? startTrace());
}

/**
 * The most characters of tracestate kept: the spec's "at least 512" that a vendor should propagate. A longer
 * list loses whole members by the spec's rule (tracestateOf).
 */
export const MAX_TRACESTATE_CHARS = 512;
/** The most list-members a tracestate may have (the spec's limit; a header with more is invalid). */
export const MAX_TRACESTATE_MEMBERS = 32;
/** Members longer than this go first when a tracestate must be truncated, as the spec asks. */
const LONG_MEMBER_CHARS = 128;

// The spec's ABNF. A key is a simple key (`rojo`) or a multi-tenant one (`tenant@system`); a value is printable
// ASCII except `,` and `=`, at most 256 characters, not ending with a space.
const KEY_CHAR = "[a-z0-9_\\-*/]";
const SIMPLE_KEY = `[a-z]${KEY_CHAR}{0,255}`;
const MULTI_TENANT_KEY = `[a-z0-9]${KEY_CHAR}{0,240}@[a-z]${KEY_CHAR}{0,13}`;
const VALUE = "[\\x20-\\x2b\\x2d-\\x3c\\x3e-\\x7e]{0,255}[\\x21-\\x2b\\x2d-\\x3c\\x3e-\\x7e]";
const LIST_MEMBER = new RegExp(`^(${SIMPLE_KEY}|${MULTI_TENANT_KEY})=${VALUE}$`);
/** Optional whitespace around list-members (RFC 7230 OWS: spaces and tabs). */
const OWS = /^[ \t]+|[ \t]+$/g;

/**
 * The tracestate to keep from a request's `tracestate` header (several header fields arrive joined by commas,
 * as RFC 7230 combines them), or null for none. Empty and whitespace-only members are skipped and the optional
 * whitespace around members dropped. A header that breaks the spec's grammar anywhere (a malformed member, a
 * key twice, more than 32 members) is dropped whole, as the spec allows and its test suite expects: its
 * members cannot be trusted to mean what their vendors wrote. One longer than 512 characters is truncated by
 * whole members, the spec's rule: members over 128 characters go first, then members from the end.
 * Never throws; its output is a valid tracestate (or null) that reads back unchanged.
 */
export function tracestateOf(header: string | null | undefined): string | null {
  if (!header) return null;
  const members: string[] = [];
  const keys = new Set<string>();
  for (const raw of header.split(",")) {
    const member = raw.replace(OWS, "");
    if (member === "") continue;
    if (!LIST_MEMBER.test(member)) return null;
    const key = member.slice(0, member.indexOf("="));
    if (keys.has(key)) return null;
    keys.add(key);
    members.push(member);
    if (members.length > MAX_TRACESTATE_MEMBERS) return null;
  }
  while (members.join(",").length > MAX_TRACESTATE_CHARS) {
    const long = members.findLastIndex((m) => m.length > LONG_MEMBER_CHARS);
    members.splice(long === -1 ? members.length - 1 : long, 1);
  }
  return members.length > 0 ? members.join(",") : null;
}

/** What an accepted event keeps of its request's trace context. */
export interface KeptTrace {
  /** Version 00: the request's, normalised, or a new trace. */
  traceparent: string;
  /** The request's tracestate (tracestateOf), only beside the traceparent it came with. */
  tracestate?: string | undefined;
}

/**
 * The request's trace context as an event keeps it: its traceparent (or a new trace) and, only when that
 * traceparent was valid, its tracestate. The spec forbids reading tracestate without a valid traceparent: it
 * belongs to the trace the traceparent names, not to one the service starts.
 */
export function keptTraceOf(traceparent: string | null | undefined, tracestate: string | null | undefined): KeptTrace {
  const parent = parseTraceparent(traceparent);
  if (!parent) return { traceparent: formatTraceparent(startTrace()) };
  const state = tracestateOf(tracestate);
  return state === null ? { traceparent: formatTraceparent(parent) } : { traceparent: formatTraceparent(parent), tracestate: state };
}

/** The trace id of a kept traceparent (`00-<trace id>-…`). */
export function traceIdOf(traceparent: string): string {
  return traceparent.slice(3, 35);
}

/**
 * The trace context one delivery attempt sends: the event's trace id and flags with a new span id, the
 * attempt's own span, so each attempt (retries too) is a distinct child in the receiver's trace. An event kept
 * without one (a message queued before traces were kept) gets a new trace.
 */
export function attemptTrace(kept: string | null): TraceContext {
  return childOf(parseTraceparent(kept));
}

/** A new span of `parent`'s trace, or of a new trace when there is none. */
function childOf(parent: TraceContext | null): TraceContext {
  return { ...(parent ?? startTrace()), spanId: randomHex(8) };
}

/** attemptTrace as the `traceparent` header value. */
export function attemptTraceparent(kept: string | null): string {
  return formatTraceparent(attemptTrace(kept));
}

/**
 * One attempt's trace headers: a child `traceparent` (attemptTrace) and the kept `tracestate` unchanged beside
 * it, as the spec asks of a participant that changes only the parent id. A tracestate is sent only with the
 * trace it came with: never with a trace started for an event kept without a valid traceparent.
 */
export function attemptTraceHeaders(kept: { traceparent: string | null; tracestate: string | null }): {
  trace: TraceContext;
  headers: { traceparent: string; tracestate?: string };
} {
  // Parsed once per attempt: the child's parent, and whether the tracestate belongs to it.
  const parent = parseTraceparent(kept.traceparent);
  const trace = childOf(parent);
  const continued = kept.tracestate !== null && parent !== null;
  return { trace, headers: { traceparent: formatTraceparent(trace), ...(continued ? { tracestate: kept.tracestate! } : {}) } };
}
