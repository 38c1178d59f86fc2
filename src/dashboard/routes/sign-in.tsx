/** @jsxImportSource hono/jsx */
// Signing in with a workspace API key, and out.
import { Hono } from "hono";
import { findActiveKey } from "../../api/auth";
import { openDb } from "../../db/client";
import { readForm, redirectWith, safeReturn, type PagesEnv } from "../context";
import { BASE, WEBHOOKS } from "../layout";
import { SignInPage } from "../pages/sign-in";
import { endSession, readSession, startSession, takeFlash } from "../session";

export const signInRoutes = new Hono<PagesEnv>();

signInRoutes.get("/sign-in", async (c) => {
  const next = safeReturn(c.req.query("next"), WEBHOOKS);
  if (await readSession(c, openDb(c.env.DB), c.get("secret"))) return c.redirect(next, 302);
  return c.html(<SignInPage next={next} flash={await takeFlash(c, c.get("secret"))} />);
});

signInRoutes.post("/sign-in", async (c) => {
  const form = await readForm(c);
  const next = safeReturn(form.text("next"), WEBHOOKS);
  const apiKey = form.text("apiKey").trim();
  const found = apiKey ? await findActiveKey(openDb(c.env.DB), apiKey) : undefined;
  if (!found) {
    const error = apiKey ? "That key is not valid, or it was revoked." : "Enter your workspace API key.";
    return c.html(<SignInPage next={next} error={error} />, 401);
  }
  await startSession(c, found.key.id, c.get("secret"));
  return c.redirect(next, 303);
});

signInRoutes.post("/sign-out", async (c) => {
  endSession(c);
  return redirectWith(c, `${BASE}/sign-in`, { kind: "success", text: "You are signed out." });
});
