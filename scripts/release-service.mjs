// The service as `npm run dev` runs it, on a given --persist-to folder, for the release fixture's generator
// (scripts/release-fixture.mjs) and the upgrade test (test/e2e/upgrade.test.ts): both go through scripts/dev.mjs so
// whatever it prepares there (migrations, the dev workspace, a local key it keeps in the folder) is the same.
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { delimiter, join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dirname, "..");
/** Where the fixture's webhooks point: a fixed loopback port, so the URLs stored in it find the upgrade test's receiver. */
export const RECEIVER_PORT = 18787;
/** Passed to dev.mjs as ADMIN_TOKEN (32+ characters), so the admin API is reachable without importing dev.mjs. */
export const ADMIN_TOKEN = "release-fixture-admin-token-not-a-secret";
export const FIXTURE_DIR = join(ROOT, "test/fixtures/release-1.0.0");

const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

/** A port the OS says is free now (listen on 0, read it, close). */
export function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

/**
 * Polls `check` until it returns something truthy, every `everyMs`, up to `timeoutMs`; throws `what` (with the last
 * value seen) otherwise. For states a loaded machine reaches in its own time.
 * @template T
 * @param {string} what @param {() => Promise<T>} check
 * @returns {Promise<Exclude<T, false | null | undefined | 0 | "">>}
 */
export async function until(what, check, timeoutMs = 120_000, everyMs = 250) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await check();
    if (last) return /** @type {Exclude<T, false | null | undefined | 0 | "">} */ (last);
    if (Date.now() > deadline) throw new Error(`timed out (${timeoutMs / 1000} s) waiting for ${what}; last seen: ${JSON.stringify(last)}`);
    await sleep(everyMs);
  }
}

/**
 * Starts `node scripts/dev.mjs --persist-to <persist>` on free ports with `vars` (NAME → value) and waits until the
 * API answers. `stop()` sends SIGTERM to dev.mjs (which hands it to wrangler, so storage is closed cleanly) and
 * waits for it, then ends whatever is left of the process group it leads.
 * @param {{ persist: string, vars?: Record<string, string>, timeoutMs?: number }} options
 */
export async function startService({ persist, vars = {}, timeoutMs = 180_000 }) {
  const [port, inspectorPort] = [await freePort(), await freePort()];
  const args = [join(ROOT, "scripts/dev.mjs"), "--persist-to", persist, "--port", String(port), "--inspector-port", String(inspectorPort)];
  for (const [name, value] of Object.entries({ ADMIN_TOKEN, ...vars })) args.push("--var", `${name}:${value}`);
  const env = {
    ...process.env,
    PATH: `${join(ROOT, "node_modules/.bin")}${delimiter}${process.env.PATH ?? ""}`,
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    CI: "true",
    NO_COLOR: "1",
  };
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let output = "";
  child.stdout?.on("data", (d) => (output += d.toString()));
  child.stderr?.on("data", (d) => (output += d.toString()));
  const exited = new Promise((done) => child.once("exit", done));
  const url = `http://127.0.0.1:${port}`;

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      child.kill("SIGTERM");
      await Promise.race([exited, sleep(30_000)]);
    }
    // wrangler and workerd are in dev.mjs's group: nothing of it may outlive the run.
    try {
      if (child.pid) process.kill(-child.pid, "SIGKILL");
    } catch {}
  };

  try {
    await until(
      `the service on ${url} (dev.mjs --persist-to ${persist})`,
      async () => {
        if (child.exitCode !== null) throw new Error(`dev.mjs exited with ${child.exitCode}:\n${output}`);
        return fetch(`${url}/v1/event-types`).then(
          (r) => r.ok,
          () => false,
        );
      },
      timeoutMs,
    );
  } catch (err) {
    await stop();
    throw new Error(`${/** @type {Error} */ (err).message}\n${output}`);
  }
  return { url, output: () => output, stop };
}

/**
 * A JSON client for the API with one bearer credential: `call(method, path, body?)` answers `{status, body}`,
 * `ok(...)` also insists on a 2xx.
 * @param {string} base @param {string} bearer
 */
export function client(base, bearer) {
  /** @param {string} method @param {string} path @param {unknown} [body] */
  const call = async (method, path, body) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${bearer}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    /** @type {any} */
    let parsed = text;
    try {
      parsed = JSON.parse(text);
    } catch {}
    return { status: res.status, body: parsed };
  };
  /** @param {string} method @param {string} path @param {unknown} [body] @returns {Promise<any>} */
  const ok = async (method, path, body) => {
    const res = await call(method, path, body);
    if (res.status < 200 || res.status > 299) throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body;
  };
  return { call, ok };
}

/**
 * Everything a webhook's delivery log holds, oldest first (the API pages newest first).
 * @param {ReturnType<typeof client>} api @param {string} webhookId
 * @returns {Promise<any[]>}
 */
export async function allDeliveries(api, webhookId) {
  /** @type {any[]} */
  const rows = [];
  let cursor = null;
  do {
    const page = await api.ok(
      "GET",
      `/v1/webhooks/${webhookId}/deliveries?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
    );
    rows.push(...page.data);
    cursor = page.nextCursor;
  } while (cursor);
  return rows.reverse();
}
