// Schemas of the dead-letter API: a dead letter's public shape, the list's paging, the replay's path.
import { z } from "@hono/zod-openapi";
import type { DeadLetterRow } from "../../db/schema";
import { PageCursor, PageLimit } from "../paging";

export const DeadLetterSchema = z
  .object({
    eventId: z.string().openapi({ example: "evt_01jd8x6m3q7v9c2k4n5p6r7s8t" }),
    type: z.string().openapi({ description: "The event's type (`unknown` when the message did not say).", example: "message.received" }),
    acceptedAt: z.iso.datetime().nullable().openapi({ description: "When the API accepted the event; null when the message did not say." }),
    deadAt: z.iso.datetime().openapi({ description: "When the queue gave up on it and it was recorded here." }),
    reason: z.string().openapi({ example: "handing it to a webhook's lane kept failing until the queue gave up on it" }),
    replayable: z.boolean().openapi({ description: "Whether `replay` can send it again: false for a message that was not a valid event." }),
    replayedAt: z.iso
      .datetime()
      .nullable()
      .openapi({ description: "When it was last replayed; null if never (or if it died again since)." }),
  })
  .openapi("DeadLetter");

export const DeadLetterListSchema = z
  .object({
    data: z.array(DeadLetterSchema),
    unreplayed: z
      .number()
      .int()
      .openapi({ description: "How many of the workspace's dead letters (all pages) were never replayed.", example: 2 }),
    nextCursor: z.string().nullable().openapi({ description: "Pass as `cursor` for the next (older) page; null on the last page." }),
  })
  .openapi("DeadLetterList");

export const DeadLetterQuerySchema = z.object({ limit: PageLimit, cursor: PageCursor });

export const DeadLetterParams = z.object({
  eventId: z.string().openapi({ param: { name: "eventId", in: "path" }, example: "evt_01jd8x6m3q7v9c2k4n5p6r7s8t" }),
});

const iso = (date: Date | null) => date?.toISOString() ?? null;

export function toDeadLetter(row: DeadLetterRow): z.infer<typeof DeadLetterSchema> {
  return {
    eventId: row.eventId,
    type: row.type,
    acceptedAt: iso(row.acceptedAt),
    deadAt: row.deadAt.toISOString(),
    reason: row.reason,
    replayable: row.body !== null,
    replayedAt: iso(row.replayedAt),
  };
}

/** Cursors are opaque to clients: the position (death time, event id) of a page's last dead letter. */
export function encodeCursor(row: DeadLetterRow): string {
  return new TextEncoder().encode(`${row.deadAt.getTime()}.${row.eventId}`).toBase64({ alphabet: "base64url", omitPadding: true });
}

export function decodeCursor(cursor: string): { deadAt: number; eventId: string } | undefined {
  try {
    const text = new TextDecoder().decode(Uint8Array.fromBase64(cursor, { alphabet: "base64url" }));
    const match = /^(\d{1,15})\.(.{1,200})$/s.exec(text);
    return match ? { deadAt: Number(match[1]), eventId: match[2]! } : undefined;
  } catch {
    return undefined;
  }
}
