// Small builders for OpenAPI route definitions, so every route documents bodies and auth the same way.
import type { z } from "@hono/zod-openapi";

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
