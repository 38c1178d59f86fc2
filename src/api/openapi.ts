// Small builders for OpenAPI route definitions, so every route documents bodies and auth the same way.
import { z } from "@hono/zod-openapi";

export const workspaceKeyAuth = [{ apiKey: [] }];
export const adminTokenAuth = [{ adminToken: [] }];
/** A polling webhook's own token: only on its poll route, beside the API key. */
export const pollTokenAuth = [{ pollToken: [] }];

export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { "application/json": { schema } } };
}

export function jsonBody<T extends z.ZodType>(schema: T) {
  return { required: true, content: { "application/json": { schema } } };
}

/** A JSON body that may be left out entirely (no content-type, no body): the route then sees `{}`. */
export function optionalJsonBody<T extends z.ZodType>(schema: T) {
  return { required: false, content: { "application/json": { schema } } };
}

/**
 * The request's trace: its W3C `traceparent` header, or a new trace when it has none or a malformed one, and
 * the `tracestate` that came with a valid one.
 */
export const TraceContextHeaders = z.object({
  traceparent: z
    .string()
    .optional()
    .openapi({
      description:
        "W3C Trace Context. Kept with the event: every delivery attempt sends `traceparent` with this trace id and a new span id, " +
        "and the delivery log shows and finds it (`traceId`). Without one, or with a malformed one (which is ignored, as the W3C spec says), the service starts a trace.",
      example: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    }),
  tracestate: z
    .string()
    .optional()
    .openapi({
      description:
        "W3C Trace Context vendor state, read only beside a valid `traceparent` (without one it is ignored, as the spec says). Kept with the event " +
        "and sent unchanged with every delivery attempt, retries included. Optional whitespace and empty members are dropped; a header that breaks " +
        "the spec's grammar (a malformed member, a key twice, more than 32 members) is ignored whole; one longer than 512 characters loses whole " +
        "members, those over 128 characters first, then from the end. It never makes a request fail.",
      example: "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7",
    }),
});
