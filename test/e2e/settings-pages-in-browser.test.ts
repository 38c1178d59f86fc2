// The settings pages in a real browser: Chromium (the system's, or the one inside @sparticuz/chromium), driven by playwright-core, against `wrangler dev` and a
// real receiver. One workspace walks through what a respond.io user does in Integrations > Webhooks, in order.
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import type { BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Behaviour, RecordedRequest } from "../support/receiver-types";
import { startPagesRig, type PagesRig } from "../support/node/pages-rig";
import type { RunningWorker } from "../support/node/worker";

/** `npm run screenshots` sets this to refresh the README's pictures. */
const SHOTS = process.env.UPDATE_SCREENSHOTS ? resolve(import.meta.dirname, "../../docs/screenshots") : undefined;
const ADMIN = "ui-test-admin-token-at-least-32-characters";
// The failure quota shrunk to 3 and retries to 0.2 s, so an endpoint that keeps failing is disabled in about a second.
const QUOTA_LIMIT = 3;

let rig: PagesRig;
let worker: RunningWorker;
let receiver: { url: string; close: () => Promise<void> };
let context: BrowserContext;
let page: Page;
let apiKey: string;
let webhookId: string;
let firstSecret: string;
/** Anything the pages tried to load from elsewhere than the Worker. */
let outside: string[];

const api = (method: string, path: string, body?: unknown) => rig.api(method, path, body);

async function program(bucket: string, setup: { fallback?: Behaviour; secrets?: string[] }) {
  await fetch(`${receiver.url}/_control/${bucket}`, { method: "PUT", body: JSON.stringify(setup) });
}

async function received(bucket: string): Promise<RecordedRequest[]> {
  return ((await (await fetch(`${receiver.url}/_control/${bucket}`)).json()) as { requests: RecordedRequest[] }).requests;
}

async function shot(name: string, fullPage = true) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: resolve(SHOTS, name), fullPage });
}

/** Clicks something that loads a new page, and waits until that page (and its deferred script) has loaded. */
async function submit(target: Locator) {
  const loaded = page.waitForEvent("load");
  await target.click();
  await loaded;
}

/** Reloads until `check` passes: the pages are server-rendered, so news arrives with a reload. */
async function reloadUntil(check: () => Promise<boolean>, what: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
    await page.reload();
  }
}

const text = async (selector: string) => ((await page.locator(selector).first().textContent()) ?? "").replace(/\s+/g, " ").trim();
const flash = () => text(".flash");

describe("settings pages in Chromium", () => {
  beforeAll(async () => {
    rig = await startPagesRig({
      vars: {
        ADMIN_TOKEN: ADMIN,
        SESSION_SECRET: "ui-test-session-secret",
        ALLOW_PRIVATE_URLS: "true",
        FAILURE_QUOTA_LIMIT: String(QUOTA_LIMIT),
        RETRY_DELAYS_SECONDS: "0.2,0.2,0.2",
        ORDERING_WINDOW_MS: "0",
      },
    });
    ({ worker, receiver, context, page, apiKey, outside } = rig);
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: worker.url });
  });

  afterAll(async () => {
    await rig?.stop();
  });

  it("asks for sign-in, refuses a wrong key, and signs in with the workspace API key from the keyboard", async () => {
    await page.goto(`${worker.url}/settings/integrations/webhooks`);
    expect(new URL(page.url()).pathname).toBe("/settings/sign-in");
    await page.getByLabel("Workspace API key").fill("whk_not_a_real_key_at_all_0000000");
    await submit(page.getByRole("button", { name: "Sign in" }));
    expect(await text("#apiKey-error")).toBe("That key is not valid, or it was revoked.");
    expect(await page.getByLabel("Workspace API key").inputValue()).toBe("");

    await page.getByLabel("Workspace API key").focus();
    await page.keyboard.type(apiKey);
    const loaded = page.waitForEvent("load");
    await page.keyboard.press("Enter");
    await loaded;
    await page.getByRole("heading", { name: "Webhooks", level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe("/settings/integrations/webhooks");
    expect(await page.getByRole("link", { name: "Connect" }).isVisible()).toBe(true);

    const [session] = (await context.cookies()).filter((c) => c.name === "ew_session");
    expect(session).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/" });
    expect(session!.value).not.toContain(apiKey);
    expect(session!.value).not.toContain(apiKey.slice(4, 20));
    expect(await page.content()).not.toContain(apiKey);
  });

  it("shows the API's message next to the field for an invalid URL or no events, and saves nothing", async () => {
    await submit(page.getByRole("link", { name: "Connect" }));
    await page.getByRole("heading", { name: "Add Webhook" }).waitFor();

    const badUrl = await api("POST", "/v1/webhooks", { url: "not a url", events: ["message.received"] });
    expect(badUrl.status).toBe(400);
    await page.getByLabel("Endpoint URL").fill("not a url");
    await page.getByLabel("New Incoming Message").check();
    await submit(page.getByRole("button", { name: "Add Webhook" }));
    expect(await text("#url-error")).toContain(badUrl.json.error.message.replace(/^url: /, ""));
    expect(await page.getByLabel("Endpoint URL").getAttribute("aria-invalid")).toBe("true");
    expect(await page.evaluate(() => document.activeElement?.classList.contains("error-summary"))).toBe(true);
    // What was typed survives the refusal.
    expect(await page.getByLabel("New Incoming Message").isChecked()).toBe(true);
    await shot("add-webhook-error.png", false);

    const noEvents = await api("POST", "/v1/webhooks", { url: `${receiver.url}/hooks/ui-crm`, events: [] });
    expect(noEvents.json.error).toMatchObject({ code: "events_empty", param: "events" });
    await page.getByLabel("Endpoint URL").fill(`${receiver.url}/hooks/ui-crm`);
    await page.getByLabel("New Incoming Message").uncheck();
    await submit(page.getByRole("button", { name: "Add Webhook" }));
    expect(await text("#events-error")).toContain(noEvents.json.error.message.replace(/^events: /, ""));
    expect(await page.locator("#url-error").count()).toBe(0);

    // Everything wrong at once: URL, events and a header line the form cannot read, each marked, summed up by label.
    await page.getByLabel("Endpoint URL").fill("ftp://crm.example.com/hooks");
    await page.locator("details.advanced summary").click();
    await page.getByLabel("Custom headers").fill("no colon here");
    await submit(page.getByRole("button", { name: "Add Webhook" }));
    for (const id of ["url-error", "events-error", "headers-error"]) expect(await page.locator(`#${id}`).count(), id).toBe(1);
    const summary = await text(".error-summary");
    expect(summary).toContain("Nothing was saved: 3 things to fix");
    expect(summary).toMatch(/Endpoint URL: .*Events: .*Custom headers: /);
    expect(summary).not.toMatch(/(?<!Custom )\b(url|events|headers): /);
    await shot("add-webhook-errors.png", false);
    await page.getByLabel("Custom headers").fill("");

    expect((await api("GET", "/v1/webhooks")).json.data).toEqual([]);
  });

  it("adds a webhook with events and a description, and shows its signing secret once with a copy button and a snippet", async () => {
    await page.goto(`${worker.url}/settings/integrations/webhooks/new`);
    await page.getByLabel("Endpoint URL").fill(`${receiver.url}/hooks/ui-crm`);
    await page.getByLabel("New Incoming Message").check();
    await page.getByLabel("Conversation Closed").check();
    await page.getByLabel("Description (optional)").fill("CRM sync: log incoming messages, close tickets");
    await shot("add-webhook.png");
    await submit(page.getByRole("button", { name: "Add Webhook" }));

    await page.getByRole("heading", { name: "Webhook added" }).waitFor();
    firstSecret = await page.getByLabel("Signing secret", { exact: true }).inputValue();
    expect(firstSecret).toMatch(/^whsec_[A-Za-z0-9+/=]{32}$/);
    await page.getByRole("button", { name: "Copy" }).click();
    await page
      .locator("#secret-status")
      .filter({ hasText: /Copied|Selected/ })
      .waitFor();
    expect(await page.getByText("wh.verify(raw, req.headers)").isVisible()).toBe(true);

    const [created] = (await api("GET", "/v1/webhooks")).json.data;
    webhookId = created.id;
    expect(created).toMatchObject({
      url: `${receiver.url}/hooks/ui-crm`,
      events: ["message.received", "conversation.closed"],
      enabled: true,
    });
    await program("ui-crm", { fallback: { status: 200 }, secrets: [firstSecret] });

    // Shown once: the pages keep no copy of it.
    await submit(page.getByRole("link", { name: "Back to Webhooks" }));
    expect(await page.content()).not.toContain(firstSecret);
  });

  it("lists it with its URL, events, status and actions", async () => {
    const row = page.locator(`tr[data-webhook-id="${webhookId}"]`);
    expect(await row.locator("td").nth(0).textContent()).toContain(`${receiver.url}/hooks/ui-crm`);
    expect(await row.locator("td").nth(1).textContent()).toMatch(/New Incoming Message, Conversation Closed/);
    expect((await row.locator("td").nth(2).textContent())?.trim()).toBe("Enabled");
    await row.locator("details.menu summary").click();
    for (const action of ["Disable", "Edit", "Send test event", "Rotate secret", "Delete"]) {
      expect(
        await row
          .getByRole(["Edit", "Rotate secret", "Delete"].includes(action) ? "link" : "button", { name: action, exact: false })
          .count(),
      ).toBe(1);
    }
    expect(await text("#quota-text")).toContain(`0 / ${QUOTA_LIMIT} failed attempts in the last 30 minutes`);
  });

  it("sends a test event, and the delivery log shows it delivered with its attempt", async () => {
    await submit(page.locator(`tr[data-webhook-id="${webhookId}"]`).getByRole("button", { name: /Send test event/ }));
    // The list stays; the result is said there, and shows in the webhook's log.
    expect(new URL(page.url()).pathname).toBe("/settings/integrations/webhooks");
    expect(await flash()).toMatch(/^Test event “New Incoming Message” delivered to http:\S+: HTTP 200 in \d+ ms\.$/);
    await submit(page.locator(`tr[data-webhook-id="${webhookId}"] td.url a`));
    const item = page.locator("details.delivery").first();
    expect(await item.locator(".badge").first().textContent()).toBe("delivered");
    await item.locator("summary").click();
    expect(await item.locator("table.attempts tbody tr").count()).toBe(1);
    expect(await item.locator("table.attempts tbody td").nth(2).textContent()).toBe("200");

    const [request] = await received("ui-crm");
    expect(request).toMatchObject({ standardValid: true, respondIoValid: true });
    expect(JSON.parse(request!.body)).toMatchObject({ event_type: "message.received" });

    // Filters: by status and by event type.
    await page.getByLabel("Status", { exact: true }).selectOption("dropped");
    await submit(page.getByRole("button", { name: "Filter" }));
    await page.getByText("No deliveries match.").waitFor();
    await page.getByLabel("Status", { exact: true }).selectOption("delivered");
    await page.getByLabel("Event type", { exact: true }).selectOption("message.received");
    await submit(page.getByRole("button", { name: "Filter" }));
    expect(await page.locator("details.delivery").count()).toBe(1);
  });

  it("when the endpoint keeps failing, the quota disables the webhook and the list shows the banner, the reason and the meter", async () => {
    // A second, healthy webhook: the quota disables only the one that failed.
    await program("ui-erp", { fallback: { status: 204 } });
    await api("POST", "/v1/webhooks", { url: `${receiver.url}/hooks/ui-erp`, events: ["contact.created"], description: "ERP customers" });
    await program("ui-crm", { fallback: { status: 500, body: "upstream database unavailable" }, secrets: [firstSecret] });
    expect(
      (
        await api("POST", "/v1/events", {
          type: "message.received",
          data: { contact: { id: 7 }, message: { type: "text", text: "Hello?" } },
        })
      ).status,
    ).toBe(202);

    await page.goto(`${worker.url}/settings/integrations/webhooks`);
    await reloadUntil(
      () => page.getByRole("heading", { name: "A webhook was disabled automatically" }).isVisible(),
      "the auto-disable banner",
    );
    const banner = await text(".banner");
    expect(banner).toContain(`fail more than ${QUOTA_LIMIT} times in 30 minutes (all webhooks together)`);
    // The workspace was made by the admin route, so its address has not confirmed: no notice went out (README "Security").
    expect(banner).toContain("No notice was sent: ops@acme.example has not confirmed it wants them.");
    expect(
      await page
        .locator(".banner")
        .getByRole("button", { name: /Enable/ })
        .count(),
    ).toBe(1);
    const row = page.locator(`tr[data-webhook-id="${webhookId}"]`);
    expect(await row.locator("td").nth(2).textContent()).toMatch(/Disabled\s+too many failures/);
    expect(await row.locator("td").nth(2).locator("[title]").getAttribute("title")).toMatch(
      /^Disabled \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/,
    );
    expect(Number(await page.locator("#quota-meter").getAttribute("value"))).toBeGreaterThan(0);
    expect(await text("#quota-text")).toMatch(new RegExp(`^\\d+ / ${QUOTA_LIMIT} failed attempts`));
    await shot("webhooks-list.png");

    // Its page: the failed attempts, each with status code, duration, error and the response's start.
    await submit(row.getByRole("link", { name: `${receiver.url}/hooks/ui-crm`, exact: true }));
    const failed = page
      .locator("details.delivery")
      .filter({ hasNot: page.locator(".badge.test") })
      .first();
    expect(await failed.locator(".badge").first().textContent()).toMatch(/skipped|dropped/);
    await failed.locator("summary").click();
    const attempts = failed.locator("table.attempts tbody tr");
    expect(await attempts.count()).toBe(QUOTA_LIMIT + 1);
    expect(await attempts.first().locator("td").nth(2).textContent()).toBe("500");
    expect(await attempts.first().locator("td").nth(5).textContent()).toContain("upstream database unavailable");
    await shot("delivery-log.png");

    // Its health: the chart (server-rendered SVG) with failed bars, the success rate; the list's health column.
    const chart = page.locator("#health svg.chart");
    expect(await chart.count()).toBe(1);
    expect(await chart.locator("rect.bad").count()).toBeGreaterThan(0);
    expect(await text("#health")).toMatch(/Success rate/i);
    await page.locator("#health").scrollIntoViewIfNeeded();
    await shot("webhook-health.png");

    // Find the failed event by its id: its attempts, the exact body sent (pretty-printed) and the headers.
    const eventId = (await failed.getAttribute("data-event-id"))!;
    await page.getByLabel("Find an event by its id").fill(eventId);
    await submit(page.getByRole("button", { name: "Find" }));
    const found = page.locator("#found");
    expect(await found.locator("pre.payload").textContent()).toContain(`"event_id": "${eventId}"`);
    expect(JSON.parse((await found.locator("pre.payload").textContent())!)).toMatchObject({
      event_type: "message.received",
      message: { text: "Hello?" },
    });
    await found.getByText("Headers of the last attempt").click();
    expect(await found.locator("table.headers tr", { hasText: "webhook-id" }).textContent()).toContain(eventId);
    await found.scrollIntoViewIfNeeded();
    await shot("payload-view.png", false);

    // The same attempts on a phone: each cell says what it is (the table's headers are hidden there).
    await page.setViewportSize({ width: 390, height: 844 });
    const cell = found.locator("table.attempts tbody td").nth(2);
    expect(await cell.evaluate((td) => getComputedStyle(td, "::before").content)).toContain("Status code");
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await page.setViewportSize({ width: 1280, height: 900 });

    await page.goto(`${worker.url}/settings/integrations/webhooks`);
    const health = await text(`tr[data-webhook-id="${webhookId}"] td[data-label="Health (24 h)"]`);
    expect(health).toMatch(/\d+%/);
    await page.goto(`${worker.url}/settings/integrations/webhooks/${webhookId}`);
  });

  it("enables it again from the banner, and recovers what it skipped", async () => {
    await program("ui-crm", { fallback: { status: 200 }, secrets: [firstSecret] });
    await submit(page.locator(".banner").getByRole("button", { name: /Enable/ }));
    expect(await flash()).toContain("Enabled");
    expect(await page.locator(".banner").count()).toBe(0);
    expect((await api("GET", `/v1/webhooks/${webhookId}`)).json).toMatchObject({ enabled: true, disabledReason: null });

    await page.getByLabel("Recover since").fill(new Date(Date.now() - 10 * 60_000).toISOString().slice(0, 16));
    await submit(page.getByRole("button", { name: "Recover" }));
    expect(await flash()).toMatch(/^1 event put back in line/);
    await reloadUntil(
      async () =>
        (await page
          .locator("details.delivery")
          .filter({ hasNot: page.locator(".badge.test") })
          .first()
          .locator(".badge")
          .first()
          .textContent()) === "delivered",
      "the recovered event to be delivered",
    );
  });

  it("refuses a form post from another site or with a non-form body, whatever the cookie", async () => {
    const cookie = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
    const url = `${worker.url}/settings/integrations/webhooks/${webhookId}/disable`;
    const crossSite = await fetch(url, {
      method: "POST",
      redirect: "manual",
      headers: { cookie, origin: "https://attacker.example", "content-type": "application/x-www-form-urlencoded" },
      body: "back=%2Fsettings%2Fintegrations%2Fwebhooks",
    });
    expect(crossSite.status).toBe(403);
    const json = await fetch(url, {
      method: "POST",
      redirect: "manual",
      headers: { cookie, "content-type": "application/json" },
      body: "{}",
    });
    expect(json.status).toBe(415);
    expect((await api("GET", `/v1/webhooks/${webhookId}`)).json.enabled).toBe(true);
  });

  it("rotates the secret: the new one is shown once and signs the next delivery", async () => {
    await page.goto(`${worker.url}/settings/integrations/webhooks`);
    await page.locator(`tr[data-webhook-id="${webhookId}"]`).locator("details.menu summary").click();
    await submit(page.locator(`tr[data-webhook-id="${webhookId}"]`).getByRole("link", { name: /Rotate secret/ }));
    await page.getByRole("heading", { name: "Rotate the signing secret?" }).waitFor();
    await submit(page.getByRole("button", { name: "Rotate secret" }));
    await page.getByRole("heading", { name: "Signing secret rotated" }).waitFor();
    const secret = await page.getByLabel("Signing secret", { exact: true }).inputValue();
    expect(secret).toMatch(/^whsec_/);
    expect(secret).not.toBe(firstSecret);
    expect(await text("main")).toMatch(/previous secret keeps signing too until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);

    await program("ui-crm", { fallback: { status: 200 }, secrets: [secret] });
    await submit(page.getByRole("link", { name: "Go to its delivery log" }));
    await page.getByLabel("Test event", { exact: true }).selectOption("conversation.closed");
    await submit(page.getByRole("button", { name: "Send test event" }));
    expect(await flash()).toMatch(/^Test event “Conversation Closed” delivered/);
    const last = (await received("ui-crm")).at(-1)!;
    expect(last).toMatchObject({ standardValid: true, respondIoValid: true });
  });

  it("sets an alert URL on the Alerts page: the secret is shown once, and a test alert arrives signed with it", async () => {
    await page.goto(`${worker.url}/settings/integrations/webhooks`);
    await submit(page.getByRole("link", { name: "Alerts", exact: true }));
    await page.getByRole("heading", { name: "Alerts", exact: true }).waitFor();
    await page.getByLabel("Alert URL").fill(`${receiver.url}/hooks/ui-alerts`);
    await submit(page.getByRole("button", { name: "Save alert URL" }));
    await page.getByRole("heading", { name: "Alert URL set" }).waitFor();
    const secret = await page.getByRole("textbox", { name: "Alert signing secret" }).inputValue();
    expect(secret).toMatch(/^whsec_/);
    await program("ui-alerts", { fallback: { status: 200 }, secrets: [secret] });
    await submit(page.getByRole("link", { name: "Back to Alerts" }));
    await submit(page.getByRole("button", { name: "Send a test alert" }));
    expect(await flash()).toMatch(/^Test alert delivered: HTTP 200/);
    expect(await page.locator("details.delivery").count()).toBe(1);
    const [alert] = await received("ui-alerts");
    expect(alert).toMatchObject({ standardValid: true, respondIoValid: true });
    expect(JSON.parse(alert!.body)).toMatchObject({ event_type: "alert.test" });
  });

  it("edits the endpoint controls in the form's Advanced section: headers arrive, a filter holds back what it refuses", async () => {
    await page.goto(`${worker.url}/settings/integrations/webhooks/${webhookId}/edit`);
    const advanced = page.locator("details.advanced");
    expect(await advanced.getAttribute("open")).toBeNull();
    await advanced.locator("summary").click();
    await page.getByLabel("Rate limit (attempts per second)").fill("5");
    await page.getByLabel("Retry schedule (seconds)").fill("1, 2");
    await page.getByLabel("Custom headers").fill("Host: evil.example");
    await submit(page.getByRole("button", { name: "Save changes" }));
    expect(await text("#headers-error")).toMatch(/Host is set by the service/);
    expect(await page.locator("details.advanced").getAttribute("open")).not.toBeNull();
    await page.getByLabel("Custom headers").fill("Authorization: Bearer crm-token");
    await page.getByLabel("Filter", { exact: true }).fill('{"message.traffic": "incoming"}');
    await submit(page.getByRole("button", { name: "Save changes" }));
    expect(await flash()).toBe("Changes saved.");
    expect((await api("GET", `/v1/webhooks/${webhookId}`)).json).toMatchObject({
      rateLimitPerSecond: 5,
      retryDelaysSeconds: [1, 2],
      headers: { Authorization: "Bearer crm-token" },
      filter: { "message.traffic": "incoming" },
    });

    const before = (await received("ui-crm")).length;
    const send = (traffic: string) =>
      api("POST", "/v1/events", { type: "message.received", data: { message: { traffic, text: traffic } } });
    expect((await send("outgoing")).status).toBe(202);
    expect((await send("incoming")).status).toBe(202);
    const deadline = Date.now() + 20_000;
    while ((await received("ui-crm")).length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    await new Promise((r) => setTimeout(r, 1500));
    const got = (await received("ui-crm")).slice(before);
    expect(got.map((r) => JSON.parse(r.body).message?.traffic)).toEqual(["incoming"]);
    expect(got[0]!.headers.authorization).toBe("Bearer crm-token");

    // Emptied again, the section resets every control to respond.io's defaults.
    await page.goto(`${worker.url}/settings/integrations/webhooks/${webhookId}/edit`);
    expect(await page.locator("details.advanced").getAttribute("open")).not.toBeNull();
    for (const label of ["Rate limit (attempts per second)", "Retry schedule (seconds)", "Custom headers", "Filter"]) {
      await page.getByLabel(label, { exact: true }).fill("");
    }
    await submit(page.getByRole("button", { name: "Save changes" }));
    expect((await api("GET", `/v1/webhooks/${webhookId}`)).json).toMatchObject({
      rateLimitPerSecond: null,
      retryDelaysSeconds: null,
      headers: {},
      filter: {},
    });
  });

  it("deletes it after a confirmation", async () => {
    await page.goto(`${worker.url}/settings/integrations/webhooks`);
    await page.locator(`tr[data-webhook-id="${webhookId}"]`).locator("details.menu summary").click();
    await submit(page.locator(`tr[data-webhook-id="${webhookId}"]`).getByRole("link", { name: /Delete/ }));
    await page.getByRole("heading", { name: "Delete this webhook?" }).waitFor();
    await submit(page.getByRole("button", { name: "Delete webhook" }));
    expect(await flash()).toBe("Webhook deleted.");
    expect(await page.locator(`tr[data-webhook-id="${webhookId}"]`).count()).toBe(0);
    expect((await api("GET", `/v1/webhooks/${webhookId}`)).status).toBe(404);
  });

  it("is readable on a phone and loads far less than 100 KiB of script", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${worker.url}/settings/integrations/webhooks`);
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await shot("webhooks-list-phone.png");
    const scripts = await page.evaluate(() => [...document.scripts].map((s) => s.src));
    expect(scripts).toHaveLength(1);
    const bytes = (await (await fetch(scripts[0]!)).arrayBuffer()).byteLength;
    expect(bytes).toBeLessThan(100 * 1024);
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it("signs out; the pages then ask for sign-in again; the key never reached the logs and nothing came from outside the Worker", async () => {
    await submit(page.getByRole("button", { name: "Sign out" }));
    expect(await flash()).toBe("You are signed out.");
    await page.goto(`${worker.url}/settings/integrations/webhooks`);
    expect(new URL(page.url()).pathname).toBe("/settings/sign-in");
    expect(worker.output()).not.toContain(apiKey);
    // Nor did any webhook's Ed25519 private key (docs/signatures.md), through the creates, rotations and deliveries above.
    expect(worker.output()).not.toContain("whsk_");
    expect(outside).toEqual([]);
  });
});
