/** @jsxImportSource hono/jsx */
// Signing in with a workspace API key (rate limited per client address), and out (which ends the session on the server).
import { Hono } from "hono";
import { findActiveKey } from "../../api/auth";
import { openDb } from "../../db/client";
import { CONTINUE_TTL_MS, mintPortalLink, usePortalLink } from "../../db/portal-links";
import { retryAfterSeconds } from "../../lib/rate-limit";
import { readForm, redirectWith, safeReturn, type Ctx, type PagesEnv } from "../context";
import { BASE, WEBHOOKS } from "../layout";
import { PortalContinuePage } from "../pages/portal-continue";
import { SignInPage } from "../pages/sign-in";
import { RateLimitedPage } from "../pages/rate-limited";
import { readSession, signOut, startSession, takeFlash } from "../session";

export const signInPages = new Hono<PagesEnv>();

/** SIGN_IN_LIMITER, per client address: the page to answer when this address is over it, else undefined. */
async function signInLimited(c: Ctx): Promise<Response | undefined> {
  const wait = await retryAfterSeconds(c.env, "SIGN_IN_LIMITER", c.req.header("cf-connecting-ip") ?? "unknown");
  return wait === undefined ? undefined : c.html(<RateLimitedPage retryAfterSeconds={wait} />, 429, { "Retry-After": String(wait) });
}

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
// is in the URL, which request logs record (Workers Logs, wrangler), so the first request that carries it spends
// it, whatever it is answered (the sign-in rate limit's 429 included): a logged token is a spent one. That request
// answers a page holding a second one-time token, taken only by POST /portal (a form body, never logged).
signInPages.get("/portal/:token", async (c) => {
  const limited = await signInLimited(c);
  const db = openDb(c.env.DB);
  const workspaceId = await usePortalLink(db, c.req.param("token"), "link");
  if (limited) return limited;
  if (!workspaceId) return redirectWith(c, `${BASE}/sign-in`, { kind: "error", text: LINK_SPENT });
  const { token } = await mintPortalLink(db, workspaceId, Date.now(), CONTINUE_TTL_MS, "continue");
  return c.html(<PortalContinuePage token={token} minutes={CONTINUE_TTL_MS / 60_000} />);
});

// The landing page's Continue: its token is spent here by the first POST that carries it, as the link's was.
signInPages.post("/portal", async (c) => {
  const form = await readForm(c);
  const limited = await signInLimited(c);
  const db = openDb(c.env.DB);
  const workspaceId = await usePortalLink(db, form.text("token"), "continue");
  if (limited) return limited;
  if (!workspaceId) return redirectWith(c, `${BASE}/sign-in`, { kind: "error", text: LINK_SPENT });
  await startSession(c, db, { workspaceId, keyId: null }, c.get("secret"));
  return c.redirect(WEBHOOKS, 303);
});

signInPages.post("/sign-out", async (c) => {
  await signOut(c, openDb(c.env.DB), c.get("secret"));
  return redirectWith(c, `${BASE}/sign-in`, { kind: "success", text: "You are signed out." });
});
