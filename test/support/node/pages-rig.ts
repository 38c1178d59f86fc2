// What the settings pages' browser tests stand on: `wrangler dev` with the given vars, a real receiver, one workspace
// made with the admin token, and Chromium on a 1280 px page that may load nothing but the Worker.
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { startReceiver } from "./receiver";
import { findChromium } from "./chromium";
import { startWorker, type RunningWorker } from "./worker";

export interface PagesRig {
  worker: RunningWorker;
  receiver: { url: string; close: () => Promise<void> };
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** The workspace's API key. */
  apiKey: string;
  /** Anything the pages tried to load from elsewhere than the Worker (always refused). */
  outside: string[];
  /** The public API, called with the workspace's key. */
  api: (method: string, path: string, body?: unknown) => Promise<{ status: number; json: any }>;
  stop: () => Promise<void>;
}

export async function startPagesRig(options: { vars: Record<string, string>; bypassCSP?: boolean }): Promise<PagesRig> {
  const admin = options.vars.ADMIN_TOKEN!;
  const found = await findChromium();
  const receiver = await startReceiver();
  const worker = await startWorker(options.vars);
  const res = await fetch(`${worker.url}/v1/admin/workspaces`, {
    method: "POST",
    headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "Acme Support", notificationEmail: "ops@acme.example" }),
  });
  const apiKey = ((await res.json()) as { apiKey: string }).apiKey;
  const browser = await chromium.launch({
    executablePath: found.executablePath,
    args: found.args,
    headless: true,
    env: { ...process.env, ...found.env },
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: options.bypassCSP ?? false });
  // Nothing may be fetched from anywhere but the Worker itself: no CDN, no font.
  const outside: string[] = [];
  await context.route(/^(?!http:\/\/127\.0\.0\.1:)/, (route) => {
    outside.push(route.request().url());
    return route.abort();
  });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(worker.url + path, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  };
  const stop = async () => {
    await browser.close();
    await worker.stop();
    await receiver.close();
  };
  return { worker, receiver, browser, context, page, apiKey, outside, api, stop };
}
