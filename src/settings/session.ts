// The settings pages' session: a signed, HttpOnly, SameSite=Strict cookie naming a session row in D1 (which names
// the API key that signed in, by id, never the key itself), plus a one-shot signed flash message for the page after
// a redirect. Signing out ends the row, so a copy of the cookie is worthless afterwards.
import { and, eq, gt, isNull, lt, or } from "drizzle-orm";
import type { Context } from "hono";
import { deleteCookie, getCookie, getSignedCookie, setSignedCookie } from "hono/cookie";
import type { CookieOptions } from "hono/utils/cookie";
import type { Db } from "../db/client";
import { apiKeys, sessions, workspaces, type WorkspaceRow } from "../db/schema";
import { readConfig } from "../config";
import type { Env } from "../env";
import { newId } from "../lib/ids";

export const SESSION_HOURS = 12;
const FLASH_SECONDS = 60;
/**
 * The key that signs session cookies: the SESSION_SECRET secret, and nothing else (a key derived from ADMIN_TOKEN
 * would hand every signed-in workspace material to guess the admin token offline). Undefined when it is not set:
 * then nobody can sign in (`npm run dev` sets one).
 */
export function sessionSigningKey(env: Env): string | undefined {
  return env.SESSION_SECRET || undefined;
}

/**
 * Over https the cookies get the `__Host-` prefix (Secure, no Domain); a plain-http local run (127.0.0.1) cannot use it.
 * SameSite=Strict, except where the pages may be framed (PORTAL_FRAME_ANCESTORS, over https): a cookie in a frame on
 * another site is third-party, so it must be SameSite=None; CSRF stays covered by the Origin check on every post.
 */
function cookieOptions(c: Context): CookieOptions {
  const secure = new URL(c.req.url).protocol === "https:";
  const framed = secure && readConfig(c.env as Env).portalFrameAncestors.length > 0;
  return { path: "/", httpOnly: true, sameSite: framed ? "None" : "Strict", secure, ...(secure ? { prefix: "host" as const } : {}) };
}

const SESSION = "ew_session";
const FLASH = "ew_flash";

export interface SignedIn {
  /** The key that signed in; null for a session a portal link opened. */
  keyId: string | null;
  workspace: WorkspaceRow;
}

/** A session cookie's value: the session id and its expiry in unix seconds, nothing else. */
const SESSION_VALUE = /^(ses_[0-9a-z]{26})\.([1-9][0-9]{9,11})$/;

/** Opens a session for a workspace, signed in with one of its keys or (keyId null) by a portal link. */
export async function startSession(c: Context, db: Db, who: { workspaceId: string; keyId: string | null }, secret: string): Promise<void> {
  const now = Date.now();
  const expires = Math.floor(now / 1000) + SESSION_HOURS * 3600;
  const id = newId("ses");
  // Ended and expired sessions are of no use to anyone: each sign-in sweeps the ones past their expiry.
  await db.batch([
    db.delete(sessions).where(lt(sessions.expiresAt, new Date(now))),
    db
      .insert(sessions)
      .values({ id, workspaceId: who.workspaceId, keyId: who.keyId, createdAt: new Date(now), expiresAt: new Date(expires * 1000) }),
  ]);
  await setSignedCookie(c, SESSION, `${id}.${expires}`, secret, { ...cookieOptions(c), maxAge: SESSION_HOURS * 3600 });
}

/** The session id a validly signed, well-formed, unexpired cookie names; undefined otherwise. */
async function sessionIdOf(c: Context, secret: string): Promise<string | undefined> {
  const value = await getSignedCookie(c, secret, SESSION, cookieOptions(c).prefix);
  const match = typeof value === "string" ? SESSION_VALUE.exec(value) : null;
  if (!match || Number(match[2]) * 1000 <= Date.now()) return undefined;
  return match[1];
}

/**
 * The signed-in key and its workspace, or undefined: no cookie, a bad signature, a malformed or past expiry, a
 * session signed out (or unknown), or a key revoked since (so revoking a key also ends its sessions).
 */
export async function readSession(c: Context, db: Db, secret: string): Promise<SignedIn | undefined> {
  const id = await sessionIdOf(c, secret);
  if (!id) return undefined;
  const [found] = await db
    .select({ keyId: sessions.keyId, workspace: workspaces })
    .from(sessions)
    .innerJoin(workspaces, eq(workspaces.id, sessions.workspaceId))
    .leftJoin(apiKeys, eq(apiKeys.id, sessions.keyId))
    // A key's session ends with the key; a portal link's has no key to revoke.
    .where(
      and(
        eq(sessions.id, id),
        isNull(sessions.endedAt),
        gt(sessions.expiresAt, new Date()),
        or(isNull(sessions.keyId), isNull(apiKeys.revokedAt)),
      ),
    )
    .limit(1);
  return found ? { keyId: found.keyId, workspace: found.workspace } : undefined;
}

/** Signing out: the session ends on the server, then the cookie is cleared. */
export async function signOut(c: Context, db: Db, secret: string): Promise<void> {
  const id = await sessionIdOf(c, secret);
  if (id) await db.update(sessions).set({ endedAt: new Date() }).where(eq(sessions.id, id));
  endSession(c);
}

/** Clears the session cookie, if the browser sent one. */
export function endSession(c: Context): void {
  const options = cookieOptions(c);
  if (getCookie(c, SESSION, options.prefix) !== undefined) deleteCookie(c, SESSION, options);
}

export interface Flash {
  kind: "success" | "error";
  text: string;
}

/** A message for the next page, after a redirect (post/redirect/get). */
export async function setFlash(c: Context, flash: Flash, secret: string): Promise<void> {
  await setSignedCookie(c, FLASH, JSON.stringify(flash), secret, { ...cookieOptions(c), maxAge: FLASH_SECONDS });
}

/** Reads the flash message once and clears it. */
export async function takeFlash(c: Context, secret: string): Promise<Flash | undefined> {
  const options = cookieOptions(c);
  const value = await getSignedCookie(c, secret, FLASH, options.prefix);
  if (value === undefined) return undefined;
  deleteCookie(c, FLASH, options);
  if (!value) return undefined;
  try {
    const parsed = JSON.parse(value) as Flash;
    return parsed.kind === "success" || parsed.kind === "error" ? { kind: parsed.kind, text: String(parsed.text) } : undefined;
  } catch {
    return undefined;
  }
}
