#!/usr/bin/env node
// `npm run dev`: prepares local D1 (migrations + the dev workspace) and starts `wrangler dev` with everything it needs.
// Extra arguments go to `wrangler dev`; `--persist-to <dir>` is honoured by every step. Quiet by default: the
// steps' and wrangler's start-up output go to a log file (shown if a step fails), `--verbose` prints everything.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { relative, resolve } from "node:path";

export const DEV_API_KEY = "whk_dev_local_key_do_not_use_in_production";
export const DEV_ADMIN_TOKEN = "dev-admin-token-not-for-production-use";
/** Signs the settings pages' session cookies locally; production sets the SESSION_SECRET secret. */
export const DEV_SESSION_SECRET = "dev-session-secret-not-for-production";

const verbose = process.argv.includes("--verbose");
const args = process.argv.slice(2).filter((a) => a !== "--verbose");
const persistAt = args.findIndex((a) => a === "--persist-to" || a.startsWith("--persist-to="));
const persist = persistAt === -1 ? [] : args[persistAt].includes("=") ? [args[persistAt]] : [args[persistAt], args[persistAt + 1]];
const persistDir = persist.length === 0 ? undefined : persist.length === 1 ? persist[0].slice("--persist-to=".length) : persist[1];
/** @param {string} flag */
const has = (flag) => args.some((a) => a === flag || a.startsWith(`${flag}=`));
/** @param {string} name */
const hasVar = (name) => args.some((a, i) => args[i - 1] === "--var" && a.startsWith(`${name}:`));

process.env.WRANGLER_SEND_METRICS ??= "false";
// Without this, every start asks workers.cloudflare.com for a Request.cf sample (and prints a stack trace offline).
process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";

const logFile = resolve(persistDir ?? ".wrangler", "dev.log");
mkdirSync(resolve(logFile, ".."), { recursive: true });
writeFileSync(logFile, `npm run dev ${args.join(" ")} (${new Date().toISOString()})\n`);
const shownLog = relative(process.cwd(), logFile).startsWith("..") ? logFile : relative(process.cwd(), logFile);

/** @param {string} text */
function log(text) {
  appendFileSync(logFile, text);
  if (verbose) process.stdout.write(text);
}

/** @param {string} why */
function fail(why, code = 1) {
  if (!verbose) process.stderr.write(`\n${tail()}\n`);
  console.error(`npm run dev: ${why}. Everything it printed: ${shownLog}`);
  process.exit(code);
}

let collected = "";
function tail() {
  return collected.split("\n").slice(-40).join("\n");
}

/** @param {string} what @param {string[]} stepArgs */
function step(what, stepArgs) {
  log(`\n$ wrangler ${stepArgs.join(" ")}\n`);
  const result = spawnSync("wrangler", stepArgs, { env: process.env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}${result.error ? String(result.error) : ""}`;
  collected += output;
  log(output);
  if (result.status !== 0) fail(`${what} failed`, result.status ?? 1);
}

step("applying the D1 migrations", ["d1", "migrations", "apply", "DB", "--local", ...persist]);
step("seeding the dev workspace", ["d1", "execute", "DB", "--local", "--file", "scripts/dev-seed.sql", ...persist]);

const devArgs = ["dev", ...args];
if (!has("--ip")) devArgs.push("--ip", "127.0.0.1");
if (!has("--port")) devArgs.push("--port", "8787");
if (!has("--show-interactive-dev-session")) devArgs.push("--show-interactive-dev-session=false");
if (!hasVar("ADMIN_TOKEN")) devArgs.push("--var", `ADMIN_TOKEN:${DEV_ADMIN_TOKEN}`);
if (!hasVar("ALLOW_PRIVATE_URLS")) devArgs.push("--var", "ALLOW_PRIVATE_URLS:true");
if (!hasVar("SESSION_SECRET")) devArgs.push("--var", `SESSION_SECRET:${DEV_SESSION_SECRET}`);
if (!hasVar("ENCRYPTION_KEYS")) devArgs.push("--var", `ENCRYPTION_KEYS:${localEncryptionKeys()}`);

/**
 * The local ENCRYPTION_KEYS: made once, at random, and kept beside the local state it seals (the secrets stored there
 * need it for as long as that state lives); production sets its own (docs/deploy.md).
 */
function localEncryptionKeys() {
  const file = resolve(persistDir ?? ".wrangler", "encryption-keys");
  if (!existsSync(file)) writeFileSync(file, `dev:${randomBytes(32).toString("base64")}\n`, { mode: 0o600 });
  return readFileSync(file, "utf8").trim();
}

/** @param {string} url */
function banner(url) {
  return `
  Edge Webhooks is running locally (stop it with Ctrl-C)

  API              ${url}
  API reference    ${url}/docs
  Settings pages   ${url}/settings  (sign in with the dev API key)
  Dev API key      ${DEV_API_KEY}   (workspace ws_dev)
  Admin token      ${hasVar("ADMIN_TOKEN") ? "(as given with --var ADMIN_TOKEN:…)" : DEV_ADMIN_TOKEN}
  Receiver         npm run receiver   (in another terminal: a local endpoint on http://127.0.0.1:8788 that checks signatures)
  wrangler's log   ${shownLog}${verbose ? "" : "   (npm run dev -- --verbose prints it here)"}

`;
}

/**
 * After start-up, wrangler's request lines, email notices and errors are worth seeing; its bindings table
 * (printed again at every reload) is not.
 */
function noise() {
  let inTable = false;
  return (/** @type {string} */ line) => {
    if (line.startsWith("Your Worker has access to the following bindings:")) inTable = true;
    if (inTable) {
      if (line.trim() === "") inTable = false;
      return true;
    }
    return /^⎔ (Connection status updated|Reloading local server|Starting local server)/.test(line) || /^ ⛅️ wrangler|^─+$/.test(line);
  };
}

log(`\n$ wrangler ${devArgs.join(" ")}\n`);
const child = spawn("wrangler", devArgs, { stdio: ["ignore", "pipe", "pipe"], env: process.env });
let ready = false;
let pending = "";
const isNoise = noise();
/** @param {Buffer} chunk */
function onOutput(chunk) {
  const text = chunk.toString();
  appendFileSync(logFile, text);
  if (verbose) process.stdout.write(text);
  else if (!ready) collected += text;
  pending += text;
  const lines = pending.split("\n");
  pending = lines.pop() ?? "";
  for (const line of lines) {
    const plain = line.replace(/\x1b\[[0-9;]*m/g, "");
    if (!ready) {
      const url = /Ready on (http:\/\/\S+)/.exec(plain)?.[1];
      if (url) {
        ready = true;
        process.stdout.write(banner(url));
      }
    } else if (!verbose && !isNoise(plain)) process.stdout.write(`${line}\n`);
  }
}
child.stdout.on("data", onOutput);
child.stderr.on("data", onOutput);
for (const signal of /** @type {const} */ (["SIGINT", "SIGTERM"])) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => {
  if (!ready && !signal) fail("wrangler dev stopped before it was ready", code ?? 1);
  process.exit(code ?? 0);
});
