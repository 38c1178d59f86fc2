/** @jsxImportSource hono/jsx */
// What every settings route shares: its typed context, form reading, redirects with a flash, and loading a webhook.
import type { Context } from "hono";
import type { Env } from "../env";
import type { ApiClient, ApiProblem } from "./api-client";
import { BASE } from "./layout";
import type { Quota, Webhook, Workspace } from "./model";
import { NotFoundPage } from "./pages/not-found";
import { setFlash, type Flash } from "./session";

export interface PagesEnv {
  Bindings: Env;
  Variables: {
    /** The cookie-signing key (see sessionSigningKey). */
    secret: string;
    api: ApiClient;
    workspace: Workspace;
  };
}
export type Ctx = Context<PagesEnv>;

/**
 * Only a path inside the settings pages may be a redirect target: no open redirect through `next` or `back`. The
 * value is resolved as a browser would (dot segments, percent-encoded dots) and must still be under /settings/;
 * the resolved path is what is returned, so the browser cannot read it differently.
 */
export function safeReturn(value: unknown, fallback: string): string {
  if (typeof value !== "string" || !value.startsWith("/") || value.startsWith("//") || /[\\\s\x00-\x1f\x7f]/.test(value)) return fallback;
  const origin = "http://settings.invalid";
  const url = URL.parse(value, origin);
  if (!url || url.origin !== origin || !url.pathname.startsWith(`${BASE}/`) || /%2f|%5c/i.test(url.pathname)) return fallback;
  return url.pathname + url.search;
}

export async function readForm(c: Ctx) {
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

export async function redirectWith(c: Ctx, to: string, flash: Flash) {
  await setFlash(c, flash, c.get("secret"));
  return c.redirect(to, 303);
}

export function problem(error: ApiProblem): Flash {
  return { kind: "error", text: error.message };
}

/** The API, called as the signed-in workspace. */
export const api = (c: Ctx) => c.get("api");

export async function quotaOf(c: Ctx): Promise<Quota | undefined> {
  const quota = await api(c).get<Quota>("/v1/quota");
  return quota.ok ? quota.data : undefined;
}

/** The webhook, or the not-found page when it is not this workspace's. */
export async function loadWebhook(c: Ctx, id: string): Promise<Webhook | Response> {
  const found = await api(c).get<Webhook>(`/v1/webhooks/${encodeURIComponent(id)}`);
  if (found.ok) return found.data;
  return c.html(<NotFoundPage workspace={c.get("workspace")} />, 404);
}
