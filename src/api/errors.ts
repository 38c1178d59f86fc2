// The error model: every failure answers `{"error": {"code", "message"}}` with a fitting status.
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "@hono/zod-openapi";
import type { Refusal } from "../delivery/lane/endpoint-lane";

/** Every error code the API answers with, and its status. One list, so docs and code agree. */
export const ERROR_CODES = {
  validation_failed: 400,
  malformed_json: 400,
  malformed_url: 400,
  unknown_field: 400,
  invalid_url: 400,
  url_too_long: 400,
  url_scheme_not_allowed: 400,
  url_credentials_not_allowed: 400,
  private_url_not_allowed: 400,
  unknown_event_type: 400,
  events_empty: 400,
  description_too_long: 400,
  invalid_email: 400,
  invalid_data: 400,
  data_too_deep: 400,
  data_does_not_match_schema: 400,
  invalid_event_id: 400,
  invalid_occurred_at: 400,
  batch_too_large: 400,
  invalid_cursor: 400,
  invalid_period: 400,
  invalid_rate_limit: 400,
  invalid_retry_delays: 400,
  invalid_header: 400,
  reserved_header: 400,
  invalid_header_value: 400,
  invalid_filter: 400,
  invalid_ordering: 400,
  ordering_key_required: 400,
  ordering_key_not_allowed: 400,
  invalid_ordering_key: 400,
  invalid_max_in_flight: 400,
  invalid_concurrency: 400,
  invalid_batch: 400,
  invalid_ttl: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  webhook_disabled: 409,
  delivery_pending: 409,
  not_replayable: 409,
  alert_url_not_set: 409,
  verification_not_required: 409,
  endpoint_unverified: 409,
  notification_email_not_set: 409,
  notification_email_confirmed: 409,
  limit_reached: 409,
  payload_too_large: 413,
  event_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal_error: 500,
  misconfigured: 500,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** One thing wrong with a request: what `errors` lists. */
export interface FieldProblem {
  code: ErrorCode;
  message: string;
  param?: string | undefined;
}

export class ApiError extends Error {
  readonly status: ContentfulStatusCode;
  /** The request field the error is about (`events[2]`), when there is one. */
  readonly param: string | undefined;
  /** Every problem found, this one first (validation errors); absent otherwise. */
  readonly errors: FieldProblem[] | undefined;
  /** Response headers the error answers with (`Retry-After` on a 429). */
  readonly headers: Record<string, string> | undefined;
  constructor(
    readonly code: ErrorCode,
    message: string,
    status?: ContentfulStatusCode,
    extra: { param?: string | undefined; errors?: FieldProblem[] | undefined; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.status = status ?? ERROR_CODES[code];
    this.param = extra.param;
    this.errors = extra.errors;
    this.headers = extra.headers;
  }

  body() {
    const errors = this.errors?.map((e) => ({ code: e.code, message: e.message, ...(e.param ? { param: e.param } : {}) }));
    return {
      error: { code: this.code, message: this.message, ...(this.param ? { param: this.param } : {}), ...(errors ? { errors } : {}) },
    };
  }
}

/** The answer for an error, where a middleware answers rather than throws (the app's onError answers the same). */
export function errorResponse(c: Context, err: ApiError, headers: Record<string, string> = {}) {
  return c.json(err.body(), err.status, { ...err.headers, ...headers });
}

/** 429 for a limit counted per minute or so: when to try again, in the message and in `Retry-After`. */
export function rateLimited(message: string, retryAfterSeconds: number): ApiError {
  return new ApiError("rate_limited", `${message}; retry in ${retryAfterSeconds} s`, undefined, {
    headers: { "Retry-After": String(retryAfterSeconds) },
  });
}

export function errorBody(code: ErrorCode, message: string) {
  return { error: { code, message } };
}

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({
        example: "validation_failed",
        description: `One of: ${Object.entries(ERROR_CODES)
          .map(([code, status]) => `\`${code}\` (${status})`)
          .join(", ")}.`,
      }),
      message: z.string().openapi({ example: 'events[0]: unknown event type "message.deleted"' }),
      param: z.string().optional().openapi({ description: "The request field at fault, when there is one", example: "events[0]" }),
      errors: z
        .array(z.object({ code: z.string(), message: z.string(), param: z.string().optional() }))
        .optional()
        .openapi({
          description:
            "On a 400 for invalid input: every problem found, one per field, the first being this error itself, so a form can mark all its fields at once.",
        }),
    }),
  })
  .openapi("Error");

/** The body of every error answer, as clients (the settings pages among them) read it. */
export type ErrorBody = z.infer<typeof ErrorSchema>;

/** OpenAPI response entries for the errors a route can answer. */
export function errorResponses(...statuses: (400 | 401 | 403 | 404 | 409 | 413 | 415 | 429 | 500)[]) {
  const descriptions = {
    400: "Invalid request (see `error.code`)",
    401: "Missing, unknown or revoked key",
    403: "The credential is valid but not for this (`forbidden`): a poll token reads only its own webhook's stream",
    404: "No such resource in this workspace",
    409: "Conflicts with the current state",
    413: "Body larger than 256 KiB",
    415: "Body is not JSON",
    429: "Rate limited (`rate_limited`); the `Retry-After` header says in how many seconds to try again",
    500: "The service is misconfigured (`misconfigured`, naming the setting to fix), or failed on its side (`internal_error`)",
  } as const;
  return Object.fromEntries(
    statuses.map((status) => [status, { description: descriptions[status], content: { "application/json": { schema: ErrorSchema } } }]),
  );
}

/**
 * The error for a lane's refusal of a retry or recover, in the words of the side that asked: a webhook's
 * deliveries or the workspace's alerts (what was not found, what "disabled" means there, what is pending).
 */
export function refusalError(refusal: Refusal, side: { notFound: ApiError; disabled: ApiError; pending: "delivery" | "alert" }): ApiError {
  switch (refusal) {
    case "not_found":
      return side.notFound;
    case "disabled":
      return side.disabled;
    case "already_pending":
      return new ApiError(
        "delivery_pending",
        `this ${side.pending} is still pending (in line or waiting for a retry); it will be attempted anyway`,
      );
  }
}
