// The browser test's Chromium: whatever the machine has, the one `npm install` brings must launch and render,
// since a fresh Linux machine without a system browser has only that one.
import { chromium } from "playwright-core";
import { afterEach, describe, expect, it } from "vitest";
import { bundledChromium, findChromium } from "../support/node/chromium";

const bundled = process.platform === "linux" && (process.arch === "x64" || process.arch === "arm64");
const saved = process.env.CHROMIUM_PATH;
afterEach(() => {
  if (saved === undefined) delete process.env.CHROMIUM_PATH;
  else process.env.CHROMIUM_PATH = saved;
});

describe("finding Chromium", () => {
  it.runIf(bundled)("launches the @sparticuz/chromium that npm install brought, and renders a page", async () => {
    const found = await bundledChromium();
    expect(found.args).toEqual(expect.arrayContaining(["--disable-background-networking", "--disable-component-update", "--no-first-run"]));
    expect(found.args).not.toContain("--disable-web-security");
    const browser = await chromium.launch({
      executablePath: found.executablePath,
      args: found.args,
      headless: true,
      env: { ...process.env, ...found.env },
    });
    try {
      const page = await browser.newPage();
      await page.setContent("<main><h1>rendered</h1></main>");
      expect(await page.locator("h1").textContent()).toBe("rendered");
      expect(await page.evaluate(() => document.querySelector("h1")!.getBoundingClientRect().height)).toBeGreaterThan(0);
    } finally {
      await browser.close();
    }
  });

  it("takes CHROMIUM_PATH first (bundled: the package's), and says how to get a browser when it names nothing", async () => {
    process.env.CHROMIUM_PATH = "/nonexistent/chromium";
    await expect(findChromium()).rejects.toThrow(
      /CHROMIUM_PATH=\/nonexistent\/chromium does not exist: set CHROMIUM_PATH .*apt-get install -y chromium/,
    );
    process.env.CHROMIUM_PATH = process.execPath; // any file that exists: it is taken as given
    expect(await findChromium()).toMatchObject({ executablePath: process.execPath, source: "CHROMIUM_PATH" });
    if (bundled) {
      process.env.CHROMIUM_PATH = "bundled";
      expect((await findChromium()).source).toMatch(/^@sparticuz\/chromium \d+/);
    }
  });
});
