/** @jsxImportSource hono/jsx */
// Signing in with a workspace API key (rate limited per client address), and out (which ends the session on the server).
import { Hono } from "hono";
import { findActiveKey } from "../../api/auth";
import { openDb } from "../../db/client";
import { CONTINUE_TTL_MS, mintPortalLink, usePortalLink } from "../../db/portal-links";
import { clientAddress, retryAfterSeconds, type LimiterName } from "../../lib/rate-limit";
import { readForm, redirectWith, safeReturn, type Ctx, type PagesEnv } from "../context";
import { BASE, WEBHOOKS } from "../layout";
import { PortalContinuePage } from "../pages/portal-continue";
import { SignInPage } from "../pages/sign-in";
import { RateLimitedPage } from "../pages/rate-limited";
import { readSession, signOut, startSession, takeFlash } from "../session";

export const signInPages = new Hono<PagesEnv>();

/**
 * Counts this request against `limiter` for its client address: the page to answer when the address is over it, else
 * undefined. Called first on every route that takes no credential, so a refused request reads and writes no D1.
 */
export async function limitedByAddress(c: Ctx, limiter: Extract<LimiterName, "SIGN_IN_LIMITER" | "PUBLIC_LIMITER">) {
  const wait = await retryAfterSeconds(c.env, limiter, clientAddress(c.req));
  if (wait === undefined) return undefined;
  const attempts = limiter === "SIGN_IN_LIMITER" ? "sign-in attempts" : "requests";
  return c.html(<RateLimitedPage retryAfterSeconds={wait} attempts={attempts} />, 429, { "Retry-After": String(wait) });
}

const signInLimited = (c: Ctx) => limitedByAddress(c, "SIGN_IN_LIMITER");

signInPages.get("/sign-in", async (c) => {
  const next = safeReturn(c.req.query("next"), WEBHOOKS);
  if (await readSession(c, openDb(c.env.DB), c.get("secret"))) return c.redirect(next, 302);
  return c.html(<SignInPage next={next} flash={await takeFlash(c, c.get("secret"))} />);
});

signInPages.post("/sign-in", async (c) => {
  // Counted per client address before the key is looked at, so guessing keys is slow from anywhere.
  const limited = await signInLimited(c);
  if (limited) return limited;
  const form = await readForm(c);
  const next = safeReturn(form.text("next"), WEBHOOKS);
  const apiKey = form.text("apiKey").trim();
  const found = apiKey ? await findActiveKey(openDb(c.env.DB), apiKey) : undefined;
  if (!found) {
    const error = apiKey ? "That key is not valid, or it was revoked." : "Enter your workspace API key.";
    return c.html(<SignInPage next={next} error={error} />, 401);
  }
  await startSession(c, openDb(c.env.DB), { workspaceId: found.workspace.id, keyId: found.key.id }, c.get("secret"));
  return c.redirect(next, 303);
});

const LINK_SPENT = "That sign-in link was already used or has expired; ask for a new one, or sign in with an API key.";

// A portal link (POST /v1/admin/workspaces/{id}/portal-links) signs its opener in once, with no API key. Its token
// is in the URL, which request logs record (Workers Logs, wrangler), so the first request that carries it past the
// sign-in rate limit spends it, whatever it is answered: a logged token is a spent one, except one a 429 answered,
// which was not looked at (the limit is counted before any D1 read or write) and stays valid until it expires. That
// request answers a page holding a second one-time token, taken only by POST /portal (a form body, never logged).
signInPages.get("/portal/:token", async (c) => {
  const limited = await signInLimited(c);
  if (limited) return limited;
  const db = openDb(c.env.DB);
  const workspaceId = await usePortalLink(db, c.req.param("token"), "link");
  if (!workspaceId) return redirectWith(c, `${BASE}/sign-in`, { kind: "error", text: LINK_SPENT });
  const { token } = await mintPortalLink(db, workspaceId, Date.now(), CONTINUE_TTL_MS, "continue");
  return c.html(<PortalContinuePage token={token} minutes={CONTINUE_TTL_MS / 60_000} />);
});

// The landing page's Continue: its token is spent here by the first POST that carries it past the limit, as the link's was.
signInPages.post("/portal", async (c) => {
  const limited = await signInLimited(c);
  if (limited) return limited;
  const form = await readForm(c);
  const db = openDb(c.env.DB);
  const workspaceId = await usePortalLink(db, form.text("token"), "continue");
  if (!workspaceId) return redirectWith(c, `${BASE}/sign-in`, { kind: "error", text: LINK_SPENT });
  await startSession(c, db, { workspaceId, keyId: null }, c.get("secret"));
  return c.redirect(WEBHOOKS, 303);
});

signInPages.post("/sign-out", async (c) => {
  await signOut(c, openDb(c.env.DB), c.get("secret"));
  return redirectWith(c, `${BASE}/sign-in`, { kind: "success", text: "You are signed out." });
});
