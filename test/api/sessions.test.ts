// Settings sessions end: signing out ends the session on the server (a replayed cookie is sent to sign-in), a cookie
// whose expiry is not a plain number is invalid, and `next`/`back` redirects never leave /settings/.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sessionSigningKey } from "../../src/settings/session";
import { createWebhook, createWorkspace } from "../support/helpers";
import { cookiesOf, ORIGIN, page, signIn } from "../support/pages";

const LIST = "/settings/integrations/webhooks";

/** A cookie value signed as the Worker signs (hono's signed cookies: value.base64(HMAC-SHA256)). */
async function signedCookie(value: string): Promise<string> {
  const secret = (await sessionSigningKey(env))!;
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const signature = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(value))).toBase64();
  return `ew_session=${encodeURIComponent(`${value}.${signature}`)}`;
}

const sessionValue = (cookie: string) => decodeURIComponent(cookie.split("=", 2)[1]!).split(".").slice(0, 2).join(".");

async function opensList(cookie: string) {
  const res = await page("GET", LIST, { cookie });
  return res.status === 200;
}

describe("sessions that end", () => {
  it("signing out ends the session on the server: the same cookie replayed afterwards is sent to sign-in", async () => {
    const ws = await createWorkspace();
    const cookie = await signIn(ws.apiKey);
    const other = await signIn(ws.apiKey);
    expect(await opensList(cookie)).toBe(true);

    const out = await page("POST", "/settings/sign-out", { cookie, form: {} });
    expect(out.status).toBe(303);
    expect(out.location).toBe("/settings/sign-in");
    expect(cookiesOf(out, cookie)).not.toContain("ew_session=");

    for (const path of [LIST, `${LIST}/new`]) {
      const replayed = await page("GET", path, { cookie });
      expect(replayed.status).toBe(302);
      expect(replayed.location).toMatch(/^\/settings\/sign-in/);
    }
    const post = await page("POST", LIST, { cookie, form: { url: "https://example.com/x", events: "message.received" } });
    expect(post.location).toBe("/settings/sign-in");
    // Only that session ended: the same key's other sign-in still works.
    expect(await opensList(other)).toBe(true);
  });

  it("treats a validly signed cookie with a malformed or past expiry as no session", async () => {
    const ws = await createWorkspace();
    const cookie = await signIn(ws.apiKey);
    const [id, expires] = sessionValue(cookie).split(".");
    expect(await opensList(await signedCookie(`${id}.${expires}`))).toBe(true);
    for (const bad of [
      "abc",
      "",
      "NaN",
      "Infinity",
      "1e12",
      "0x7fffffff",
      " 9999999999",
      "9999999999.5",
      "99999999999999999999",
      "-1",
      "1000000000",
    ]) {
      expect(await opensList(await signedCookie(`${id}.${bad}`)), `expiry ${JSON.stringify(bad)}`).toBe(false);
    }
  });

  it("refuses a signed cookie naming a key instead of a session (the format before sessions were stored)", async () => {
    const ws = await createWorkspace();
    await signIn(ws.apiKey);
    const keyId = (await env.DB.prepare("SELECT id FROM api_keys WHERE workspace_id = ?").bind(ws.id).first<string>("id"))!;
    expect(await opensList(await signedCookie(`${keyId}.9999999999`))).toBe(false);
  });

  const tricky = [
    "/settings/../v1/webhooks",
    "/settings/%2e%2e/v1/webhooks",
    "/settings/.%2E/.%2e/v1",
    "//evil.com",
    "//evil.com/settings/",
    "/settings%2f..",
    "/settings/..%2f..%2fv1",
    "/settings%5c..%5cv1",
    "\\\\evil.com",
    "/\\evil.com",
    "/settings\\..\\v1",
    "/settings/\t/../../v1",
    " /settings/x",
    "https://evil.com/settings/",
    "javascript:alert(1)//settings/",
    "/settings",
    "/v1/webhooks?/settings/",
  ];

  it.each(tricky)("never redirects to %j after sign-in", async (next) => {
    const ws = await createWorkspace();
    const res = await page("POST", "/settings/sign-in", { form: { apiKey: ws.apiKey, next } });
    expect(res.status).toBe(303);
    expect(res.location).toBe(LIST);
  });

  it("resolves a harmless next to the path it means, still under /settings/", async () => {
    const ws = await createWorkspace();
    const res = await page("POST", "/settings/sign-in", {
      form: { apiKey: ws.apiKey, next: "/settings/integrations/./webhooks/../webhooks?status=dropped" },
    });
    expect(res.location).toBe("/settings/integrations/webhooks?status=dropped");
    const signedIn = cookiesOf(res);
    const again = await page("GET", `/settings/sign-in?next=${encodeURIComponent("/settings/../v1")}`, { cookie: signedIn });
    expect(again.location).toBe(LIST);
  });

  it("never follows a tricky `back` after an action either", async () => {
    const ws = await createWorkspace();
    const hook = await createWebhook(ws.apiKey);
    const cookie = await signIn(ws.apiKey);
    for (const back of tricky) {
      const res = await page("POST", `${LIST}/${hook.id}/disable`, { cookie, form: { back } });
      expect(res.status).toBe(303);
      const target = new URL(res.location!, ORIGIN);
      expect(target.origin).toBe(ORIGIN);
      expect(target.pathname).toBe(LIST);
    }
  });
});
