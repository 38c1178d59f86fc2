// The dead-letter queue's consumer: records every message the events queue gave up on (in D1, or in the
// workspace's jurisdiction when it has a data location: where.ts), with why, so it can be listed and replayed
// instead of vanishing, and tells the workspace's alertUrl (dead_letter.created).
import { eq } from "drizzle-orm";
import { readConfig, retentionMs } from "../config";
import { openDb, type Db } from "../db/client";
import { workspaces } from "../db/schema";
import type { Env } from "../env";
import { readQueuedEvent } from "../events/queued-event";
import { raiseAlert } from "../alerts/send";
import { purgeDeadLetters, type NewDeadLetter } from "./store";
import { deadLettersOf } from "./where";

/** The workspace's data location (null for none, and for a workspace that does not exist: D1 keeps its letters). */
async function locationOf(db: Db, workspaceId: string) {
  const row = await db.query.workspaces.findFirst({ where: eq(workspaces.id, workspaceId), columns: { dataLocation: true } });
  return row?.dataLocation ?? null;
}

/** The events queue's dead-letter queue (wrangler.toml); every other batch the Worker gets is of accepted events. */
export const DEAD_LETTER_QUEUE_NAME = "edge-webhooks-events-dlq";

/** How long dead letters are kept: RETENTION_DAYS, as lanes keep their finished events. */
export function deadLetterCutoff(env: Env, now = Date.now()): number {
  return now - retentionMs(readConfig(env));
}

const field = (body: unknown, name: string): unknown =>
  typeof body === "object" && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>)[name] : undefined;

/**
 * What to record for a dead message, or undefined when it names no workspace (nobody could ever list it).
 * The queue does not say why it gave up, so the reason is found again: a message that is not a valid event
 * says what is wrong with it; a valid one could only have died because its lanes kept refusing it.
 */
export function deadLetterOf(message: { id: string; body: unknown }, deadAt: number): NewDeadLetter | undefined {
  const workspaceId = field(message.body, "workspaceId");
  if (typeof workspaceId !== "string" || workspaceId === "") return undefined;
  let reason: string;
  let valid = false;
  try {
    readQueuedEvent(message.body);
    valid = true;
    reason = "handing it to a webhook's lane kept failing until the queue gave up on it";
  } catch (err) {
    reason = `malformed message: ${(err as Error).message}`;
  }
  const id = field(message.body, "id");
  const type = field(message.body, "type");
  const acceptedAt = field(message.body, "acceptedAt");
  let body: string | null = null;
  try {
    body = valid ? JSON.stringify(message.body) : null;
  } catch {
    body = null;
  }
  return {
    workspaceId,
    eventId: typeof id === "string" && id !== "" ? id.slice(0, 200) : `msg_${message.id}`,
    type: typeof type === "string" ? type.slice(0, 100) : "unknown",
    body,
    reason,
    acceptedAt: typeof acceptedAt === "number" && Number.isFinite(acceptedAt) ? new Date(acceptedAt) : null,
    deadAt: new Date(deadAt),
  };
}

/** Records each dead message on its own; one that cannot even be read is logged with its id and acknowledged. */
export async function recordDeadLetters(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const db = openDb(env.DB);
  const now = Date.now();
  await Promise.all(
    batch.messages.map(async (message) => {
      try {
        let body: unknown;
        try {
          body = message.body;
        } catch (err) {
          console.error(`dead letter ${message.id} cannot be read and is dropped:`, err);
          return message.ack();
        }
        const row = deadLetterOf({ id: message.id, body }, now);
        if (!row) {
          console.error(`dead letter ${message.id} names no workspace and is dropped`);
          return message.ack();
        }
        await deadLettersOf(env, db, row.workspaceId, await locationOf(db, row.workspaceId)).record(row, deadLetterCutoff(env, now));
        console.warn(`dead letter recorded: ${row.eventId} of ${row.workspaceId} (${row.reason})`);
        // Keyed by the queue's message id, the same on every redelivery: a retried message raises its alert once.
        await raiseAlert(env, {
          workspaceId: row.workspaceId,
          type: "dead_letter.created",
          key: `${row.eventId}\n${message.id}`,
          at: now,
          data: { eventId: row.eventId, type: row.type, reason: row.reason },
        });
        message.ack();
      } catch (err) {
        console.error(`recording dead letter ${message.id} failed; retried:`, err);
        message.retry();
      }
    }),
  );
  try {
    await purgeDeadLetters(db, deadLetterCutoff(env, now));
  } catch (err) {
    console.error("expiring old dead letters failed:", err);
  }
}
