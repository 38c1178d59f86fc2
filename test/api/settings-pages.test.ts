// The settings pages' sign-in, session and form handling, inside workerd: what the browser test relies on, checked
// request by request (the whole journey in Chromium is test/e2e/settings-pages-in-browser.test.ts).
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sessionSigningKey } from "../../src/settings/session";
import type { Env } from "../../src/env";
import { ADMIN_TOKEN, call, createWebhook, createWorkspace, eventually, sendEvent } from "../support/helpers";
import { cookiesOf, ORIGIN, page, signIn } from "../support/pages";
import { endpoint } from "../support/receiver";

describe("settings pages: sign-in and session", () => {
  it("sends a visitor without a session to sign-in, remembering where they were going", async () => {
    const res = await page("GET", "/settings/integrations/webhooks?x=1");
    expect(res.status).toBe(302);
    expect(res.location).toBe("/settings/sign-in?next=%2Fsettings%2Fintegrations%2Fwebhooks%3Fx%3D1");
  });

  it("refuses an unknown key without echoing it, and signs in with a valid one", async () => {
    const ws = await createWorkspace("Acme");
    const wrong = await page("POST", "/settings/sign-in", { form: { apiKey: "whk_wrong_key_wrong_key_wrong_key" } });
    expect(wrong.status).toBe(401);
    expect(wrong.html).toContain("That key is not valid, or it was revoked.");
    expect(wrong.html).not.toContain("whk_wrong_key");
    expect(wrong.headers.getSetCookie()).toEqual([]);

    const ok = await page("POST", "/settings/sign-in", { form: { apiKey: ws.apiKey, next: "/settings/integrations/webhooks" } });
    expect(ok.status).toBe(303);
    expect(ok.location).toBe("/settings/integrations/webhooks");
    const [cookie] = ok.headers.getSetCookie();
    expect(cookie).toMatch(/^ew_session=/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).not.toContain(ws.apiKey);
    expect(decodeURIComponent(cookie!)).not.toContain(ws.apiKey.slice(4));

    const list = await page("GET", "/settings/integrations/webhooks", { cookie: cookiesOf(ok) });
    expect(list.status).toBe(200);
    expect(list.html).toContain("Acme");
    expect(list.html).toContain(">Connect<");
    expect(list.html).not.toContain(ws.apiKey);
    expect(list.headers.get("cache-control")).toBe("no-store");
    expect(list.headers.get("content-security-policy")).toContain("default-src 'none'");
  });

  it("never redirects outside the settings pages after sign-in", async () => {
    const ws = await createWorkspace();
    for (const next of ["https://evil.example/", "//evil.example/x", "/v1/webhooks", "/settings\\@evil.example"]) {
      const res = await page("POST", "/settings/sign-in", { form: { apiKey: ws.apiKey, next } });
      expect(res.location).toBe("/settings/integrations/webhooks");
    }
  });

  it("refuses a tampered or forged session cookie", async () => {
    const ws = await createWorkspace();
    const cookie = await signIn(ws.apiKey);
    const [, value] = cookie.split("=", 2);
    const [payload] = decodeURIComponent(value!).split(".");
    for (const forged of [
      `ew_session=${encodeURIComponent(`key_other.9999999999.AAAA`)}`,
      cookie.replace(payload!, "key_x"),
      "ew_session=garbage",
    ]) {
      const res = await page("GET", "/settings/integrations/webhooks", { cookie: forged });
      expect(res.status).toBe(302);
      expect(res.location).toMatch(/^\/settings\/sign-in/);
    }
  });

  it("ends the session when its key is revoked", async () => {
    const ws = await createWorkspace();
    const cookie = await signIn(ws.apiKey);
    const keys = await call("GET", `/v1/admin/workspaces/${ws.id}/keys`, { key: ADMIN_TOKEN });
    await call("DELETE", `/v1/admin/workspaces/${ws.id}/keys/${keys.json.data[0].id}`, { key: ADMIN_TOKEN });
    const res = await page("GET", "/settings/integrations/webhooks", { cookie });
    expect(res.status).toBe(302);
    expect(res.location).toMatch(/^\/settings\/sign-in/);
  });

  it("authorizes only the pages' own in-process API calls: the API still wants a key from everyone else", async () => {
    const ws = await createWorkspace();
    await createWebhook(ws.apiKey);
    const cookie = await signIn(ws.apiKey);
    // The list page calls GET /v1/webhooks and /v1/quota in-process for this workspace...
    expect((await page("GET", "/settings/integrations/webhooks", { cookie })).status).toBe(200);
    // ...which leaves nothing behind that an outside request (with or without the cookie) could ride on.
    expect((await call("GET", "/v1/webhooks", { headers: { cookie } })).status).toBe(401);
    expect((await call("GET", "/v1/webhooks")).status).toBe(401);
  });

  it("signs out: the cookie is cleared", async () => {
    const ws = await createWorkspace();
    const cookie = await signIn(ws.apiKey);
    const out = await page("POST", "/settings/sign-out", { cookie, form: {} });
    expect(out.status).toBe(303);
    expect(out.headers.getSetCookie().some((c) => /^ew_session=;/.test(c) && /Max-Age=0/.test(c))).toBe(true);
  });

  it("signs cookies with SESSION_SECRET and nothing else: never with a key derived from ADMIN_TOKEN", () => {
    expect(sessionSigningKey({ SESSION_SECRET: "s" } as Env)).toBe("s");
    expect(sessionSigningKey({ ADMIN_TOKEN: "t".repeat(40) } as Env)).toBeUndefined();
    expect(sessionSigningKey({ SESSION_SECRET: "", ADMIN_TOKEN: "t".repeat(40) } as Env)).toBeUndefined();
    expect(sessionSigningKey({} as Env)).toBeUndefined();
  });
});

describe("settings pages: forms", () => {
  it("refuses a post from another origin, without an Origin, or with a non-form body (CSRF)", async () => {
    const ws = await createWorkspace();
    const cookie = await signIn(ws.apiKey);
    const form = { url: "https://crm.example.com/hooks", events: "message.received" };
    const crossSite = await page("POST", "/settings/integrations/webhooks", { cookie, form, headers: { origin: "https://evil.example" } });
    expect(crossSite.status).toBe(403);
    expect(crossSite.html).toMatch(/<h1>Request refused<\/h1>.*sent from another site.*nothing was changed/s);
    const noOrigin = await exports.default.fetch(
      new Request(`${ORIGIN}/settings/integrations/webhooks`, {
        method: "POST",
        headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(form).toString(),
      }),
    );
    expect(noOrigin.status).toBe(403);
    const json = await page("POST", "/settings/integrations/webhooks", { cookie, headers: { "content-type": "application/json" } });
    expect(json.status).toBe(415);
    expect((await call("GET", "/v1/webhooks", { key: ws.apiKey })).json.data).toEqual([]);
  });

  it("shows the API's own message next to the field for a bad URL or no events, and saves nothing", async () => {
    const ws = await createWorkspace();
    const cookie = await signIn(ws.apiKey);
    const cases: { form: { url: string; events?: string | string[]; description?: string }; field: string }[] = [
      { form: { url: "ftp://crm.example.com/hooks", events: "message.received" }, field: "url" },
      { form: { url: "https://crm.example.com/hooks" }, field: "events" },
      { form: { url: "https://crm.example.com/hooks", events: ["message.received", "message.deleted"] }, field: "events" },
      { form: { url: "https://crm.example.com/hooks", events: "message.received", description: "x".repeat(501) }, field: "description" },
    ];
    for (const { form, field } of cases) {
      const events = [form.events ?? []].flat();
      const direct = await call("POST", "/v1/webhooks", {
        key: ws.apiKey,
        body: { url: form.url, events, description: form.description ?? "" },
      });
      expect(direct.status).toBe(400);
      const res = await page("POST", "/settings/integrations/webhooks", { cookie, form });
      expect(res.status).toBe(400);
      const message = direct.json.error.message.replace(new RegExp(`^${direct.json.error.param.replace(/[[\]]/g, "\\$&")}: `), "");
      const escaped = message.replaceAll("&", "&amp;").replaceAll('"', "&quot;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
      expect(res.html).toMatch(new RegExp(`id="${field}-error">.*${escaped.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`, "s"));
      expect(res.html).toContain("Nothing was saved");
    }
    expect((await call("GET", "/v1/webhooks", { key: ws.apiKey })).json.data).toEqual([]);
  });

  it("shows every field's error at once, in words, whether the API or the form's own parsing found it", async () => {
    const ws = await createWorkspace();
    const cookie = await signIn(ws.apiKey);
    const res = await page("POST", "/settings/integrations/webhooks", {
      cookie,
      form: {
        url: "ftp://crm.example.com/hooks",
        description: "x".repeat(501),
        rateLimitPerSecond: "0",
        headers: "no colon here",
        filter: "{not json",
      },
    });
    expect(res.status).toBe(400);
    for (const field of ["url", "events", "description", "rateLimitPerSecond", "headers", "filter"]) {
      expect(res.html, field).toContain(`id="${field}-error"`);
    }
    expect(res.html).toContain("Nothing was saved: 6 things to fix");
    // In words: the summary names each field by its label, never by the API's raw `param: ` prefix.
    expect(res.html).toContain(">Events: ");
    expect(res.html).toContain(">Endpoint URL: ");
    expect(res.html).not.toContain(">events: ");
    expect((res.html.match(/aria-invalid="true"/g) ?? []).length).toBeGreaterThanOrEqual(5);
    expect((await call("GET", "/v1/webhooks", { key: ws.apiKey })).json.data).toEqual([]);
  });

  it("creates a webhook and shows its secret once, on the creation page only", async () => {
    const ws = await createWorkspace();
    const cookie = await signIn(ws.apiKey);
    const res = await page("POST", "/settings/integrations/webhooks", {
      cookie,
      form: { url: "https://crm.example.com/hooks", events: ["message.received", "contact.created"], description: "CRM" },
    });
    expect(res.status).toBe(201);
    const secret = res.html.match(/value="(whsec_[^"]+)"/)?.[1];
    expect(secret).toBeDefined();
    const [created] = (await call("GET", "/v1/webhooks", { key: ws.apiKey })).json.data;
    expect(created).toMatchObject({
      url: "https://crm.example.com/hooks",
      events: ["message.received", "contact.created"],
      description: "CRM",
    });
    const list = await page("GET", "/settings/integrations/webhooks", { cookie });
    expect(list.html).toContain("https://crm.example.com/hooks");
    // The list's one-line cell leaves out https://; the tooltip and the link's accessible name hold the whole URL.
    expect(list.html).toMatch(
      /title="https:\/\/crm\.example\.com\/hooks" aria-label="https:\/\/crm\.example\.com\/hooks"><code>crm\.example\.com\/hooks<\/code>/,
    );
    expect(list.html).not.toContain(secret!);
    const detail = await page("GET", `/settings/integrations/webhooks/${created.id}`, { cookie });
    expect(detail.html).not.toContain(secret!);
  });

  it("shows another workspace's webhook as not found and does not act on it", async () => {
    const owner = await createWorkspace("Owner");
    const other = await createWorkspace("Other");
    const hook = await createWebhook(owner.apiKey);
    const cookie = await signIn(other.apiKey);
    expect((await page("GET", `/settings/integrations/webhooks/${hook.id}`, { cookie })).status).toBe(404);
    expect((await page("GET", `/settings/integrations/webhooks/${hook.id}/edit`, { cookie })).status).toBe(404);
    const disable = await page("POST", `/settings/integrations/webhooks/${hook.id}/disable`, {
      cookie,
      form: { back: "/settings/integrations/webhooks" },
    });
    expect(disable.status).toBe(303);
    const flash = await page("GET", disable.location!, { cookie: cookiesOf(disable, cookie) });
    expect(flash.html).toContain(`no webhook &quot;${hook.id}&quot; in this workspace`);
    expect((await call("GET", `/v1/webhooks/${hook.id}`, { key: owner.apiKey })).json.enabled).toBe(true);
  });

  it("disables and enables a webhook, showing the reason in the list", async () => {
    const ws = await createWorkspace();
    const hook = await createWebhook(ws.apiKey);
    const cookie = await signIn(ws.apiKey);
    const back = "/settings/integrations/webhooks";
    const off = await page("POST", `/settings/integrations/webhooks/${hook.id}/disable`, { cookie, form: { back } });
    expect(off.location).toBe(back);
    const list = await page("GET", back, { cookie: cookiesOf(off, cookie) });
    // One line in the list: the reason beside the badge, the time in its tooltip.
    expect(list.html).toMatch(
      /title="Disabled \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"><span class="badge off">Disabled<\/span> <span class="reason">turned off<\/span>/,
    );
    expect(list.html).toContain("It receives nothing until you enable it");
    const on = await page("POST", `/settings/integrations/webhooks/${hook.id}/enable`, { cookie, form: { back } });
    expect(on.status).toBe(303);
    expect((await call("GET", `/v1/webhooks/${hook.id}`, { key: ws.apiKey })).json).toMatchObject({ enabled: true, disabledReason: null });
  });

  it("sets the notification email, with the API's message for a bad address", async () => {
    const ws = await createWorkspace("Acme", "old@acme.example");
    const hook = await createWebhook(ws.apiKey);
    const cookie = await signIn(ws.apiKey);
    const path = `/settings/integrations/webhooks/${hook.id}/notification-email`;
    const bad = await page("POST", path, { cookie, form: { notificationEmail: "not-an-address" } });
    expect(bad.status).toBe(400);
    expect(bad.html).toMatch(/id="notificationEmail-error">.*must be an email address/s);
    // Summed up at the top too, where the script puts the focus.
    expect(bad.html).toMatch(
      /<div class="error-summary"[^>]*><h2 id="error-summary-title">Nothing was saved<\/h2><ul><li><a href="#notificationEmail">Notification email: [^<]*must be an email address/,
    );
    expect((await call("GET", "/v1/workspace", { key: ws.apiKey })).json.notificationEmail).toBe("old@acme.example");
    const good = await page("POST", path, { cookie, form: { notificationEmail: "ops@acme.example" } });
    expect(good.status).toBe(303);
    expect((await call("GET", "/v1/workspace", { key: ws.apiKey })).json.notificationEmail).toBe("ops@acme.example");
    await page("POST", path, { cookie, form: { notificationEmail: "" } });
    expect((await call("GET", "/v1/workspace", { key: ws.apiKey })).json.notificationEmail).toBeNull();
  });

  it("edits a webhook through the API's rules: refused changes keep the old values", async () => {
    const ws = await createWorkspace();
    const hook = await createWebhook(ws.apiKey, { url: "https://crm.example.com/a", events: ["message.received"] });
    const cookie = await signIn(ws.apiKey);
    const edit = await page("GET", `/settings/integrations/webhooks/${hook.id}/edit`, { cookie });
    expect(edit.html).toContain('value="https://crm.example.com/a"');
    expect(edit.html).toMatch(/value="message.received" checked/);
    const refused = await page("POST", `/settings/integrations/webhooks/${hook.id}`, {
      cookie,
      form: { url: "https://crm.example.com/b" },
    });
    expect(refused.status).toBe(400);
    expect(refused.html).toMatch(/id="events-error">.*must list at least one event type/s);
    expect((await call("GET", `/v1/webhooks/${hook.id}`, { key: ws.apiKey })).json).toMatchObject({ url: "https://crm.example.com/a" });
    const saved = await page("POST", `/settings/integrations/webhooks/${hook.id}`, {
      cookie,
      form: { url: "https://crm.example.com/b", events: ["contact.created", "comment.created"], description: "moved" },
    });
    expect(saved.status).toBe(303);
    expect((await call("GET", `/v1/webhooks/${hook.id}`, { key: ws.apiKey })).json).toMatchObject({
      url: "https://crm.example.com/b",
      events: ["contact.created", "comment.created"],
      description: "moved",
    });
  });

  it("sets, shows and resets the endpoint controls in the form's Advanced section, closed until used", async () => {
    const ws = await createWorkspace();
    const cookie = await signIn(ws.apiKey);
    const blank = await page("GET", "/settings/integrations/webhooks/new", { cookie });
    expect(blank.html).toMatch(/<details class="advanced">/);
    const base = { url: "https://crm.example.com/a", events: ["message.received"], description: "" };

    const refused = await page("POST", "/settings/integrations/webhooks", { cookie, form: { ...base, headers: "Host: evil.example" } });
    expect(refused.status).toBe(400);
    expect(refused.html).toMatch(/<details class="advanced" open="">/);
    expect(refused.html).toMatch(/id="headers-error">.*Host is set by the service/s);
    const badFilter = await page("POST", "/settings/integrations/webhooks", { cookie, form: { ...base, filter: "{not json" } });
    expect(badFilter.html).toMatch(/id="filter-error">.*must be a JSON object/s);
    const badRate = await page("POST", "/settings/integrations/webhooks", { cookie, form: { ...base, rateLimitPerSecond: "fast" } });
    expect(badRate.html).toMatch(/id="rateLimitPerSecond-error">.*whole number/s);
    expect((await call("GET", "/v1/webhooks", { key: ws.apiKey })).json.data).toEqual([]);

    const created = await page("POST", "/settings/integrations/webhooks", {
      cookie,
      form: {
        ...base,
        rateLimitPerSecond: "5",
        retryDelaysSeconds: "60, 300 900",
        headers: "Authorization: Bearer crm-token\r\n\r\nX-Api-Key: k: 1",
        filter: '{"message.traffic": "incoming", "channel.source": ["whatsapp", "telegram"]}',
      },
    });
    expect(created.status).toBe(201);
    const [hook] = (await call("GET", "/v1/webhooks", { key: ws.apiKey })).json.data;
    const controls = {
      rateLimitPerSecond: 5,
      retryDelaysSeconds: [60, 300, 900],
      headers: { Authorization: "Bearer crm-token", "X-Api-Key": "k: 1" },
      filter: { "message.traffic": "incoming", "channel.source": ["whatsapp", "telegram"] },
    };
    expect(hook).toMatchObject(controls);

    const edit = await page("GET", `/settings/integrations/webhooks/${hook.id}/edit`, { cookie });
    expect(edit.html).toMatch(/<details class="advanced" open="">/);
    expect(edit.html).toContain('value="60, 300, 900"');
    expect(edit.html).toContain("Authorization: Bearer crm-token\nX-Api-Key: k: 1");
    const cleared = await page("POST", `/settings/integrations/webhooks/${hook.id}`, { cookie, form: base });
    expect(cleared.status).toBe(303);
    expect((await call("GET", `/v1/webhooks/${hook.id}`, { key: ws.apiKey })).json).toMatchObject({
      rateLimitPerSecond: null,
      retryDelaysSeconds: null,
      headers: {},
      filter: {},
    });
  });

  it("asks before rotating, and warns that a second rotation ends the first one's grace", async () => {
    const ws = await createWorkspace();
    const hook = await createWebhook(ws.apiKey);
    const cookie = await signIn(ws.apiKey);
    const list = await page("GET", "/settings/integrations/webhooks", { cookie });
    expect(list.html).toContain(
      `href="/settings/integrations/webhooks/${hook.id}/rotate-secret?back=%2Fsettings%2Fintegrations%2Fwebhooks"`,
    );
    const ask = await page("GET", `/settings/integrations/webhooks/${hook.id}/rotate-secret?back=/settings/integrations/webhooks`, {
      cookie,
    });
    expect(ask.html).toContain("Rotate the signing secret?");
    expect(ask.html).not.toContain("A rotation is already under way");
    // Asking changes nothing.
    expect((await call("GET", `/v1/webhooks/${hook.id}`, { key: ws.apiKey })).json.previousSecretExpiresAt).toBeNull();
    const rotated = await page("POST", `/settings/integrations/webhooks/${hook.id}/rotate-secret`, {
      cookie,
      form: { back: "/settings/integrations/webhooks" },
    });
    expect(rotated.html).toContain("Signing secret rotated");
    const again = await page("GET", `/settings/integrations/webhooks/${hook.id}/rotate-secret`, { cookie });
    expect(again.html).toMatch(/A rotation is already under way.*Rotating again ends that now/s);
    // A back link that leaves the pages is not followed.
    const evil = await page("GET", `/settings/integrations/webhooks/${hook.id}/rotate-secret?back=https://evil.example/`, { cookie });
    expect(evil.html).not.toContain("evil.example");
  });

  it("shows a webhook's health, finds an event by id with the body and headers it was sent, and refreshes while one is pending", async () => {
    const ws = await createWorkspace();
    const receiver = endpoint();
    await receiver.program({ script: [{ status: 200 }], fallback: { status: 503 } });
    const hook = await createWebhook(ws.apiKey, { url: receiver.url, events: ["message.received"], headers: { "X-Api-Key": "k_9" } });
    const delivered = await sendEvent(ws.apiKey, { type: "message.received", data: { message: { text: "hello <b>" } } });
    await receiver.waitFor(1);
    await eventually(
      async () => (await call("GET", `/v1/webhooks/${hook.id}/deliveries/${delivered}`, { key: ws.apiKey })).json.status === "delivered",
    );
    const cookie = await signIn(ws.apiKey);
    const detail = await page("GET", `/settings/integrations/webhooks/${hook.id}`, { cookie });
    expect(detail.html).toMatch(/<h2 id="health-title">Health<\/h2>/);
    expect(detail.html).toMatch(/<dt>Success rate<\/dt><dd>100\.0%<\/dd>/);
    expect(detail.html).toMatch(/<dd>1 \(1 delivered, 0 failed\)<\/dd>/);
    expect(detail.html.match(/<rect class="ok"/g)).toHaveLength(1);
    expect(detail.html).not.toContain("data-refresh");
    const week = await page("GET", `/settings/integrations/webhooks/${hook.id}?period=7d`, { cookie });
    expect(week.html).toMatch(/<strong aria-current="true">last 7 days<\/strong>/);

    const list = await page("GET", "/settings/integrations/webhooks", { cookie });
    expect(list.html).toMatch(
      /<td data-label="Health \(24 h\)"><span class="health good">100\.0% delivered <span class="muted">\(1 attempt\)<\/span>/,
    );
    // The chart says what it shows: a scale of attempts per bar, a legend, the bars' times.
    expect(detail.html).toMatch(/<div class="y-axis" aria-hidden="true"><span>2<\/span><span>1<\/span><span>0<\/span><\/div>/);
    expect(detail.html).toMatch(/<figcaption class="legend">.*Delivered attempts.*Failed attempts.*Scale: attempts per 1 hour/s);
    // A webhook with no attempts yet shows that in words, not an empty box.
    const quiet = await createWebhook(ws.apiKey, { url: "https://quiet.example.com/hooks", events: ["contact.created"] });
    const quietPage = await page("GET", `/settings/integrations/webhooks/${quiet.id}`, { cookie });
    expect(quietPage.html).toContain('<p class="chart-empty">No attempts yet in the last 24 hours.');
    expect(quietPage.html).not.toContain('<svg class="chart"');

    const found = await page("GET", `/settings/integrations/webhooks/${hook.id}?event=${delivered}`, { cookie });
    expect(found.html).toContain(`Event <code>${delivered}</code>`);
    expect(found.html).toMatch(
      /<summary>Body sent<\/summary><pre class="payload" tabindex="0">\{\n {2}&quot;event_type&quot;: &quot;message.received&quot;/,
    );
    expect(found.html).toContain("hello &lt;b&gt;");
    expect(found.html).toMatch(/<code>x-api-key<\/code><\/th><td><code>k_9<\/code>/);
    expect(found.html).toMatch(/<code>webhook-signature<\/code><\/th><td><code>v1,/);
    const missing = await page("GET", `/settings/integrations/webhooks/${hook.id}?event=evt_nope`, { cookie });
    expect(missing.html).toContain("This webhook has no delivery of that event");

    // A failing endpoint leaves an event pending: the page then looks again by itself.
    await sendEvent(ws.apiKey, { type: "message.received", data: {} });
    await receiver.waitFor(2);
    await eventually(async () => {
      const res = await page("GET", `/settings/integrations/webhooks/${hook.id}`, { cookie });
      // …and says why the event waits: its retry is scheduled.
      return (
        res.html.includes('data-refresh="15"') &&
        res.html.includes("next attempt") &&
        /<span class="waiting">scheduled retry at \d\d:\d\d:\d\d UTC<\/span>/.test(res.html)
      );
    });
  });

  it("pages through the delivery log, newest first, and filters it", async () => {
    const ws = await createWorkspace();
    // 21 test events fill the log quickest; the workspace may send that many in a minute (testEventsPerMinute).
    await call("PATCH", `/v1/admin/workspaces/${ws.id}`, { key: ADMIN_TOKEN, body: { limits: { testEventsPerMinute: 30 } } });
    const receiver = endpoint();
    await receiver.program({ fallback: { status: 200 } });
    const hook = await createWebhook(ws.apiKey, { url: receiver.url, events: ["message.received", "contact.created"] });
    for (let i = 0; i < 21; i++) {
      const res = await call("POST", `/v1/webhooks/${hook.id}/test`, {
        key: ws.apiKey,
        body: { type: i === 0 ? "contact.created" : "message.received" },
      });
      expect(res.status).toBe(200);
    }
    const cookie = await signIn(ws.apiKey);
    const first = await page("GET", `/settings/integrations/webhooks/${hook.id}`, { cookie });
    expect(first.html.match(/<details class="delivery"/g)).toHaveLength(20);
    const older = first.html.match(/href="([^"]*cursor=[^"#]*)#log" rel="next"/)?.[1];
    expect(older).toBeDefined();
    const second = await page("GET", older!.replaceAll("&amp;", "&"), { cookie });
    expect(second.html.match(/<details class="delivery"/g)).toHaveLength(1);
    expect(second.html).toContain("New Contact");
    expect(second.html).not.toContain('rel="next"');
    const filtered = await page("GET", `/settings/integrations/webhooks/${hook.id}?type=contact.created&status=delivered`, { cookie });
    expect(filtered.html.match(/<details class="delivery"/g)).toHaveLength(1);
  });

  it("shows the API's refusal when retrying or recovering on a disabled webhook", async () => {
    const ws = await createWorkspace();
    const hook = await createWebhook(ws.apiKey);
    await call("POST", `/v1/webhooks/${hook.id}/disable`, { key: ws.apiKey });
    const cookie = await signIn(ws.apiKey);
    const back = `/settings/integrations/webhooks/${hook.id}`;
    const recover = await page("POST", `${back}/recover`, { cookie, form: { back, since: "2026-01-01T00:00" } });
    expect(recover.status).toBe(303);
    const shown = await page("GET", recover.location!, { cookie: cookiesOf(recover, cookie) });
    expect(shown.html).toContain("the webhook is disabled; enable it first");
    // A time it cannot read: redirected to an address of its own that shows the form, the error and what was typed,
    // the same again on a reload, and recovers nothing.
    const badSince = await page("POST", `${back}/recover`, { cookie, form: { back, since: "last tuesday" } });
    expect(badSince.status).toBe(303);
    expect(badSince.location).toBe(`${back}/recover?since=last%20tuesday`);
    for (let i = 0; i < 2; i++) {
      const shownBad = await page("GET", badSince.location!, { cookie });
      expect(shownBad.status).toBe(400);
      expect(shownBad.html).toMatch(
        /<div class="error-summary" role="alert" tabindex="-1"[^>]*><h2 id="error-summary-title">Nothing was recovered<\/h2>/,
      );
      expect(shownBad.html).toContain('<a href="#since">Recover since (UTC): must be a UTC time written YYYY-MM-DD HH:MM');
      expect(shownBad.html).toMatch(/id="since-error">.*must be a UTC time written YYYY-MM-DD HH:MM/s);
      expect(shownBad.html).toContain('value="last tuesday"');
    }
    // The same address with a good time, or none, is the form without an error.
    const good = await page("GET", `${back}/recover?since=2026-01-01%2009:30`, { cookie });
    expect(good.status).toBe(200);
    expect(good.html).toContain('value="2026-01-01 09:30"');
    expect(good.html).not.toContain("error-summary");
    expect((await page("GET", `${back}/recover`, { cookie })).status).toBe(200);
    // A refused email's address, opened again, leads to the webhook's page.
    const email = await page("GET", `${back}/notification-email`, { cookie });
    expect(email.status).toBe(302);
    expect(email.location).toBe(`${back}#email-title`);
  });

  it("serves its stylesheet and script itself, small and cacheable", async () => {
    for (const asset of ["/settings/assets/settings.css", "/settings/assets/settings.js"]) {
      const res = await page("GET", asset);
      expect(res.status).toBe(200);
      expect(res.headers.get("cache-control")).toContain("max-age");
      expect(new TextEncoder().encode(res.html).byteLength).toBeLessThan(20 * 1024);
    }
  });
});

describe("settings pages: what a user is told", () => {
  it("sends a test event from the list and stays there, saying what happened in one sentence; a failed one reads 'failed', not 'dropped'", async () => {
    const ws = await createWorkspace();
    const receiver = endpoint();
    await receiver.program({ fallback: { status: 401 } });
    const hook = await createWebhook(ws.apiKey, { url: receiver.url, events: ["message.received"] });
    const cookie = await signIn(ws.apiKey);
    const list = "/settings/integrations/webhooks";
    const sent = await page("POST", `${list}/${hook.id}/test`, { cookie, form: { back: list, type: "message.received" } });
    expect(sent.status).toBe(303);
    expect(sent.location).toBe(list);
    const shown = await page("GET", list, { cookie: cookiesOf(sent, cookie) });
    const flash = /<div class="flash error" role="alert">([^<]*)<\/div>/.exec(shown.html)?.[1];
    expect(flash).toMatch(new RegExp(`^Test event “New Incoming Message” not delivered to ${receiver.url}: HTTP 401 in \\d+ ms\\.$`));
    expect(flash).not.toContain("endpoint answered");

    const detail = await page("GET", `${list}/${hook.id}`, { cookie });
    expect(detail.html).toMatch(
      /<summary><span class="badge failed">failed<\/span><strong>New Incoming Message<\/strong><span class="badge test">test<\/span>/,
    );
    // One test control on the webhook's page (the list's button is not repeated there).
    expect(detail.html.match(/>Send test event</g)).toHaveLength(1);
  });

  it("says why an event waits: behind which retrying event, and until when", async () => {
    const ws = await createWorkspace();
    const receiver = endpoint();
    await receiver.program({ fallback: { status: 503 } });
    const hook = await createWebhook(ws.apiKey, { url: receiver.url, events: ["message.received"], retryDelaysSeconds: [600] });
    const first = await sendEvent(ws.apiKey, { type: "message.received", data: {} });
    await receiver.waitFor(1);
    const second = await sendEvent(ws.apiKey, { type: "message.received", data: {} });
    const cookie = await signIn(ws.apiKey);
    await eventually(async () => {
      const res = await page("GET", `/settings/integrations/webhooks/${hook.id}`, { cookie });
      return (
        new RegExp(
          `data-event-id="${second}".*?<span class="waiting">waiting behind ${first} \\(retry at \\d\\d:\\d\\d:\\d\\d UTC\\)</span>`,
          "s",
        ).test(res.html) &&
        new RegExp(`data-event-id="${first}".*?<span class="waiting">scheduled retry at \\d\\d:\\d\\d:\\d\\d UTC</span>`, "s").test(
          res.html,
        )
      );
    });
  });

  it("leads back: the Alerts page to Webhooks, the rotate and delete pages to their webhook; alerts in words with an example", async () => {
    const ws = await createWorkspace();
    const hook = await createWebhook(ws.apiKey);
    const cookie = await signIn(ws.apiKey);
    const alerts = await page("GET", "/settings/integrations/alerts", { cookie });
    expect(alerts.html).toMatch(
      /<nav class="crumbs"[^>]*>.*<a href="\/settings\/integrations\/webhooks">Webhooks<\/a>.*Alerts<\/span><\/li><\/ol><\/nav>/s,
    );
    expect(alerts.html).toContain("<dt>Webhook disabled <code");
    expect(alerts.html).not.toMatch(/\{webhookId, url/);
    expect(alerts.html).toMatch(
      /<summary>Example: what your endpoint receives when a webhook is disabled<\/summary><pre><code>\{\n {2}&quot;event_type&quot;: &quot;webhook.disabled&quot;/,
    );
    for (const step of ["rotate-secret", "delete"]) {
      const ask = await page("GET", `/settings/integrations/webhooks/${hook.id}/${step}`, { cookie });
      expect(ask.html, step).toContain(`<a href="/settings/integrations/webhooks/${hook.id}">https://receiver.example.com/hooks</a>`);
    }
  });

  it("shows, with the secret, the exact command to check deliveries with the README's receiver, and a node:http snippet", async () => {
    const ws = await createWorkspace();
    const cookie = await signIn(ws.apiKey);
    const res = await page("POST", "/settings/integrations/webhooks", {
      cookie,
      form: { url: "https://crm.example.com/hooks", events: ["message.received"] },
    });
    const secret = res.html.match(/value="(whsec_[^"]+)"/)![1]!;
    expect(res.html).toContain(`<code id="receiver-command">npm run receiver -- --secret ${secret}</code>`);
    expect(res.html).toContain("import { createServer } from &quot;node:http&quot;;");
    expect(res.html).not.toMatch(/express/i);
  });
});
