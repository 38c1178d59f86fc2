// Query parameters every paged list shares: `limit` and the opaque `cursor` a previous page returned.
import { z } from "@hono/zod-openapi";
import { ApiError } from "./errors";

export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 50;

export const PageLimit = z.coerce
  .number({ error: "must be a whole number" })
  .int({ error: "must be a whole number" })
  .min(1, { error: "must be at least 1" })
  .max(MAX_PAGE_SIZE, { error: `must be at most ${MAX_PAGE_SIZE}` })
  .default(DEFAULT_PAGE_SIZE)
  .openapi({ param: { name: "limit", in: "query" }, example: 50 });

export const PageCursor = z
  .string()
  .optional()
  .openapi({ param: { name: "cursor", in: "query" }, description: "`nextCursor` of the previous page." });

/**
 * The position a `cursor` query parameter stands for, decoded by the list's own `decode`; undefined for the first
 * page. A cursor this API did not return answers `400 invalid_cursor`.
 */
export function pagePosition<T>(cursor: string | undefined, decode: (cursor: string) => T | undefined): T | undefined {
  if (cursor === undefined) return undefined;
  const position = decode(cursor);
  if (position === undefined) {
    throw new ApiError("invalid_cursor", "cursor is not one this API returned; pass nextCursor as it came", undefined, { param: "cursor" });
  }
  return position;
}
