// One-time portal links: minted for a workspace by the operator, used once to open a settings session.
import { and, eq, gt, isNull, lt } from "drizzle-orm";
import { hashApiKey } from "../lib/secrets";
import type { Db } from "./client";
import { portalLinks } from "./schema";

/** 32 random bytes, base64url: the link's secret part. Only its SHA-256 is stored. */
function newToken(): string {
  return crypto.getRandomValues(new Uint8Array(32)).toBase64({ alphabet: "base64url", omitPadding: true });
}

/** Stores a new link for the workspace, valid `ttlMs`; answers the token to put in its URL. */
export async function mintPortalLink(db: Db, workspaceId: string, now: number, ttlMs: number): Promise<{ token: string; expiresAt: Date }> {
  const token = newToken();
  const expiresAt = new Date(now + ttlMs);
  // Links past their expiry are of no use: each new one sweeps them.
  await db.batch([
    db.delete(portalLinks).where(lt(portalLinks.expiresAt, new Date(now))),
    db.insert(portalLinks).values({ tokenHash: await hashApiKey(token), workspaceId, createdAt: new Date(now), expiresAt }),
  ]);
  return { token, expiresAt };
}

/** Uses a link, once: the workspace it opens, or undefined when it is unknown, used or expired. */
export async function usePortalLink(db: Db, token: string): Promise<string | undefined> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
  const now = new Date();
  // One conditional write: two openers racing get one session between them.
  const [used] = await db
    .update(portalLinks)
    .set({ usedAt: now })
    .where(and(eq(portalLinks.tokenHash, await hashApiKey(token)), isNull(portalLinks.usedAt), gt(portalLinks.expiresAt, now)))
    .returning({ workspaceId: portalLinks.workspaceId });
  return used?.workspaceId;
}
