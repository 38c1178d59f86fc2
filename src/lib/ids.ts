// Identifiers: a type prefix and a ULID, so ids say what they are and sort by creation time.
import { ulid } from "ulidx";

export type IdPrefix = "ws" | "key" | "wh" | "evt" | "ses";

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${ulid().toLowerCase()}`;
}
