/** @jsxImportSource hono/jsx */
// Confirming a workspace's notification address from its emailed link, with no session: GET shows the address and a
// Confirm button (changing nothing), the button's POST confirms it once. Both are limited per client address
// (PUBLIC_LIMITER) before they read D1.
import { Hono } from "hono";
import { openDb } from "../../db/client";
import { confirmAddress, pendingAddress } from "../../notification-email/confirmation";
import { readForm, type PagesEnv } from "../context";
import { ConfirmEmailPage, ConfirmLinkInvalidPage, EmailConfirmedPage } from "../pages/confirm-email";
import { limitedByAddress } from "./sign-in";

export const confirmEmailPages = new Hono<PagesEnv>();

confirmEmailPages.get("/confirm-email/:token", async (c) => {
  const limited = await limitedByAddress(c, "PUBLIC_LIMITER");
  if (limited) return limited;
  const token = c.req.param("token");
  const address = await pendingAddress(openDb(c.env.DB), token);
  if (!address) return c.html(<ConfirmLinkInvalidPage />, 404);
  return c.html(<ConfirmEmailPage token={token} address={address} />);
});

confirmEmailPages.post("/confirm-email", async (c) => {
  const limited = await limitedByAddress(c, "PUBLIC_LIMITER");
  if (limited) return limited;
  const address = await confirmAddress(openDb(c.env.DB), (await readForm(c)).text("token"));
  if (!address) return c.html(<ConfirmLinkInvalidPage />, 404);
  return c.html(<EmailConfirmedPage address={address} />);
});
