/** @jsxImportSource hono/jsx */
// The settings pages' routes, mounted at /settings: sign-in, Integrations > Webhooks and a webhook's page.
// Every change goes through the public API in-process, so its rules and messages are the forms' rules and messages.
import { Hono, type Context } from "hono";
import { csrf } from "hono/csrf";
import { HTTPException } from "hono/http-exception";
import { secureHeaders } from "hono/secure-headers";
import { findActiveKey } from "../api/auth";
import { readConfig } from "../config";
import { retryAfterSeconds } from "../lib/rate-limit";
import { openDb } from "../db/client";
import type { Env } from "../env";
import { apiClient, type ApiClient, type ApiError, type ApiFetch } from "./api-client";
import { SCRIPT, STYLESHEET } from "./assets";
import { webhookPath } from "./components";
import { DEAD_LETTER_REPLAY_ROUTE } from "./dead-letters-banner";
import { eventName, formatDuration, isoToUtcInput, utcInputToIso } from "./format";
import { BASE, Layout, WEBHOOKS, webhookCrumbs } from "./layout";
import type { Attempt, DeadLetterPage, Delivery, DeliveryPage, Quota, RecoverResult, Webhook, WebhookWithSecret, Workspace } from "./model";
import { DeleteWebhookPage } from "./pages/delete";
import { RateLimitedPage } from "./pages/rate-limited";
import { SecretPage } from "./pages/secret";
import { SignInPage } from "./pages/sign-in";
import { WebhookDetailPage, type DetailForms, type LogFilters } from "./pages/webhook-detail";
import { WebhookFormPage, type WebhookFormValues } from "./pages/webhook-form";
import { WebhookListPage } from "./pages/webhook-list";
import { endSession, readSession, sessionSigningKey, setFlash, signOut, startSession, takeFlash, type Flash } from "./session";

interface PagesEnv {
  Bindings: Env;
  Variables: {
    /** The cookie-signing key (see sessionSigningKey). */
    secret: string;
    api: ApiClient;
    workspace: Workspace;
  };
}
type Ctx = Context<PagesEnv>;

const LOG_PAGE_SIZE = 20;
const FORM_TYPES = /^(application\/x-www-form-urlencoded|multipart\/form-data)\b/i;

/**
 * Only a path inside the settings pages may be a redirect target: no open redirect through `next` or `back`. The
 * value is resolved as a browser would (dot segments, percent-encoded dots) and must still be under /settings/;
 * the resolved path is what is returned, so the browser cannot read it differently.
 */
function safeReturn(value: unknown, fallback: string): string {
  if (typeof value !== "string" || !value.startsWith("/") || value.startsWith("//") || /[\\\s\x00-\x1f\x7f]/.test(value)) return fallback;
  const origin = "http://settings.invalid";
  const url = URL.parse(value, origin);
  if (!url || url.origin !== origin || !url.pathname.startsWith(`${BASE}/`) || /%2f|%5c/i.test(url.pathname)) return fallback;
  return url.pathname + url.search;
}

async function readForm(c: Ctx) {
  const body = await c.req.parseBody({ all: true });
  const text = (name: string) => {
    const value = body[name];
    const first = Array.isArray(value) ? value[0] : value;
    return typeof first === "string" ? first : "";
  };
  const list = (name: string) => {
    const value = body[name];
    return (Array.isArray(value) ? value : value === undefined ? [] : [value]).filter((v): v is string => typeof v === "string");
  };
  return { text, list };
}

async function redirectWith(c: Ctx, to: string, flash: Flash) {
  await setFlash(c, flash, c.get("secret"));
  return c.redirect(to, 303);
}

function problem(error: ApiError): Flash {
  return { kind: "error", text: error.message };
}

function attemptSummary(attempt: Attempt | undefined): string {
  if (!attempt) return "no attempt was made";
  const what = attempt.statusCode === null ? (attempt.error ?? "no response") : `HTTP ${attempt.statusCode}`;
  const why = attempt.statusCode !== null && attempt.error ? ` (${attempt.error})` : "";
  return `${what}${why} in ${formatDuration(attempt.durationMs)}`;
}

const NotFoundPage = ({ workspace }: { workspace?: Workspace | undefined }) => (
  <Layout title="Not found" workspaceName={workspace?.name} crumbs={webhookCrumbs({ label: "Not found" })}>
    <h1>Not found</h1>
    <p>There is no such page or webhook in this workspace.</p>
    <p>
      <a href={WEBHOOKS}>Back to Webhooks</a>
    </p>
  </Layout>
);

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
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
      referrerPolicy: "same-origin",
      crossOriginEmbedderPolicy: false,
    }),
  );

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
  pages.use("*", async (c, next) => {
    const secret = await sessionSigningKey(c.env);
    if (!secret) {
      return c.html(
        <SignInPage
          next={WEBHOOKS}
          unavailable="The settings pages are switched off: the operator has set neither SESSION_SECRET nor ADMIN_TOKEN (see the README)."
        />,
        503,
      );
    }
    c.set("secret", secret);
    return next();
  });

  pages.get("/", (c) => c.redirect(WEBHOOKS, 302));

  pages.get("/sign-in", async (c) => {
    const next = safeReturn(c.req.query("next"), WEBHOOKS);
    if (await readSession(c, openDb(c.env.DB), c.get("secret"))) return c.redirect(next, 302);
    return c.html(<SignInPage next={next} flash={await takeFlash(c, c.get("secret"))} />);
  });

  pages.post("/sign-in", async (c) => {
    // Counted per client address before the key is looked at, so guessing keys is slow from anywhere.
    const wait = await retryAfterSeconds(c.env, "SIGN_IN_LIMITER", c.req.header("cf-connecting-ip") ?? "unknown");
    if (wait !== undefined) return c.html(<RateLimitedPage retryAfterSeconds={wait} />, 429, { "Retry-After": String(wait) });
    const form = await readForm(c);
    const next = safeReturn(form.text("next"), WEBHOOKS);
    const apiKey = form.text("apiKey").trim();
    const found = apiKey ? await findActiveKey(openDb(c.env.DB), apiKey) : undefined;
    if (!found) {
      const error = apiKey ? "That key is not valid, or it was revoked." : "Enter your workspace API key.";
      return c.html(<SignInPage next={next} error={error} />, 401);
    }
    await startSession(c, openDb(c.env.DB), found.key.id, c.get("secret"));
    return c.redirect(next, 303);
  });

  pages.post("/sign-out", async (c) => {
    await signOut(c, openDb(c.env.DB), c.get("secret"));
    return redirectWith(c, `${BASE}/sign-in`, { kind: "success", text: "You are signed out." });
  });

  // Everything else needs a session; the API is then called as its workspace.
  pages.use("/integrations/*", async (c, next) => {
    const signedIn = await readSession(c, openDb(c.env.DB), c.get("secret"));
    if (!signedIn) {
      endSession(c);
      if (c.req.method === "GET")
        return c.redirect(`${BASE}/sign-in?next=${encodeURIComponent(c.req.path + (new URL(c.req.url).search || ""))}`, 302);
      return redirectWith(c, `${BASE}/sign-in`, { kind: "error", text: "Your session has ended; sign in again. Nothing was changed." });
    }
    c.set("workspace", { id: signedIn.workspace.id, name: signedIn.workspace.name, notificationEmail: signedIn.workspace.notificationEmail ?? null });
    c.set("api", apiClient(fetchApi, c.env, c.executionCtx, signedIn.workspace));
    return next();
  });

  const api = (c: Ctx) => c.get("api");
  const quotaOf = async (c: Ctx) => {
    const quota = await api(c).get<Quota>("/v1/quota");
    return quota.ok ? quota.data : undefined;
  };

  pages.get("/integrations/webhooks", async (c) => {
    const [list, quota, deadLetters] = await Promise.all([
      api(c).get<{ data: Webhook[] }>("/v1/webhooks"),
      quotaOf(c),
      api(c).get<DeadLetterPage>("/v1/dead-letters", { limit: "10" }),
    ]);
    if (!list.ok) throw new Error(`listing webhooks: ${list.error.message}`);
    return c.html(
      <WebhookListPage
        workspace={c.get("workspace")}
        webhooks={list.data.data}
        quota={quota}
        deadLetters={deadLetters.ok ? deadLetters.data : undefined}
        flash={await takeFlash(c, c.get("secret"))}
      />,
    );
  });

  pages.post(DEAD_LETTER_REPLAY_ROUTE, async (c) => {
    const eventId = c.req.param("eventId");
    const back = safeReturn((await readForm(c)).text("back"), WEBHOOKS);
    const replayed = await api(c).post<unknown>(`/v1/dead-letters/${encodeURIComponent(eventId)}/replay`);
    if (!replayed.ok) return redirectWith(c, back, problem(replayed.error));
    return redirectWith(c, back, { kind: "success", text: `Event ${eventId} was sent through again; its webhooks' logs will show it.` });
  });

  const formPage = (c: Ctx, form: { values: WebhookFormValues; webhookId?: string; error?: ApiError }, status: 200 | 400 = 200) =>
    c.html(<WebhookFormPage workspaceName={c.get("workspace").name} timeoutMs={readConfig(c.env).deliveryTimeoutMs} {...form} />, status);

  pages.get("/integrations/webhooks/new", (c) => formPage(c, { values: { url: "", events: [], description: "" } }));

  const webhookInput = async (c: Ctx): Promise<WebhookFormValues> => {
    const form = await readForm(c);
    // Always a list, even empty, so "no events" gets the API's own "at least one" message.
    return { url: form.text("url").trim(), events: form.list("events"), description: form.text("description") };
  };

  pages.post("/integrations/webhooks", async (c) => {
    const values = await webhookInput(c);
    const created = await api(c).post<WebhookWithSecret>("/v1/webhooks", values);
    if (!created.ok) return formPage(c, { values, error: created.error }, 400);
    const { secret, ...webhook } = created.data;
    return c.html(<SecretPage workspaceName={c.get("workspace").name} webhook={webhook} secret={secret} rotated={false} />, 201);
  });

  /** The webhook, or a response for when it is not this workspace's. */
  const loadWebhook = async (c: Ctx, id: string): Promise<Webhook | Response> => {
    const found = await api(c).get<Webhook>(`/v1/webhooks/${encodeURIComponent(id)}`);
    if (found.ok) return found.data;
    return c.html(<NotFoundPage workspace={c.get("workspace")} />, 404);
  };

  const renderDetail = async (c: Ctx, webhook: Webhook, filters: LogFilters, forms: DetailForms, status: 200 | 400 = 200) => {
    const [log, quota, workspace] = await Promise.all([
      api(c).get<DeliveryPage>(`/v1/webhooks/${encodeURIComponent(webhook.id)}/deliveries`, { ...filters, limit: String(LOG_PAGE_SIZE) }),
      quotaOf(c),
      api(c).get<Workspace>("/v1/workspace"),
    ]);
    // The failures that led to a disable came before it, so "since" starts an hour earlier; otherwise the last day.
    const sinceMs = webhook.disabledAt ? Date.parse(webhook.disabledAt) - 3600_000 : Date.now() - 24 * 3600_000;
    const defaultSince = isoToUtcInput(new Date(sinceMs).toISOString());
    return c.html(
      <WebhookDetailPage
        workspace={workspace.ok ? workspace.data : c.get("workspace")}
        webhook={webhook}
        quota={quota}
        log={log.ok ? log.data : log.error}
        filters={filters}
        forms={forms}
        defaultSince={defaultSince}
        flash={await takeFlash(c, c.get("secret"))}
      />,
      status,
    );
  };

  pages.get("/integrations/webhooks/:id", async (c) => {
    const webhook = await loadWebhook(c, c.req.param("id"));
    if (webhook instanceof Response) return webhook;
    const filters: LogFilters = {
      status: c.req.query("status") || undefined,
      type: c.req.query("type") || undefined,
      cursor: c.req.query("cursor") || undefined,
    };
    return renderDetail(c, webhook, filters, {});
  });

  pages.get("/integrations/webhooks/:id/edit", async (c) => {
    const webhook = await loadWebhook(c, c.req.param("id"));
    if (webhook instanceof Response) return webhook;
    return formPage(c, { values: webhook, webhookId: webhook.id });
  });

  pages.post("/integrations/webhooks/:id", async (c) => {
    const id = c.req.param("id");
    const values = await webhookInput(c);
    const updated = await api(c).patch<Webhook>(`/v1/webhooks/${encodeURIComponent(id)}`, values);
    if (updated.ok) return redirectWith(c, webhookPath(id), { kind: "success", text: "Changes saved." });
    if (updated.status === 404) return c.html(<NotFoundPage workspace={c.get("workspace")} />, 404);
    return formPage(c, { values, webhookId: id, error: updated.error }, 400);
  });

  for (const action of ["enable", "disable"] as const) {
    pages.post(`/integrations/webhooks/:id/${action}`, async (c) => {
      const id = c.req.param("id");
      const back = safeReturn((await readForm(c)).text("back"), WEBHOOKS);
      const result = await api(c).post<Webhook>(`/v1/webhooks/${encodeURIComponent(id)}/${action}`);
      if (!result.ok) return redirectWith(c, back, problem(result.error));
      const text =
        action === "enable"
          ? `Enabled ${result.data.url}. New events flow again; use “Recover since …” on its page for the ones it skipped.`
          : `Disabled ${result.data.url}. It receives nothing until you enable it; its events are kept as skipped.`;
      return redirectWith(c, back, { kind: "success", text });
    });
  }

  pages.post("/integrations/webhooks/:id/test", async (c) => {
    const id = c.req.param("id");
    const type = (await readForm(c)).text("type");
    const result = await api(c).post<Delivery>(`/v1/webhooks/${encodeURIComponent(id)}/test`, type ? { type } : {});
    // The result shows in the log of the webhook's page, whichever page the button was on.
    if (!result.ok) return redirectWith(c, webhookPath(id), problem(result.error));
    const delivery = result.data;
    const attempt = delivery.attempts.at(-1);
    const delivered = delivery.status === "delivered";
    const name = eventName(delivery.type);
    return redirectWith(c, webhookPath(id), {
      kind: delivered ? "success" : "error",
      text: delivered ? `Test event “${name}” delivered: ${attemptSummary(attempt)}.` : `Test event “${name}” failed: ${attemptSummary(attempt)}.`,
    });
  });

  pages.post("/integrations/webhooks/:id/rotate-secret", async (c) => {
    const id = c.req.param("id");
    const back = safeReturn((await readForm(c)).text("back"), WEBHOOKS);
    const rotated = await api(c).post<WebhookWithSecret>(`/v1/webhooks/${encodeURIComponent(id)}/rotate-secret`);
    if (!rotated.ok) return redirectWith(c, back, problem(rotated.error));
    const { secret, ...webhook } = rotated.data;
    return c.html(<SecretPage workspaceName={c.get("workspace").name} webhook={webhook} secret={secret} rotated={true} />);
  });

  pages.get("/integrations/webhooks/:id/delete", async (c) => {
    const webhook = await loadWebhook(c, c.req.param("id"));
    if (webhook instanceof Response) return webhook;
    return c.html(<DeleteWebhookPage workspaceName={c.get("workspace").name} webhook={webhook} />);
  });

  pages.post("/integrations/webhooks/:id/delete", async (c) => {
    const id = c.req.param("id");
    const deleted = await api(c).delete(`/v1/webhooks/${encodeURIComponent(id)}`);
    if (!deleted.ok) return redirectWith(c, WEBHOOKS, problem(deleted.error));
    return redirectWith(c, WEBHOOKS, { kind: "success", text: "Webhook deleted." });
  });

  pages.post("/integrations/webhooks/:id/deliveries/:eventId/retry", async (c) => {
    const { id, eventId } = c.req.param();
    const back = safeReturn((await readForm(c)).text("back"), webhookPath(id));
    const retried = await api(c).post<Delivery>(`/v1/webhooks/${encodeURIComponent(id)}/deliveries/${encodeURIComponent(eventId)}/retry`);
    if (!retried.ok) return redirectWith(c, back, problem(retried.error));
    return redirectWith(c, back, { kind: "success", text: `Event ${eventId} is in line again; its new attempts will appear in the log.` });
  });

  pages.post("/integrations/webhooks/:id/recover", async (c) => {
    const id = c.req.param("id");
    const form = await readForm(c);
    const back = safeReturn(form.text("back"), webhookPath(id));
    const since = form.text("since").trim();
    const recovered = await api(c).post<RecoverResult>(`/v1/webhooks/${encodeURIComponent(id)}/recover`, { since: utcInputToIso(since) });
    if (recovered.ok) {
      const n = recovered.data.recovered;
      return redirectWith(c, back, {
        kind: "success",
        text: n === 0 ? "Nothing to recover since then." : `${n} event${n === 1 ? "" : "s"} put back in line, in order.`,
      });
    }
    if (recovered.error.param === "since") {
      const webhook = await loadWebhook(c, id);
      if (webhook instanceof Response) return webhook;
      return renderDetail(c, webhook, {}, { error: recovered.error, since }, 400);
    }
    return redirectWith(c, back, problem(recovered.error));
  });

  pages.post("/integrations/webhooks/:id/notification-email", async (c) => {
    const id = c.req.param("id");
    const form = await readForm(c);
    const back = safeReturn(form.text("back"), webhookPath(id));
    const email = form.text("notificationEmail").trim();
    const saved = await api(c).patch<Workspace>("/v1/workspace", { notificationEmail: email === "" ? null : email });
    if (saved.ok) {
      const text = saved.data.notificationEmail
        ? `Auto-disable notices go to ${saved.data.notificationEmail}.`
        : "No email will be sent when a webhook is disabled.";
      return redirectWith(c, back, { kind: "success", text });
    }
    const webhook = await loadWebhook(c, id);
    if (webhook instanceof Response) return webhook;
    return renderDetail(c, webhook, {}, { error: saved.error, notificationEmail: email }, 400);
  });

  pages.get("/*", (c) => c.html(<NotFoundPage />, 404));

  pages.onError((err, c) => {
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
