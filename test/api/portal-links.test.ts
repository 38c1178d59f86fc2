// Portal links: the operator mints a one-time, short-lived link that signs its opener into a workspace's settings
// pages with no API key; the session behaves like any other; PORTAL_FRAME_ANCESTORS lets a platform embed the pages.
// The first request that carries the link's token past the sign-in rate limit spends it, and answers a landing page
// whose Continue button posts a second one-time token: no valid token is ever in a URL a log records, except one a
// 429 answered, which the limit refused before anything was looked up (test/api/unauthenticated-cost.test.ts).
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Env } from "../../src/env";
import worker from "../../src/index";
import { ADMIN_TOKEN, call, createWebhook, createWorkspace } from "../support/helpers";
import { cookiesOf, ORIGIN, page, type PageResponse } from "../support/pages";

afterEach(() => {
  vi.useRealTimers();
});

async function mint(workspaceId: string, body?: unknown) {
  return call("POST", `/v1/admin/workspaces/${workspaceId}/portal-links`, { key: ADMIN_TOKEN, ...(body === undefined ? {} : { body }) });
}

const pathOf = (url: string) => new URL(url).pathname;

/** The one-time token a landing page's Continue form holds. */
const continueTokenOf = (html: string) => /<input type="hidden" name="token" value="([A-Za-z0-9_-]{43})"/.exec(html)?.[1];

/** A refused token: the sign-in page, and no session. */
function expectSentToSignIn(res: PageResponse) {
  expect(res.status).toBe(303);
  expect(res.location).toBe("/settings/sign-in");
  expect(cookiesOf(res)).not.toMatch(/ew_session=/);
}

/** Takes an address over SIGN_IN_LIMITER (10 per 60 s) with failed sign-ins. */
async function exhaustSignIn(address: string) {
  for (let i = 0; i < 10; i++) {
    await page("POST", "/settings/sign-in", {
      form: { apiKey: "whk_wrong", next: "/settings/integrations/webhooks" },
      headers: { "cf-connecting-ip": address },
    });
  }
}

/** Opens a link as a person would: its landing page, then Continue. */
async function open(url: string) {
  const landing = await page("GET", pathOf(url));
  expect(landing.status).toBe(200);
  expect(cookiesOf(landing)).not.toMatch(/ew_session=/);
  const token = continueTokenOf(landing.html);
  expect(token).toBeDefined();
  const continued = await page("POST", "/settings/portal", { form: { token: token! } });
  return { landing, token: token!, continued };
}

describe("portal links", () => {
  it("signs the opener into that workspace's pages once, with no key; a second use leads to sign-in", async () => {
    const ws = await createWorkspace("Portal Co");
    const other = await createWorkspace("Someone else");
    await createWebhook(ws.apiKey, { url: "https://crm.portal.example/hooks", description: "portal hook" });
    await createWebhook(other.apiKey, { url: "https://other.example/hooks" });
    const before = Date.now();
    const link = await mint(ws.id, { ttlSeconds: 120 });
    expect(link.status).toBe(201);
    expect(link.json.url).toMatch(new RegExp(`^${ORIGIN}/settings/portal/[A-Za-z0-9_-]{43}$`));
    expect(Date.parse(link.json.expiresAt) - before).toBeGreaterThanOrEqual(119_000);
    expect(Date.parse(link.json.expiresAt) - before).toBeLessThanOrEqual(121_000);

    const { landing, continued: opened } = await open(link.json.url);
    expect(landing.html).toContain('action="/settings/portal"');
    expect(opened.status).toBe(303);
    expect(opened.location).toBe("/settings/integrations/webhooks");
    const cookie = cookiesOf(opened);
    const list = await page("GET", "/settings/integrations/webhooks", { cookie });
    expect(list.status).toBe(200);
    expect(list.html).toContain("crm.portal.example");
    expect(list.html).not.toContain("other.example");

    expectSentToSignIn(await page("GET", pathOf(link.json.url)));
  });

  it("ends its session on sign-out like any other, and refuses an expired link", async () => {
    const ws = await createWorkspace();
    const link = await mint(ws.id);
    expect(Date.parse(link.json.expiresAt) - Date.now()).toBeGreaterThan(590_000);
    const cookie = cookiesOf((await open(link.json.url)).continued);
    expect((await page("GET", "/settings/integrations/webhooks", { cookie })).status).toBe(200);
    await page("POST", "/settings/sign-out", { cookie, form: {} });
    const replayed = await page("GET", "/settings/integrations/webhooks", { cookie });
    expect(replayed.status).toBe(302);
    expect(replayed.location).toMatch(/^\/settings\/sign-in/);

    const late = await mint(ws.id, { ttlSeconds: 60 });
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.parse(late.json.expiresAt) + 1);
    const expired = await page("GET", pathOf(late.json.url));
    expect(expired.location).toBe("/settings/sign-in");
  });

  it("refuses a made-up or malformed token without a session", async () => {
    for (const token of ["A".repeat(43), "short", "..%2F..%2Fv1", "A".repeat(500)]) {
      expectSentToSignIn(await page("GET", `/settings/portal/${token}`));
    }
  });

  it("answers 429 to a link opened from an address over the sign-in rate limit without looking at it: it opens once the address may try again", async () => {
    const ws = await createWorkspace();
    const link = await mint(ws.id);
    await exhaustSignIn("2001:db8::429");
    const limited = await page("GET", pathOf(link.json.url), { headers: { "cf-connecting-ip": "2001:db8::429" } });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(continueTokenOf(limited.html)).toBeUndefined();
    // Not spent (the limit answered before D1): from an address under the limit it opens, once.
    const opened = await page("GET", pathOf(link.json.url));
    expect(opened.status).toBe(200);
    expect(continueTokenOf(opened.html)).toBeDefined();
    expectSentToSignIn(await page("GET", pathOf(link.json.url)));
  });

  it("never puts a valid token in a URL or a redirect: every URL of the flow is spent once it was requested", async () => {
    const ws = await createWorkspace();
    const link = await mint(ws.id);
    const { landing, token, continued } = await open(link.json.url);
    // The URLs a request log records: the link's (spent by that very request) and /settings/portal (no token).
    const logged = [pathOf(link.json.url), "/settings/portal", continued.location!, landing.location ?? ""];
    expect(logged.join(" ")).not.toContain(token);
    const again = await page("GET", pathOf(link.json.url));
    expect(again.location).toBe("/settings/sign-in");
    // The Continue token is one-time too, and only a POST takes it: not as a link, not twice.
    const asLink = await page("GET", `/settings/portal/${token}`);
    expect(asLink.location).toBe("/settings/sign-in");
    expectSentToSignIn(await page("POST", "/settings/portal", { form: { token } }));
  });

  it("spends a token carried where it does not belong; a Continue post that met the rate limit leaves its token for the next try", async () => {
    const ws = await createWorkspace();
    const link = await mint(ws.id);
    const linkToken = pathOf(link.json.url).split("/").pop()!;
    // The link's token posted to Continue opens nothing, and is spent: it was carried once.
    expect((await page("POST", "/settings/portal", { form: { token: linkToken } })).location).toBe("/settings/sign-in");
    expect((await page("GET", pathOf(link.json.url))).location).toBe("/settings/sign-in");

    const landing = await page("GET", pathOf((await mint(ws.id)).json.url));
    const token = continueTokenOf(landing.html)!;
    await exhaustSignIn("2001:db8::4291");
    expect((await page("POST", "/settings/portal", { form: { token }, headers: { "cf-connecting-ip": "2001:db8::4291" } })).status).toBe(
      429,
    );
    const continued = await page("POST", "/settings/portal", { form: { token } });
    expect(continued.status).toBe(303);
    expect(cookiesOf(continued)).toMatch(/ew_session=/);
    expectSentToSignIn(await page("POST", "/settings/portal", { form: { token } }));
  });

  it.each([
    ["a ttl under a minute", { ttlSeconds: 59 }, "invalid_ttl", "ttlSeconds"],
    ["a ttl over an hour", { ttlSeconds: 3601 }, "invalid_ttl", "ttlSeconds"],
    ["a fractional ttl", { ttlSeconds: 90.5 }, "invalid_ttl", "ttlSeconds"],
    ["an unknown field", { workspace: "x" }, "unknown_field", "workspace"],
  ])("refuses %s", async (_what, body, code, param) => {
    const ws = await createWorkspace();
    const res = await mint(ws.id, body);
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code, param });
  });

  it("is the operator's alone, and only for a workspace that exists", async () => {
    const ws = await createWorkspace();
    expect((await call("POST", `/v1/admin/workspaces/${ws.id}/portal-links`, { key: ws.apiKey })).status).toBe(401);
    expect((await mint("ws_nope")).status).toBe(404);
  });

  it("uses PUBLIC_URL for the link, and PORTAL_FRAME_ANCESTORS for framing (with a cookie a frame can send)", async () => {
    const ws = await createWorkspace();
    const configured = Object.create(env, {
      PUBLIC_URL: { value: "https://webhooks.example.com" },
      PORTAL_FRAME_ANCESTORS: { value: "https://app.platform.example https://*.platform.example" },
    }) as Env;
    const fetchWith = (e: Env, url: string, init: RequestInit = {}) =>
      worker.fetch(new Request(url, { redirect: "manual", ...init }), e, createExecutionContext());
    const minted = await fetchWith(configured, "https://edge.test/v1/admin/workspaces/" + ws.id + "/portal-links", {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    const { url } = (await minted.json()) as { url: string };
    expect(url).toMatch(/^https:\/\/webhooks\.example\.com\/settings\/portal\//);

    const landing = await fetchWith(configured, `https://edge.test${pathOf(url)}`);
    expect(landing.headers.get("content-security-policy")).toContain(
      "frame-ancestors https://app.platform.example https://*.platform.example",
    );
    const token = continueTokenOf(await landing.text())!;
    const framed = await fetchWith(configured, "https://edge.test/settings/portal", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://edge.test" },
      body: new URLSearchParams({ token }).toString(),
    });
    expect(framed.status).toBe(303);
    expect(framed.headers.get("content-security-policy")).toContain(
      "frame-ancestors https://app.platform.example https://*.platform.example",
    );
    expect(framed.headers.get("x-frame-options")).toBeNull();
    expect(framed.headers.getSetCookie().find((c) => c.startsWith("__Host-ew_session="))).toMatch(/SameSite=None/i);

    const plain = await page("GET", "/settings/sign-in");
    expect(plain.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(plain.headers.get("x-frame-options")).toBe("DENY");
  });
});
