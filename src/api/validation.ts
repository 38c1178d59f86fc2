// Turns request-validation failures into the API's error model, with a specific code per rule.
import type { ZodError } from "zod";
import type { Context } from "hono";
import { readConfig } from "../config";
import type { Env } from "../env";
import { checkEndpointUrl } from "../lib/url-policy";
import { ApiError, type ErrorCode, type FieldProblem } from "./errors";

type Issue = ZodError["issues"][number];

/**
 * Specific codes for the rules users trip over most, keyed by field name and zod issue code.
 * Anything not listed answers `validation_failed`.
 */
const FIELD_CODES: Record<string, Partial<Record<Issue["code"], ErrorCode>>> = {
  events: { too_small: "events_empty", too_big: "batch_too_large", invalid_value: "unknown_event_type" },
  data: { invalid_type: "invalid_data" },
  id: { invalid_format: "invalid_event_id", invalid_type: "invalid_event_id" },
  occurredAt: { invalid_format: "invalid_occurred_at", invalid_type: "invalid_occurred_at" },
  type: { invalid_value: "unknown_event_type" },
  period: { invalid_value: "invalid_period" },
  description: { too_big: "description_too_long" },
  notificationEmail: { invalid_format: "invalid_email" },
  rateLimitPerSecond: { invalid_type: "invalid_rate_limit", too_small: "invalid_rate_limit", too_big: "invalid_rate_limit" },
  retryDelaysSeconds: { invalid_type: "invalid_retry_delays", too_small: "invalid_retry_delays", too_big: "invalid_retry_delays" },
  headers: { invalid_type: "invalid_header", invalid_key: "invalid_header" },
  filter: { invalid_type: "invalid_filter", invalid_key: "invalid_filter" },
  ordering: { invalid_value: "invalid_ordering", invalid_type: "invalid_ordering" },
  orderingKey: {
    invalid_type: "invalid_ordering_key",
    too_big: "invalid_ordering_key",
    too_small: "invalid_ordering_key",
    invalid_format: "invalid_ordering_key",
  },
  batch: {
    invalid_type: "invalid_batch",
    too_small: "invalid_batch",
    too_big: "invalid_batch",
    invalid_value: "invalid_batch",
  },
  concurrency: { invalid_value: "invalid_concurrency", invalid_type: "invalid_concurrency" },
  maxInFlight: { invalid_type: "invalid_max_in_flight", too_small: "invalid_max_in_flight", too_big: "invalid_max_in_flight" },
  ttlSeconds: { invalid_type: "invalid_ttl", too_small: "invalid_ttl", too_big: "invalid_ttl" },
};

/** `events[2]`-style path of an issue, for messages and the `param` field. */
export function issuePath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => (typeof key === "number" ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), "");
}

function fieldName(path: readonly PropertyKey[]): string | undefined {
  return [...path].reverse().find((key): key is string => typeof key === "string");
}

/** One issue as the error model says it: a code, a message that starts with the field, the field as `param`. */
export function issueError(issue: Issue): FieldProblem {
  if (issue.code === "unrecognized_keys") {
    const where = issuePath(issue.path);
    const keys = issue.keys.map((k) => JSON.stringify(k)).join(", ");
    // Inside a field with a code of its own (batch), a stray key is that field's mistake.
    const own = issue.path[0] === "batch" ? "invalid_batch" : "unknown_field";
    return {
      code: own,
      message: `unknown field${issue.keys.length > 1 ? "s" : ""} ${keys}${where ? ` in ${where}` : ""}`,
      param: issue.keys[0] ? issuePath([...issue.path, issue.keys[0]]) : undefined,
    };
  }
  const param = issuePath(issue.path);
  const field = fieldName(issue.path);
  const top = typeof issue.path[0] === "string" ? issue.path[0] : undefined;
  // A rule of our own names its code; otherwise the field's (or, inside an object field, the top field's).
  const own = issue.code === "custom" ? (issue.params as { code?: ErrorCode } | undefined)?.code : undefined;
  const code = own || (field && FIELD_CODES[field]?.[issue.code]) || (top && FIELD_CODES[top]?.[issue.code]) || "validation_failed";
  return { code, message: param ? `${param}: ${issue.message}` : issue.message, param: param || undefined };
}

/**
 * Every problem of a request at once: the first is the error's own code, message and param, and `errors` lists
 * them all (one per field: a field's first issue), so a form can mark each field in one round trip.
 */
export function validationError(error: ZodError, more: FieldProblem[] = []): ApiError {
  const all: FieldProblem[] = [];
  for (const problem of [...error.issues.map(issueError), ...more]) {
    if (!all.some((p) => p.param === problem.param)) all.push(problem);
  }
  const first = all[0];
  if (!first) return new ApiError("validation_failed", "invalid request");
  return new ApiError(first.code, first.message, undefined, { param: first.param, errors: all });
}

/**
 * Checks that run after the schema's (the URL policy, which depends on ALLOW_PRIVATE_URLS) for a create whose
 * schema failed anyway, so the answer names those fields too. PATCH is left out: there an unchanged URL is not
 * judged again, which only the handler can tell.
 */
function laterChecks(result: { target: string; data?: unknown }, c: Context): FieldProblem[] {
  if (result.target !== "json" || c.req.method !== "POST" || typeof result.data !== "object" || result.data === null) return [];
  return urlPolicyProblems((result.data as Record<string, unknown>).url, readConfig(c.env as Env).allowPrivateUrls);
}

/** The URL policy's verdict on a request's `url`, as problems to list beside the schema's (none when it is not a string). */
export function urlPolicyProblems(url: unknown, allowPrivate: boolean): FieldProblem[] {
  if (typeof url !== "string") return [];
  const verdict = checkEndpointUrl(url, { allowPrivate });
  return verdict.ok ? [] : [{ code: verdict.code, message: verdict.message, param: "url" }];
}

/** The `defaultHook` of every OpenAPI route: invalid input answers 400 before the handler runs. */
export function onValidation(
  result: ({ success: true } | { success: false; error: ZodError }) & { target: string; data?: unknown },
  c: Context,
) {
  if (!result.success) throw validationError(result.error, laterChecks(result, c));
}
