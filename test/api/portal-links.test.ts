// Portal links: the operator mints a one-time, short-lived link that signs its opener into a workspace's settings
// pages with no API key; the session behaves like any other; PORTAL_FRAME_ANCESTORS lets a platform embed the pages.
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Env } from "../../src/env";
import worker from "../../src/index";
import { ADMIN_TOKEN, call, createWebhook, createWorkspace } from "../support/helpers";
import { cookiesOf, ORIGIN, page } from "../support/pages";

afterEach(() => {
  vi.useRealTimers();
});

async function mint(workspaceId: string, body?: unknown) {
  return call("POST", `/v1/admin/workspaces/${workspaceId}/portal-links`, { key: ADMIN_TOKEN, ...(body === undefined ? {} : { body }) });
}

const pathOf = (url: string) => new URL(url).pathname;

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

    const opened = await page("GET", pathOf(link.json.url));
    expect(opened.status).toBe(303);
    expect(opened.location).toBe("/settings/integrations/webhooks");
    const cookie = cookiesOf(opened);
    const list = await page("GET", "/settings/integrations/webhooks", { cookie });
    expect(list.status).toBe(200);
    expect(list.html).toContain("crm.portal.example");
    expect(list.html).not.toContain("other.example");

    const again = await page("GET", pathOf(link.json.url));
    expect(again.status).toBe(303);
    expect(again.location).toBe("/settings/sign-in");
    expect(cookiesOf(again)).not.toMatch(/ew_session=/);
  });

  it("ends its session on sign-out like any other, and refuses an expired link", async () => {
    const ws = await createWorkspace();
    const link = await mint(ws.id);
    expect(Date.parse(link.json.expiresAt) - Date.now()).toBeGreaterThan(590_000);
    const cookie = cookiesOf(await page("GET", pathOf(link.json.url)));
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
      const res = await page("GET", `/settings/portal/${token}`);
      expect(res.status).toBe(303);
      expect(res.location).toBe("/settings/sign-in");
      expect(cookiesOf(res)).not.toMatch(/ew_session=/);
    }
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
    const fetchWith = (e: Env, url: string, init: RequestInit = {}) => worker.fetch(new Request(url, { redirect: "manual", ...init }), e, createExecutionContext());
    const minted = await fetchWith(configured, "https://edge.test/v1/admin/workspaces/" + ws.id + "/portal-links", {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    const { url } = (await minted.json()) as { url: string };
    expect(url).toMatch(/^https:\/\/webhooks\.example\.com\/settings\/portal\//);

    const framed = await fetchWith(configured, `https://edge.test${pathOf(url)}`);
    expect(framed.headers.get("content-security-policy")).toContain("frame-ancestors https://app.platform.example https://*.platform.example");
    expect(framed.headers.get("x-frame-options")).toBeNull();
    expect(framed.headers.getSetCookie().find((c) => c.startsWith("__Host-ew_session="))).toMatch(/SameSite=None/i);

    const plain = await page("GET", "/settings/sign-in");
    expect(plain.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(plain.headers.get("x-frame-options")).toBe("DENY");
  });
});
