// Every settings page in Chromium at 1280 px and on a 390 px phone, audited with axe-core (no serious or critical
// violation), with what a new user needs to see checked on each: an error summary that takes the focus on an address
// that reloads, log rows that look open-able and say why they wait, a chart that explains itself, one-line list rows,
// results said where the button was, breadcrumbs back, the receiver command beside the secret.
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seriousViolations } from "../support/node/axe";
import { startPagesRig, type PagesRig } from "../support/node/pages-rig";
import { startReceiverProcess, type ReceiverProcess } from "../support/node/receiver-process";
import type { RunningWorker } from "../support/node/worker";

/** `npm run screenshots` sets this to refresh docs/screenshots (listed in docs/settings-pages.md). */
const SHOTS = process.env.UPDATE_SCREENSHOTS ? resolve(import.meta.dirname, "../../docs/screenshots") : undefined;
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
const LIST = "/settings/integrations/webhooks";

let rig: PagesRig;
let worker: RunningWorker;
let receiver: { url: string; close: () => Promise<void> };
let localReceiver: ReceiverProcess | undefined;
let page: Page;
let apiKey: string;
/** A 60-character URL, a healthy endpoint; a failing one with a long retry; one with no attempts yet. */
let healthy: { id: string; url: string };
let failing: { id: string; url: string };
let quiet: { id: string; url: string };
/** The failing webhook's two events: the first retrying, the second waiting behind it. */
let retrying: string;
let waiting: string;
let outside: string[];

const api = (method: string, path: string, body?: unknown) => rig.api(method, path, body);

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const eventStatus = async (webhookId: string, eventId: string) =>
  (await api("GET", `/v1/webhooks/${webhookId}/deliveries/${eventId}`)).json?.status;

async function shot(name: string, fullPage = true) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: resolve(SHOTS, name), fullPage });
}

/** Opens a page (and waits for its deferred script). */
async function open(path: string) {
  const res = await page.goto(worker.url + path, { waitUntil: "load" });
  return res!;
}

/** Clicks something that loads a new page, and waits until it has loaded. */
async function submit(target: ReturnType<Page["locator"]>) {
  const loaded = page.waitForEvent("load");
  await target.click();
  await loaded;
}

/** Runs `check` on the page as it is, at 1280 px then on a phone, with the axe audit at each; back to 1280 after. */
async function atBothWidths(check: (width: number) => Promise<void> = async () => {}) {
  for (const size of [DESKTOP, PHONE]) {
    await page.setViewportSize(size);
    await check(size.width);
    expect(await seriousViolations(page), `axe at ${size.width} px on ${page.url()}`).toEqual([]);
    const wider = await page.evaluate(() =>
      [...document.querySelectorAll("main *")]
        .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 0.5)
        .map((el) => `${el.tagName.toLowerCase()}.${el.className}`),
    );
    expect(wider, `what is wider than ${size.width} px on ${page.url()}`).toEqual([]);
  }
  await page.setViewportSize(DESKTOP);
}

const flash = async () => ((await page.locator(".flash").first().textContent()) ?? "").trim();

/** The boxes of the elements matching `selector` inside `scope`. */
const boxes = (scope: string, selector: string) =>
  page
    .locator(scope)
    .evaluate(
      (el, sel) =>
        [...el.querySelectorAll(sel)]
          .map((e) => e.getBoundingClientRect())
          .map((r) => ({ top: r.top, bottom: r.bottom, left: r.left, right: r.right, height: r.height })),
      selector,
    );

/**
 * What the pages then show: a healthy webhook with a 60-character URL and three deliveries, a failing one whose first
 * event is retrying (600 s) with a second waiting behind it, one with no attempts, and one that failed once and was
 * deleted (its failure stays in the quota).
 */
async function seed() {
  const program = (bucket: string, status: number) =>
    fetch(`${receiver.url}/_control/${bucket}`, { method: "PUT", body: JSON.stringify({ fallback: { status } }) });
  const create = async (body: Record<string, unknown>) => {
    const created = await api("POST", "/v1/webhooks", body);
    expect(created.status).toBe(201);
    return { id: created.json.id as string, url: created.json.url as string };
  };
  const send = async (type: string) => (await api("POST", "/v1/events", { type, data: { message: { text: "Hi" } } })).json.id as string;

  const longUrl = `${receiver.url}/hooks/crm-sync-`.padEnd(60, "x");
  expect(longUrl).toHaveLength(60);
  await program(longUrl.split("/hooks/")[1]!, 200);
  healthy = await create({
    url: longUrl,
    events: ["message.received", "conversation.closed"],
    description: "CRM sync: log incoming messages, close tickets",
  });
  await program("erp", 503);
  failing = await create({ url: `${receiver.url}/hooks/erp`, events: ["contact.created"], retryDelaysSeconds: [600] });
  quiet = await create({ url: `${receiver.url}/hooks/quiet`, events: ["contact.assignee.updated"] });
  // A webhook that fails once and is deleted: its failure stays in the quota for the window.
  await program("gone-soon", 500);
  const doomed = await create({ url: `${receiver.url}/hooks/gone-soon`, events: ["comment.created"], retryDelaysSeconds: [600] });

  const delivered = [await send("message.received"), await send("message.received"), await send("conversation.closed")];
  retrying = await send("contact.created");
  waiting = await send("contact.created");
  const lost = await send("comment.created");
  for (const id of delivered) await until(async () => (await eventStatus(healthy.id, id)) === "delivered", `${id} delivered`);
  const tried = async (webhookId: string, id: string) =>
    ((await api("GET", `/v1/webhooks/${webhookId}/deliveries/${id}`)).json?.attempts?.length ?? 0) > 0;
  await until(() => tried(failing.id, retrying), "the failing webhook's first attempt");
  await until(() => tried(doomed.id, lost), "the doomed webhook's attempt");
  expect((await api("DELETE", `/v1/webhooks/${doomed.id}`)).status).toBe(204);
}

describe("every settings page at 1280 px and 390 px", () => {
  beforeAll(async () => {
    rig = await startPagesRig({
      vars: {
        ADMIN_TOKEN: "ui-walk-admin-token-at-least-32-characters",
        SESSION_SECRET: "ui-walk-session-secret",
        ALLOW_PRIVATE_URLS: "true",
        ORDERING_WINDOW_MS: "0",
        // Small, so the last test can cross it: the list then shows the auto-disable banner.
        FAILURE_QUOTA_LIMIT: "5",
      },
      // Only so the audit can inject axe-core; the pages' own CSP is checked by settings-pages.test.ts.
      bypassCSP: true,
    });
    ({ worker, receiver, page, apiKey, outside } = rig);
  });

  afterAll(async () => {
    await localReceiver?.stop();
    await rig?.stop();
  });

  it("the sign-in page, then the empty list", async () => {
    await open(LIST);
    expect(new URL(page.url()).pathname).toBe("/settings/sign-in");
    await atBothWidths();
    await page.getByLabel("Workspace API key").fill(apiKey);
    await submit(page.getByRole("button", { name: "Sign in" }));
    await page.getByRole("heading", { name: "Webhooks", level: 1 }).waitFor();
    // The empty list, with Connect.
    expect(await page.getByRole("link", { name: "Connect" }).isVisible()).toBe(true);
    await atBothWidths();
    await seed();
  });

  it("the list: one line a row at 1280 px (a 60-character URL truncated, whole on hover and to screen readers), stacked on a phone", async () => {
    await open(LIST);
    await atBothWidths(async (width) => {
      if (width === DESKTOP.width) {
        const rows = page.locator("table.webhooks tbody tr");
        expect(await rows.count()).toBe(3);
        for (let i = 0; i < 3; i++) {
          const row = rows.nth(i);
          // Nothing wraps: every piece of text is one line, the actions (More included) side by side.
          const lines = await row.evaluate((tr) =>
            // A truncated line has a box for its text and one for the ellipsis, on the same line: count lines by their tops.
            [...tr.querySelectorAll(".one-line, .health, .badge, .reason, code")].map((el) => ({
              text: el.textContent,
              lines: new Set([...el.getClientRects()].map((r) => Math.round(r.bottom / 8))).size,
              height: el.getBoundingClientRect().height,
            })),
          );
          for (const line of lines) {
            expect(line.lines, `row ${i}: ${line.text}`).toBe(1);
            expect(line.height, `row ${i}: ${line.text}`).toBeLessThan(30);
          }
          expect((await row.boundingBox())!.height, `row ${i}`).toBeLessThan(72);
          const tops = new Set(
            (
              await boxes(`table.webhooks tbody tr >> nth=${i}`, ".actions > form > button, .actions > a, .actions > details > summary")
            ).map((b) => Math.round(b.top)),
          );
          expect(tops.size, `row ${i}'s actions on one line`).toBe(1);
        }
        const link = page.locator(`tr[data-webhook-id="${healthy.id}"] td.url a`);
        expect(await link.getAttribute("title")).toBe(healthy.url);
        expect(await link.getAttribute("aria-label")).toBe(healthy.url);
        expect(await link.evaluate((a) => a.scrollWidth > a.clientWidth)).toBe(true);
        expect((await link.boundingBox())!.height).toBeLessThan(30);
        // The health cell in words.
        expect(((await page.locator(`tr[data-webhook-id="${healthy.id}"] .health`).textContent()) ?? "").replace(/\s+/g, " ")).toBe(
          "100.0% delivered (3 attempts)",
        );
        expect(await page.locator(`tr[data-webhook-id="${quiet.id}"] .health`).textContent()).toBe("No attempts yet");
        // The quota card explains a failure no listed webhook accounts for.
        expect(await page.locator("#quota-text").textContent()).toMatch(
          /^2 \/ 5 failed attempts .* 1 of them came from a webhook deleted since; it still counts until then\.$/,
        );
        await shot("settings-list.png", false);
      } else {
        // Stacked: the head's buttons clear of the quota card, the actions' buttons clear of each other.
        const head = await boxes("main", ".page-head .button");
        const card = (await page.locator("section.quota").boundingBox())!;
        for (const b of head) expect(card.y - b.bottom).toBeGreaterThanOrEqual(8);
        const actions = await boxes(
          `tr[data-webhook-id="${healthy.id}"]`,
          ".actions > form > button, .actions > a, .actions > details > summary",
        );
        for (let i = 0; i < actions.length; i++)
          for (let j = i + 1; j < actions.length; j++) {
            const [a, b] = [actions[i]!, actions[j]!];
            const apart = a.right + 4 <= b.left || b.right + 4 <= a.left || a.bottom + 4 <= b.top || b.bottom + 4 <= a.top;
            expect(apart, `action buttons ${i} and ${j} touch`).toBe(true);
          }
        await shot("settings-list-phone.png");
      }
    });
  });

  it("the list's More menu opens to Rotate secret and Delete, and closes on Escape or a click elsewhere", async () => {
    await open(LIST);
    const row = page.locator(`tr[data-webhook-id="${healthy.id}"]`);
    const menu = row.locator("details.menu");
    await menu.locator("summary").click();
    expect(await row.getByRole("link", { name: `Delete for ${healthy.url}` }).isVisible()).toBe(true);
    await atBothWidths();
    await page.keyboard.press("Escape");
    expect(await menu.getAttribute("open")).toBeNull();
    expect(await page.evaluate(() => document.activeElement?.tagName)).toBe("SUMMARY");
    await menu.locator("summary").click();
    await page.locator("h1").click();
    expect(await menu.getAttribute("open")).toBeNull();
  });

  it("Send test event in the list stays on the list and says what happened in one sentence; a failure reads plainly", async () => {
    await open(LIST);
    await submit(page.locator(`tr[data-webhook-id="${healthy.id}"]`).getByRole("button", { name: /Send test event/ }));
    expect(new URL(page.url()).pathname).toBe(LIST);
    expect(await flash()).toMatch(new RegExp(`^Test event “New Incoming Message” delivered to ${healthy.url}: HTTP 200 in \\d+ ms\\.$`));
    await submit(page.locator(`tr[data-webhook-id="${failing.id}"]`).getByRole("button", { name: /Send test event/ }));
    expect(new URL(page.url()).pathname).toBe(LIST);
    expect(await flash()).toMatch(new RegExp(`^Test event “New Contact” not delivered to ${failing.url}: HTTP 503 in \\d+ ms\\.$`));
    await atBothWidths();
  });

  it("a webhook's page: a chart with a scale, a legend and readable labels; rows that show they open; one test control; a search box an id fits", async () => {
    await open(`${LIST}/${healthy.id}`);
    const row = page.locator("#log details.delivery").first();
    const marker = () =>
      row.locator("summary").evaluate((s) => {
        const before = getComputedStyle(s, "::before");
        return { content: before.content, display: before.display, transform: before.transform, color: before.color };
      });
    expect((await marker()).content).toContain("▸");
    expect((await marker()).display).not.toBe("none");
    await row.locator("summary").click();
    expect((await marker()).transform).not.toBe("none"); // turned down once open
    expect(await row.locator("table.attempts").isVisible()).toBe(true);
    expect(await page.getByRole("button", { name: /Send test event/ }).count()).toBe(1);
    const search = page.getByLabel("Find an event by its id");
    await search.fill("evt_01kbmz3q7v9c2k4n5p6r7s8t9v");
    expect(await search.evaluate((input: HTMLInputElement) => input.scrollWidth <= input.clientWidth)).toBe(true);
    await search.fill("");
    await search.evaluate((input: HTMLInputElement) => input.blur());

    await atBothWidths(async (width) => {
      const chart = page.locator("#health figure.chart");
      expect(await chart.locator(".legend").textContent()).toMatch(/Delivered attempts.*Failed attempts.*Scale: attempts per 1 hour/);
      // A scale of whole attempts: 0, a round step, twice it, above the busiest bar (3 attempts at most).
      const [top, mid, zero] = (await chart.locator(".y-axis span").allTextContents()).map(Number);
      expect(zero).toBe(0);
      expect(top).toBe(2 * mid!);
      expect(top).toBeGreaterThanOrEqual(1);
      expect(top).toBeLessThanOrEqual(4);
      for (const label of [".y-axis span", ".x-axis span", ".legend"]) {
        const size = await chart
          .locator(label)
          .first()
          .evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
        expect(size, `${label} at ${width} px`).toBeGreaterThanOrEqual(12);
        expect(await chart.locator(label).first().isVisible()).toBe(true);
      }
      if (width === DESKTOP.width) {
        await page.locator("#health").scrollIntoViewIfNeeded();
        await shot("settings-webhook.png");
      } else {
        await shot("settings-webhook-phone.png");
      }
    });
  });

  it("an event found by its id, with what was sent", async () => {
    const eventId = (await page.locator("#log details.delivery").first().getAttribute("data-event-id"))!;
    await page.getByLabel("Find an event by its id").fill(eventId);
    await submit(page.getByRole("button", { name: "Find" }));
    await page.locator("#found pre.payload").waitFor();
    await page.locator("#found").getByText("Headers of the last attempt").click();
    await atBothWidths();
  });

  it("a waiting event says behind which retrying event and until when; a failed test event reads 'failed', not 'dropped'", async () => {
    await open(`${LIST}/${failing.id}`);
    const reason = (id: string) => page.locator(`#log details.delivery[data-event-id="${id}"] .waiting`);
    expect(await reason(waiting).textContent()).toMatch(new RegExp(`^waiting behind ${retrying} \\(retry at \\d\\d:\\d\\d:\\d\\d UTC\\)$`));
    expect(await reason(retrying).textContent()).toMatch(/^scheduled retry at \d\d:\d\d:\d\d UTC$/);
    expect(await reason(waiting).isVisible()).toBe(true);
    const test = page.locator("#log details.delivery", { has: page.locator(".badge.test") }).first();
    expect(await test.locator(".badge").first().textContent()).toBe("failed");
    await atBothWidths();
  });

  it("a webhook with no attempts yet says so where the chart would be", async () => {
    await open(`${LIST}/${quiet.id}`);
    await atBothWidths(async () => {
      expect(await page.locator("#health .chart-empty").textContent()).toMatch(/^No attempts yet in the last 24 hours\./);
      expect(await page.locator("#health svg").count()).toBe(0);
    });
  });

  it("a bad 'Recover since' time: the summary takes the focus at the top, on an address that reloads to the same form", async () => {
    for (const size of [DESKTOP, PHONE]) {
      await page.setViewportSize(size);
      await open(`${LIST}/${healthy.id}`);
      await page.getByLabel("Recover since (UTC)").fill("yesterday 9am");
      await submit(page.getByRole("button", { name: "Recover" }));
      expect(new URL(page.url()).pathname).toBe(`${LIST}/${healthy.id}/recover`);
      for (const when of ["after the post", "after a reload"]) {
        expect(await page.evaluate(() => document.activeElement?.classList.contains("error-summary")), when).toBe(true);
        const box = (await page.locator(".error-summary").boundingBox())!;
        expect(box.y, when).toBeGreaterThanOrEqual(0);
        expect(box.y + box.height, when).toBeLessThanOrEqual(size.height);
        expect(await page.locator(".error-summary").textContent()).toContain(
          "Recover since (UTC): must be a UTC time written YYYY-MM-DD HH:MM",
        );
        expect(await page.getByLabel("Recover since (UTC)").inputValue()).toBe("yesterday 9am");
        expect(await page.getByLabel("Recover since (UTC)").getAttribute("aria-invalid")).toBe("true");
        expect(await seriousViolations(page), `axe at ${size.width} px ${when}`).toEqual([]);
        if (when === "after the post") {
          if (size === DESKTOP) await shot("settings-recover-error.png", false);
          const reloaded = await page.reload({ waitUntil: "load" });
          expect(reloaded!.status()).not.toBe(404);
        }
      }
      // The summary's link takes the keyboard to the field.
      await page.locator(".error-summary a").click();
      expect(await page.evaluate(() => document.activeElement?.id)).toBe("since");
    }
    await page.setViewportSize(DESKTOP);
  });

  it("the Add Webhook form, refused and accepted; the secret page gives the exact receiver command, which verifies the next delivery", async () => {
    await open(`${LIST}/new`);
    await atBothWidths();
    await page.getByLabel("Endpoint URL").fill("not a url");
    await submit(page.getByRole("button", { name: "Add Webhook" }));
    expect(await page.evaluate(() => document.activeElement?.classList.contains("error-summary"))).toBe(true);
    await atBothWidths();
    // The Advanced section open, a batch refused on its wait: audited too, the API's message under that input.
    await page.locator("details.advanced summary").click();
    await page.getByLabel("Events per request (batches)").fill("10");
    await page.getByLabel("Wait for a batch to fill (milliseconds)").fill("20000");
    await submit(page.getByRole("button", { name: "Add Webhook" }));
    expect(await page.locator("#batchMaxWaitMs-error").textContent()).toMatch(/0 to 10000/);
    expect(await page.getByLabel("Wait for a batch to fill (milliseconds)").getAttribute("aria-invalid")).toBe("true");
    await atBothWidths();
    await page.getByLabel("Events per request (batches)").fill("");
    await page.getByLabel("Wait for a batch to fill (milliseconds)").fill("");

    await page.getByLabel("Endpoint URL").fill(`${receiver.url}/hooks/placeholder`);
    await page.getByLabel("New Contact").check();
    await submit(page.getByRole("button", { name: "Add Webhook" }));
    await page.getByRole("heading", { name: "Webhook added" }).waitFor();
    const secret = await page.getByLabel("Signing secret", { exact: true }).inputValue();
    const command = (await page.locator("#receiver-command").textContent())!;
    expect(command).toBe(`npm run receiver -- --secret ${secret}`);
    expect(await page.locator("main").textContent()).toContain('import { createServer } from "node:http";');
    expect(await page.locator("main").textContent()).not.toMatch(/express/i);
    // Breadcrumbs lead to the new webhook's page.
    expect(await page.locator("nav.crumbs a").last().getAttribute("href")).toMatch(new RegExp(`^${LIST}/wh_`));
    await atBothWidths();

    // The command as printed (plus a free port): the receiver verifies what the pages' webhook sends.
    localReceiver = await startReceiverProcess(command.split(" -- ")[1]!.split(" "));
    const [created] = ((await api("GET", "/v1/webhooks")).json.data as { id: string; url: string }[]).filter((w) =>
      w.url.endsWith("/placeholder"),
    );
    expect((await api("PATCH", `/v1/webhooks/${created!.id}`, { url: `${localReceiver.url}/crm` })).status).toBe(200);
    await open(LIST);
    await submit(page.locator(`tr[data-webhook-id="${created!.id}"]`).getByRole("button", { name: /Send test event/ }));
    expect(await flash()).toMatch(/^Test event “New Contact” delivered to /);
    await localReceiver.waitForLine(/POST \/crm\s+contact\.created .* signature ok\s+→ 200/);
    expect((await api("DELETE", `/v1/webhooks/${created!.id}`)).status).toBe(204);
  });

  it("the edit, rotate and delete pages, with breadcrumbs back to the webhook", async () => {
    await open(`${LIST}/${healthy.id}/edit`);
    await atBothWidths();
    for (const step of ["rotate-secret", "delete"]) {
      await open(`${LIST}/${healthy.id}/${step}`);
      const crumb = page.locator("nav.crumbs a", { hasText: healthy.url });
      expect(await crumb.getAttribute("href"), step).toBe(`${LIST}/${healthy.id}`);
      await atBothWidths();
    }
  });

  it("the Alerts page: back to Webhooks, its alerts in words with an example; the pages for an unknown webhook, a refused post, a malformed address and a form over 64 KiB", async () => {
    await open(LIST);
    await submit(page.getByRole("link", { name: "Alerts", exact: true }));
    await page.getByText("Example: what your endpoint receives when a webhook is disabled").click();
    expect(JSON.parse((await page.locator("details.example pre").textContent())!)).toMatchObject({
      event_type: "webhook.disabled",
      reason: "failure_quota",
    });
    expect(await page.locator("dl.alert-types dt").allTextContents()).toEqual(
      expect.arrayContaining([expect.stringMatching(/^Webhook disabled/)]),
    );
    await atBothWidths();
    // Setting an alert URL: its secret page, then the question before rotating it.
    await page.getByLabel("Alert URL").fill(`${receiver.url}/hooks/alerts`);
    await submit(page.getByRole("button", { name: "Save alert URL" }));
    await page.getByRole("heading", { name: "Alert URL set" }).waitFor();
    await atBothWidths();
    await open("/settings/integrations/alerts/rotate-secret");
    await atBothWidths();
    await open("/settings/integrations/alerts");
    await submit(page.locator("nav.crumbs").getByRole("link", { name: "Webhooks" }));
    expect(new URL(page.url()).pathname).toBe(LIST);

    expect((await open(`${LIST}/wh_unknown`)).status()).toBe(404);
    await atBothWidths();
    // The landing pages of an emailed confirmation link and of a portal link, here with tokens that are no good.
    for (const path of ["/settings/confirm-email/not-a-token", "/settings/portal/not-a-token"]) {
      expect((await open(path)).status(), path).toBeLessThan(500);
      await atBothWidths();
    }

    // A form posted from another page (here one with no origin): the pages' own "Request refused".
    await page.goto("about:blank"); // an origin of its own: setContent alone would write into the Worker's page
    await page.setContent(`<form method="post" action="${worker.url}${LIST}/${healthy.id}/disable"><button>Go</button></form>`);
    await submit(page.locator("button"));
    await page.getByRole("heading", { name: "Request refused" }).waitFor();
    await atBothWidths();
    expect((await api("GET", `/v1/webhooks/${healthy.id}`)).json.enabled).toBe(true);

    // The pages refused before any route: an address that does not decode, and a form over 64 KiB.
    expect((await open(`${LIST}/%ZZ`)).status()).toBe(400);
    await page.getByRole("heading", { name: "Malformed address" }).waitFor();
    await atBothWidths();
    await page.goto("about:blank");
    await page.setContent(
      `<form method="post" action="${worker.url}${LIST}/${healthy.id}/disable"><textarea name="x">${"a".repeat(70_000)}</textarea><button>Go</button></form>`,
    );
    await submit(page.locator("button"));
    await page.getByRole("heading", { name: "Form too large" }).waitFor();
    await atBothWidths();
    expect((await api("GET", `/v1/webhooks/${healthy.id}`)).json.enabled).toBe(true);
  });

  it("the list and the webhook's page with the auto-disable banner, once the failure quota switched a webhook off", async () => {
    await fetch(`${receiver.url}/_control/flaky`, { method: "PUT", body: JSON.stringify({ fallback: { status: 500 } }) });
    const flaky = await api("POST", "/v1/webhooks", {
      url: `${receiver.url}/hooks/flaky`,
      events: ["conversation.opened"],
      retryDelaysSeconds: [1],
    });
    for (let i = 0; i < 2; i++) await api("POST", "/v1/events", { type: "conversation.opened", data: {} });
    await until(
      async () => (await api("GET", `/v1/webhooks/${flaky.json.id}`)).json.enabled === false,
      "the quota to disable the flaky webhook",
    );
    await open(LIST);
    await page.getByRole("heading", { name: "A webhook was disabled automatically" }).waitFor();
    await atBothWidths();
    await open(`${LIST}/${flaky.json.id}`);
    await page.getByRole("heading", { name: "A webhook was disabled automatically" }).waitFor();
    await atBothWidths();
    expect(outside).toEqual([]);
  });
});
