// Test helpers for the settings pages: request a page like a browser would (form posts with an Origin, each from its
// own address), keep the cookies it sets, and sign in.
import { exports } from "cloudflare:workers";
import { expect } from "vitest";
import { randomAddress } from "./helpers";

export const ORIGIN = "http://edge.test";

export interface PageResponse {
  status: number;
  headers: Headers;
  html: string;
  location: string | null;
}

export async function page(
  method: "GET" | "POST",
  path: string,
  options: { cookie?: string; form?: Record<string, string | string[]>; headers?: Record<string, string> } = {},
) {
  const headers = new Headers(options.headers);
  // Every request from its own address, so sign-ins here stay under SIGN_IN_LIMITER (test/api/rate-limits.test.ts tests it).
  if (!headers.has("cf-connecting-ip")) headers.set("cf-connecting-ip", randomAddress());
  if (options.cookie) headers.set("cookie", options.cookie);
  let body: string | undefined;
  if (options.form) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(options.form)) for (const item of [v].flat()) params.append(k, item);
    body = params.toString();
    if (!headers.has("content-type")) headers.set("content-type", "application/x-www-form-urlencoded");
    if (!headers.has("origin")) headers.set("origin", ORIGIN);
  }
  const res = await exports.default.fetch(new Request(ORIGIN + path, { method, headers, body, redirect: "manual" }));
  return { status: res.status, headers: res.headers, html: await res.text(), location: res.headers.get("location") } satisfies PageResponse;
}

/** The cookie header a browser would send next, from a response's Set-Cookie lines. */
export function cookiesOf(res: PageResponse, previous = ""): string {
  const jar = new Map(
    previous
      .split("; ")
      .filter(Boolean)
      .map((c) => c.split("=", 2) as [string, string]),
  );
  for (const line of res.headers.getSetCookie()) {
    const [pair] = line.split(";");
    const [name, value] = [pair!.slice(0, pair!.indexOf("=")), pair!.slice(pair!.indexOf("=") + 1)];
    if (/max-age=0/i.test(line)) jar.delete(name);
    else jar.set(name, value);
  }
  return [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
}

export async function signIn(apiKey: string) {
  const res = await page("POST", "/settings/sign-in", { form: { apiKey, next: "/settings/integrations/webhooks" } });
  expect(res.status).toBe(303);
  return cookiesOf(res);
}
