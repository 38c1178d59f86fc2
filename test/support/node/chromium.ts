// Finds a Chromium for the browser test: CHROMIUM_PATH, else a system Chromium/Chrome, else the one that
// `npm install` brought inside @sparticuz/chromium (Linux x64/arm64), so a fresh clone needs no apt-get.
// CHROMIUM_PATH=bundled picks that last one even where a system browser exists.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../../..");

const SYSTEM_BROWSERS = [
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
  "/usr/bin/google-chrome-stable",
  "/Applications/Chromium.app/Contents/MacOS/Chromium",
  "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
];

/** Nothing may call out: no component updates, sync, metrics or first-run pings. */
const QUIET = [
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-default-apps",
  "--disable-domain-reliability",
  "--metrics-recording-only",
  "--no-first-run",
  "--no-pings",
];

/** @sparticuz/chromium's Lambda flags that would weaken the very page security under test. */
const WEAKENING = new Set(["--disable-web-security", "--allow-running-insecure-content", "--disable-site-isolation-trials"]);

export interface FoundBrowser {
  executablePath: string;
  args: string[];
  /** Where it came from, for the test's log. */
  source: string;
  env?: Record<string, string>;
}

const HOW_TO_GET_ONE =
  "set CHROMIUM_PATH to a Chromium or Chrome binary, or install one (Debian/Ubuntu: apt-get install -y chromium; " +
  "macOS: Google Chrome in /Applications). The bundled @sparticuz/chromium only exists for Linux x64 and arm64.";

export async function findChromium(): Promise<FoundBrowser> {
  const systemArgs = ["--headless", "--no-sandbox", "--disable-gpu", ...QUIET];
  const given = process.env.CHROMIUM_PATH;
  if (given === "bundled") return bundledChromium(); // the one a machine without a browser gets, wherever run
  if (given) {
    if (!existsSync(given)) throw new Error(`CHROMIUM_PATH=${given} does not exist: ${HOW_TO_GET_ONE}`);
    return { executablePath: given, args: systemArgs, source: "CHROMIUM_PATH" };
  }
  const system = SYSTEM_BROWSERS.find((path) => existsSync(path));
  if (system) return { executablePath: system, args: systemArgs, source: "system" };
  if (process.platform === "linux" && (process.arch === "x64" || process.arch === "arm64")) return bundledChromium();
  throw new Error(`no Chromium found on ${process.platform}/${process.arch}: ${HOW_TO_GET_ONE}`);
}

/**
 * @sparticuz/chromium unpacks its brotli archives into os.tmpdir()/chromium and reuses whatever file is there,
 * even one another process is still writing. So it unpacks, in a child process, into a private folder under
 * node_modules/.cache that is renamed into place only once complete: reused by later runs, never seen half-written.
 */
export async function bundledChromium(): Promise<FoundBrowser> {
  const pkgFile = join(ROOT, "node_modules/@sparticuz/chromium/package.json");
  if (!existsSync(pkgFile)) throw new Error(`no Chromium found and @sparticuz/chromium is not installed (npm install): ${HOW_TO_GET_ONE}`);
  const pkg = JSON.parse(readFileSync(pkgFile, "utf8")) as { version: string };
  const cache = join(ROOT, "node_modules/.cache/edge-webhooks-chromium");
  const dir = join(cache, pkg.version);
  if (!existsSync(join(dir, "chromium"))) {
    mkdirSync(cache, { recursive: true });
    const staging = mkdtempSync(join(cache, "unpacking-"));
    const unpack = spawnSync(
      process.execPath,
      ["--input-type=module", "-e", 'const { default: c } = await import("@sparticuz/chromium"); console.log(await c.executablePath());'],
      { cwd: ROOT, env: { ...process.env, TMPDIR: staging }, encoding: "utf8" },
    );
    if (unpack.status !== 0) {
      rmSync(staging, { recursive: true, force: true });
      throw new Error(`could not unpack @sparticuz/chromium (run npm install?): ${unpack.stderr}\nOtherwise ${HOW_TO_GET_ONE}`);
    }
    // Its fonts.conf names Lambda's folders; this one adds its Open Sans to the system's fonts.
    writeFileSync(
      join(staging, "fonts.conf"),
      `<?xml version="1.0"?><fontconfig><include ignore_missing="yes">/etc/fonts/fonts.conf</include>` +
        `<dir>${join(dir, "fonts")}</dir><cachedir>${join(dir, "fonts-cache")}</cachedir></fontconfig>\n`,
    );
    try {
      renameSync(staging, dir);
    } catch {
      rmSync(staging, { recursive: true, force: true }); // another run finished first: use its copy
    }
  }
  const { default: chromium } = await import("@sparticuz/chromium");
  return {
    executablePath: join(dir, "chromium"),
    args: [...chromium.args.filter((arg) => !WEAKENING.has(arg)), ...QUIET],
    source: `@sparticuz/chromium ${pkg.version}`,
    env: { FONTCONFIG_FILE: join(dir, "fonts.conf") },
  };
}
