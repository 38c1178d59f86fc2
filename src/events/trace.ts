// W3C Trace Context (traceparent) for events: read at ingestion or started, kept with the event, and a fresh
// child of it for each delivery attempt. Pure functions over strings.
//
// https://www.w3.org/TR/trace-context/#traceparent-header: `version-traceid-parentid-flags`, lowercase hex.

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
  const parent = parseTraceparent(kept) ?? startTrace();
  return { ...parent, spanId: randomHex(8) };
}

/** attemptTrace as the `traceparent` header value. */
export function attemptTraceparent(kept: string | null): string {
  return formatTraceparent(attemptTrace(kept));
}
