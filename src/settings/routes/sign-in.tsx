/** @jsxImportSource hono/jsx */
// Signing in with a workspace API key (rate limited per client address), and out (which ends the session on the server).
import { Hono } from "hono";
import { findActiveKey } from "../../api/auth";
import { openDb } from "../../db/client";
import { usePortalLink } from "../../db/portal-links";
import { retryAfterSeconds } from "../../lib/rate-limit";
import { readForm, redirectWith, safeReturn, type Ctx, type PagesEnv } from "../context";
import { BASE, WEBHOOKS } from "../layout";
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

// A portal link (POST /v1/admin/workspaces/{id}/portal-links) signs its opener in once, with no API key; a used or
// expired one leads to the sign-in page. Rate limited like sign-in, since the token is what is guessed.
signInPages.get("/portal/:token", async (c) => {
  const limited = await signInLimited(c);
  if (limited) return limited;
  const db = openDb(c.env.DB);
  const workspaceId = await usePortalLink(db, c.req.param("token"));
  if (!workspaceId) {
    return redirectWith(c, `${BASE}/sign-in`, { kind: "error", text: "That sign-in link was already used or has expired; ask for a new one, or sign in with an API key." });
  }
  await startSession(c, db, { workspaceId, keyId: null }, c.get("secret"));
  return c.redirect(WEBHOOKS, 303);
});

signInPages.post("/sign-out", async (c) => {
  await signOut(c, openDb(c.env.DB), c.get("secret"));
  return redirectWith(c, `${BASE}/sign-in`, { kind: "success", text: "You are signed out." });
});
