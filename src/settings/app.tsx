/** @jsxImportSource hono/jsx */
// The settings pages, mounted at /settings: security headers, assets, CSRF and the session guard around the
// routes of each page (routes/). Every read and change goes through the public API in-process (fetchApi).
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { csrf } from "hono/csrf";
import { HTTPException } from "hono/http-exception";
import { secureHeaders } from "hono/secure-headers";
import { readConfig, SESSION_SECRET_HELP } from "../config";
import { limitsOf } from "../lib/limits";
import { openDb } from "../db/client";
import type { Env } from "../env";
import { malformedEscape } from "../lib/malformed-url";
import { emailStatusOf } from "../notification-email/confirmation";
import { apiClient, type ApiFetch } from "./api-client";
import { SCRIPT, STYLESHEET } from "./assets";
import { redirectWith, type PagesEnv } from "./context";
import { BASE, Layout, WEBHOOKS, webhookCrumbs } from "./layout";
import { NotFoundPage } from "./pages/not-found";
import { MalformedUrlPage, TooLargePage } from "./pages/refused";
import { SignInPage } from "./pages/sign-in";
import { alertPages } from "./routes/alerts";
import { confirmEmailPages } from "./routes/confirm-email";
import { signInPages } from "./routes/sign-in";
import { webhookDetailPages } from "./routes/webhook-page";
import { webhookPages } from "./routes/webhooks";
import { endSession, readSession, sessionSigningKey } from "./session";

const FORM_TYPES = /^(application\/x-www-form-urlencoded|multipart\/form-data)\b/i;

/** The largest body a settings form may send: the biggest form (a webhook's, headers and filter included) is far less. */
export const MAX_FORM_BYTES = 64 * 1024;

/** Whether this isolate has already logged that SESSION_SECRET is missing: one line, not one per request. */
let toldSessionSecretMissing = false;

/** CSP frame-ancestors: the origins PORTAL_FRAME_ANCESTORS lists, else none. */
function frameAncestorsOf(env: Env): string[] {
  const origins = readConfig(env).portalFrameAncestors;
  return origins.length > 0 ? origins : ["'none'"];
}

export function settingsPages(fetchApi: ApiFetch) {
  const pages = new Hono<PagesEnv>();

  // Everything the pages load comes from this Worker: no CDN, no font, no inline script or style.
  pages.use(
    "*",
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        // No framing, unless the operator lists the origins of a platform that embeds the pages (PORTAL_FRAME_ANCESTORS).
        frameAncestors: [(c) => frameAncestorsOf(c.env as Env).join(" ")],
        baseUri: ["'none'"],
      },
      referrerPolicy: "same-origin",
      crossOriginEmbedderPolicy: false,
      // Set below: DENY without framing; left out with it (CSP frame-ancestors is the rule browsers follow).
      xFrameOptions: false,
    }),
  );
  pages.use("*", async (c, next) => {
    await next();
    if (readConfig(c.env).portalFrameAncestors.length === 0) c.header("X-Frame-Options", "DENY");
  });

  // Before anything reads the URL or the body: an escape that does not decode, or a body over the limit (checked from
  // content-length, or counted as it streams in when there is none), is refused with a page and nothing is read.
  pages.use("*", async (c, next) => (malformedEscape(c.req.url) === undefined ? next() : c.html(<MalformedUrlPage />, 400)));
  pages.use("*", bodyLimit({ maxSize: MAX_FORM_BYTES, onError: (c) => c.html(<TooLargePage maxKiB={MAX_FORM_BYTES / 1024} />, 413) }));

  pages.get("/assets/settings.css", (c) =>
    c.body(STYLESHEET, 200, { "content-type": "text/css; charset=utf-8", "cache-control": "public, max-age=86400" }),
  );
  pages.get("/assets/settings.js", (c) =>
    c.body(SCRIPT, 200, { "content-type": "text/javascript; charset=utf-8", "cache-control": "public, max-age=86400" }),
  );

  // Pages show workspace data and one-time secrets: never cached.
  pages.use("*", async (c, next) => {
    await next();
    if (!c.req.path.startsWith(`${BASE}/assets/`)) c.header("cache-control", "no-store");
  });
  // Hono's CSRF guard (Origin / Sec-Fetch-Site must be this origin), on top of SameSite=Strict cookies. It only looks
  // at form-like bodies, so every other body is refused here: the pages post nothing but forms.
  pages.use("*", csrf());
  pages.use("*", async (c, next) => {
    if (c.req.method === "POST" && !FORM_TYPES.test(c.req.header("content-type") ?? "")) return c.text("Unsupported Media Type", 415);
    return next();
  });
  // Confirming an address needs no session (nor SESSION_SECRET): it works whatever the pages' sign-in can do.
  pages.route("/", confirmEmailPages);
  pages.use("*", async (c, next) => {
    const secret = sessionSigningKey(c.env);
    if (!secret) {
      if (!toldSessionSecretMissing) {
        toldSessionSecretMissing = true;
        console.error(`settings pages: nobody can sign in until the operator ${SESSION_SECRET_HELP}`);
      }
      return c.html(
        <SignInPage
          next={WEBHOOKS}
          unavailable={`Signing in is switched off: the operator has not set SESSION_SECRET, the secret that signs the pages' sessions. To switch it on, ${SESSION_SECRET_HELP}. The API is not affected.`}
        />,
        503,
      );
    }
    c.set("secret", secret);
    return next();
  });

  pages.get("/", (c) => c.redirect(WEBHOOKS, 302));
  pages.route("/", signInPages);

  // Everything else needs a session; the API is then called as its workspace.
  pages.use("/integrations/*", async (c, next) => {
    const signedIn = await readSession(c, openDb(c.env.DB), c.get("secret"));
    if (!signedIn) {
      endSession(c);
      if (c.req.method === "GET")
        return c.redirect(`${BASE}/sign-in?next=${encodeURIComponent(c.req.path + (new URL(c.req.url).search || ""))}`, 302);
      return redirectWith(c, `${BASE}/sign-in`, { kind: "error", text: "Your session has ended; sign in again. Nothing was changed." });
    }
    const { workspace } = signedIn;
    c.set("workspace", {
      id: workspace.id,
      name: workspace.name,
      notificationEmail: workspace.notificationEmail ?? null,
      notificationEmailStatus: emailStatusOf(workspace),
      limits: limitsOf(workspace.limits),
    });
    c.set("api", apiClient(fetchApi, c.env, c.executionCtx, signedIn.workspace));
    return next();
  });
  // The list's routes first: its /new must win over a webhook's /:id.
  pages.route("/", webhookPages);
  pages.route("/", webhookDetailPages);
  pages.route("/", alertPages);

  pages.get("/*", (c) => c.html(<NotFoundPage />, 404));

  pages.onError((err, c) => {
    // csrf() refuses a post from another site with a bare 403: say what happened, in the pages' own words.
    if (err instanceof HTTPException && err.status === 403) {
      return c.html(
        <Layout title="Request refused" crumbs={webhookCrumbs({ label: "Refused" })}>
          <h1>Request refused</h1>
          <p>
            This form was sent from another site (or its origin could not be checked), so nothing was changed. Open the page here and try
            again.
          </p>
          <p>
            <a href={WEBHOOKS}>Back to Webhooks</a>
          </p>
        </Layout>,
        403,
      );
    }
    if (err instanceof HTTPException) return err.getResponse();
    console.error("settings page error:", err);
    return c.html(
      <Layout title="Something went wrong" crumbs={webhookCrumbs({ label: "Error" })}>
        <h1>Something went wrong</h1>
        <p>The page could not be shown. Nothing was changed by this error; try again in a moment.</p>
        <p>
          <a href={WEBHOOKS}>Back to Webhooks</a>
        </p>
      </Layout>,
      500,
    );
  });

  return pages;
}
