// Where a workspace's dead letters are kept: D1 for a workspace without a data location, else its quota object in
// its jurisdiction (object-store.ts). One interface, so the consumer and the API never ask which.
import { quotaOf, type DataLocation } from "../bindings";
import type { Db } from "../db/client";
import type { DeadLetterRow } from "../db/schema";
import type { Env } from "../env";
import {
  countUnreplayed,
  findDeadLetter,
  listDeadLetters,
  markReplayed,
  recordDeadLetter,
  type DeadLetterPosition,
  type NewDeadLetter,
} from "./store";

export interface DeadLetterStore {
  record(row: NewDeadLetter, cutoff: number): Promise<void>;
  page(query: {
    limit: number;
    before: DeadLetterPosition | undefined;
    notBefore: number;
  }): Promise<{ rows: DeadLetterRow[]; more: boolean; unreplayed: number }>;
  find(eventId: string): Promise<DeadLetterRow | undefined>;
  markReplayed(eventId: string, at: Date): Promise<DeadLetterRow | undefined>;
}

export function deadLettersOf(env: Env, db: Db, workspaceId: string, location: DataLocation | null): DeadLetterStore {
  if (location === null) {
    return {
      // D1's expiry runs once per dead-letter batch (consumer.ts), over every workspace at once.
      record: (row) => recordDeadLetter(db, row),
      page: async (query) => {
        const [page, unreplayed] = await Promise.all([
          listDeadLetters(db, workspaceId, query),
          countUnreplayed(db, workspaceId, query.notBefore),
        ]);
        return { ...page, unreplayed };
      },
      find: (eventId) => findDeadLetter(db, workspaceId, eventId),
      markReplayed: (eventId, at) => markReplayed(db, workspaceId, eventId, at),
    };
  }
  const quota = () => quotaOf(env.WORKSPACE_QUOTA, workspaceId, location);
  return {
    record: (row, cutoff) => quota().keepDeadLetter(row, cutoff),
    page: (query) => quota().deadLetterPage(workspaceId, query),
    find: (eventId) => quota().deadLetter(workspaceId, eventId),
    markReplayed: (eventId, at) => quota().markDeadLetterReplayed(workspaceId, eventId, at.getTime()),
  };
}
