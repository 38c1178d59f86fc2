// One-time portal links: minted for a workspace by the operator, spent by the first request that carries one,
// which answers a page holding a second one-time token (`continue`) that only a POST takes: the link's token
// reaches logs (its URL) only once spent, and the token that signs in is never in a URL.
import { and, eq, gt, isNull, lt } from "drizzle-orm";
import { hashApiKey } from "../lib/secrets";
import type { Db } from "./client";
import { portalLinks } from "./schema";

/** 32 random bytes, base64url: the link's secret part. Only its SHA-256 is stored. */
function newToken(): string {
  return crypto.getRandomValues(new Uint8Array(32)).toBase64({ alphabet: "base64url", omitPadding: true });
}

export type PortalTokenPurpose = "link" | "continue";

/** How long the landing page's Continue button works: a person reads one line and presses it. */
export const CONTINUE_TTL_MS = 10 * 60_000;

/** Stores a new token for the workspace, valid `ttlMs`; answers the token (for a link's URL, or a page's form). */
export async function mintPortalLink(
  db: Db,
  workspaceId: string,
  now: number,
  ttlMs: number,
  purpose: PortalTokenPurpose = "link",
): Promise<{ token: string; expiresAt: Date }> {
  const token = newToken();
  const expiresAt = new Date(now + ttlMs);
  // Tokens past their expiry are of no use: each new one sweeps them.
  await db.batch([
    db.delete(portalLinks).where(lt(portalLinks.expiresAt, new Date(now))),
    db.insert(portalLinks).values({ tokenHash: await hashApiKey(token), purpose, workspaceId, createdAt: new Date(now), expiresAt }),
  ]);
  return { token, expiresAt };
}

/**
 * Spends a token, once, whatever it is for: the workspace it opens when it is of `purpose`, else undefined (unknown,
 * used, expired, or of the other purpose: spent all the same). Whatever the caller answers next, it is spent.
 */
export async function usePortalLink(db: Db, token: string, purpose: PortalTokenPurpose = "link"): Promise<string | undefined> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
  const now = new Date();
  // One conditional write: two openers racing get one session between them.
  const [used] = await db
    .update(portalLinks)
    .set({ usedAt: now })
    .where(and(eq(portalLinks.tokenHash, await hashApiKey(token)), isNull(portalLinks.usedAt), gt(portalLinks.expiresAt, now)))
    .returning({ workspaceId: portalLinks.workspaceId, purpose: portalLinks.purpose });
  return used?.purpose === purpose ? used.workspaceId : undefined;
}
