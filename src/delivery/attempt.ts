// One delivery attempt: check the URL against the policy in force, POST the body, wait at most the timeout, and
// describe what happened.
import { changesRequest, isReservedHeader } from "../lib/endpoint-controls";
import { memoized } from "../lib/memo";
import { checkEndpointUrl } from "../lib/url-policy";
import { parseRetryAfter } from "./schedule";

/** One attempt as the delivery log keeps and shows it: the one shape of an attempt, which the others extend. */
export interface AttemptRecord {
  /** Unix ms when the request started. */
  at: number;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
  /** The first 1 KiB of the response body, for the delivery log. */
  responseBody: string | null;
}

/** What attemptDelivery answers: the record, and what the lane acts on (delivered, Retry-After, headers sent). */
export interface AttemptResult extends AttemptRecord {
  /** The request's headers as sent (names lowercased), signatures included; also when the URL policy kept it from being sent. */
  headers: Record<string, string>;
  delivered: boolean;
  /** How long a 429 or 503 asked to wait (its Retry-After, capped); null otherwise. */
  retryAfterMs: number | null;
  /** A verification challenge's answer: the 2xx's `webhook-challenge-response` header (verification.ts); absent otherwise. */
  challengeResponse?: string | null;
  /**
   * Set when the service itself failed to make the attempt (a sender object could not be reached): not the
   * endpoint's answer, so it counts against no quota and no retry schedule (outcomes.ts).
   */
  serviceFailure?: true;
}

export const RESPONSE_SNIPPET_BYTES = 1024;

/** An attempt succeeded when a 2xx came back and nothing went wrong (a redirect, say, is not followed). */
export function succeeded(statusCode: number | null, error: string | null): boolean {
  return error === null && statusCode !== null && statusCode >= 200 && statusCode < 300;
}
export const USER_AGENT = "EdgeWebhooks/1.0 (+https://github.com/edge-webhooks)";

/** A response that says it is at most this long is read whole (one read, not a stream's several). */
const READ_WHOLE_BYTES = 64 * 1024;

/** Decodes a whole snippet at a time (never streaming), so one instance serves every attempt. */
const snippetDecoder = new TextDecoder();

async function readSnippet(response: Response): Promise<string> {
  if (!response.body) return "";
  const length = response.headers.get("content-length");
  // Nothing to read (the usual 2xx): the runtime has the whole message once the headers are in.
  if (length === "0") return "";
  if (length !== null && Number(length) <= READ_WHOLE_BYTES) {
    const bytes = await response.arrayBuffer();
    return snippetDecoder.decode(new Uint8Array(bytes, 0, Math.min(bytes.byteLength, RESPONSE_SNIPPET_BYTES)));
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < RESPONSE_SNIPPET_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  const bytes = new Uint8Array(Math.min(size, RESPONSE_SNIPPET_BYTES));
  let offset = 0;
  for (const chunk of chunks) {
    const part = chunk.subarray(0, bytes.length - offset);
    bytes.set(part, offset);
    offset += part.length;
    if (offset >= bytes.length) break;
  }
  return snippetDecoder.decode(bytes);
}

/** The URL policy's verdicts on URLs already judged in this isolate (pure: same URL and policy, same verdict). */
const verdicts = new Map<string, ReturnType<typeof checkEndpointUrl>>();

function judged(url: string, allowPrivate: boolean): ReturnType<typeof checkEndpointUrl> {
  return memoized(verdicts, `${allowPrivate ? "+" : "-"}${url}`, () => checkEndpointUrl(url, { allowPrivate }));
}

export interface AttemptOptions {
  /** ALLOW_PRIVATE_URLS as it is now: a URL stored under a looser policy is judged by this one. */
  allowPrivateUrls: boolean;
}

/**
 * A webhook's own headers followed by the service's, names lowercased, as an attempt sends them, and the names
 * of its own headers it withholds; or why they cannot be sent.
 */
export type RequestHeaders = { ok: true; headers: Record<string, string>; withheld: string[] } | { ok: false; error: string };

/**
 * The headers every attempt of a webhook sends before its signatures: its own, then the service's
 * (content-type and user-agent always win). Whatever a stored config holds, a reserved name (one the service
 * sets, or one that changes how the request is made, such as `Upgrade`) is never sent: it is withheld and
 * named in `withheld`, so an attempt stays a POST with its body. Built and checked once per config by the
 * lane, not per attempt.
 */
export function requestHeaders(own: Record<string, string>): RequestHeaders {
  const kept: Record<string, string> = {};
  const withheld: string[] = [];
  for (const [name, value] of Object.entries(own)) {
    if (isReservedHeader(name)) withheld.push(name);
    else kept[name] = value;
  }
  try {
    const headers = Object.fromEntries(new Headers({ ...kept, "content-type": "application/json", "user-agent": USER_AGENT }));
    return { ok: true, headers, withheld };
  } catch (err) {
    return { ok: false, error: `invalid request headers: ${(err as Error).message}` };
  }
}

/**
 * Sends one attempt: `base` (requestHeaders) with `signatures` (lowercase names) after it. Never throws:
 * every outcome is an AttemptResult. A URL the policy refuses is not contacted; the attempt fails with
 * `url_not_allowed: <why>`, like any other failed attempt.
 */
export async function attemptDelivery(
  url: string,
  body: string,
  base: RequestHeaders,
  signatures: Record<string, string>,
  timeoutMs: number,
  { allowPrivateUrls }: AttemptOptions,
): Promise<AttemptResult> {
  const at = Date.now();
  const sent = base.ok ? { ...base.headers, ...signatures } : {};
  const finish = (
    fields: Pick<AttemptResult, "statusCode" | "error" | "responseBody">,
    retryAfterMs: number | null = null,
  ): AttemptResult => ({
    at,
    durationMs: Date.now() - at,
    delivered: succeeded(fields.statusCode, fields.error),
    retryAfterMs,
    headers: sent,
    ...fields,
  });
  if (!base.ok) return finish({ statusCode: null, error: base.error, responseBody: null });
  // requestHeaders withholds these; a caller that built its own never turns the POST into something else.
  const framing = Object.keys(sent).filter(changesRequest);
  if (framing.length > 0)
    return finish({
      statusCode: null,
      error: `reserved_header: ${framing.join(", ")} would change the request; not sent`,
      responseBody: null,
    });
  const verdict = judged(url, allowPrivateUrls);
  if (!verdict.ok) return finish({ statusCode: null, error: `url_not_allowed: ${verdict.message}`, responseBody: null });
  // The timeout is a timer cleared the moment the answer is in (its status and the snippet read), not an
  // AbortSignal.timeout, which stays active its whole length: workerd holds at most 10,000 active timeouts per I/O
  // context, an object's requests share one, and a lane sending hundreds a second would meet the cap (every timer
  // after it throws). test/lane/timers.test.ts counts it.
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  let response: Response;
  let responseBody: string | null = null;
  try {
    try {
      response = await fetch(url, { method: "POST", body, headers: sent, redirect: "manual", signal: controller.signal });
    } catch (err) {
      if (controller.signal.aborted)
        return finish({ statusCode: null, error: `timeout: no response within ${timeoutMs} ms`, responseBody: null });
      return finish({ statusCode: null, error: `connection failed: ${(err as Error).message}`, responseBody: null });
    }
    try {
      responseBody = await readSnippet(response);
    } catch {
      // A body cut short (timeout, reset) does not change the verdict: the status already arrived.
    }
  } finally {
    clearTimeout(timer);
  }
  const status = response.status;
  // Only an answer to the POST counts: a protocol switch (a WebSocket accepted) delivered no body.
  if (status === 101 || response.webSocket) {
    try {
      response.webSocket?.close();
    } catch {
      // Not accepted, so nothing to close: the connection goes with the response.
    }
    return finish({
      statusCode: status,
      error: `endpoint switched protocols (HTTP ${status}); only an answer to the POST counts`,
      responseBody,
    });
  }
  if (status >= 300 && status < 400) {
    const location = response.headers.get("location");
    return finish({ statusCode: status, error: `redirect${location ? ` to ${location}` : ""} not followed`, responseBody });
  }
  if (status === 429 || status === 503) {
    const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"), Date.now());
    if (retryAfterMs !== null) {
      const error = `endpoint answered HTTP ${status}; its Retry-After asks for ${Math.ceil(retryAfterMs / 1000)} s before the next attempt`;
      return finish({ statusCode: status, error, responseBody }, retryAfterMs);
    }
  }
  if (status < 200 || status >= 300) return finish({ statusCode: status, error: `endpoint answered HTTP ${status}`, responseBody });
  const delivered = finish({ statusCode: status, error: null, responseBody });
  // Only a challenge asks for an answer (verification.ts judges it); the header name is the extension's.
  return sent["webhook-challenge"] === undefined
    ? delivered
    : { ...delivered, challengeResponse: response.headers.get("webhook-challenge-response") };
}
