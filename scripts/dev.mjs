#!/usr/bin/env node
// `npm run dev`: prepares local D1 (migrations + the dev workspace) and starts `wrangler dev` with everything it needs.
// Extra arguments go to `wrangler dev`; `--persist-to <dir>` is honoured by every step.
import { spawnSync, spawn } from "node:child_process";

export const DEV_API_KEY = "whk_dev_local_key_do_not_use_in_production";
export const DEV_ADMIN_TOKEN = "dev-admin-token";
/** Signs the settings pages' session cookies locally; production sets the SESSION_SECRET secret. */
export const DEV_SESSION_SECRET = "dev-session-secret-not-for-production";

const args = process.argv.slice(2);
const persistAt = args.findIndex((a) => a === "--persist-to" || a.startsWith("--persist-to="));
const persist =
  persistAt === -1 ? [] : args[persistAt].includes("=") ? [args[persistAt]] : [args[persistAt], args[persistAt + 1]];
/** @param {string} flag */
const has = (flag) => args.some((a) => a === flag || a.startsWith(`${flag}=`));
/** @param {string} name */
const hasVar = (name) => args.some((a, i) => args[i - 1] === "--var" && a.startsWith(`${name}:`));

process.env.WRANGLER_SEND_METRICS ??= "false";

/** @param {string[]} stepArgs */
function wrangler(stepArgs) {
  const result = spawnSync("wrangler", stepArgs, { stdio: "inherit", env: process.env });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

wrangler(["d1", "migrations", "apply", "DB", "--local", ...persist]);
wrangler(["d1", "execute", "DB", "--local", "--file", "scripts/dev-seed.sql", ...persist]);

const devArgs = ["dev", ...args];
if (!has("--ip")) devArgs.push("--ip", "127.0.0.1");
if (!has("--port")) devArgs.push("--port", "8787");
if (!hasVar("ADMIN_TOKEN")) devArgs.push("--var", `ADMIN_TOKEN:${DEV_ADMIN_TOKEN}`);
if (!hasVar("ALLOW_PRIVATE_URLS")) devArgs.push("--var", "ALLOW_PRIVATE_URLS:true");
if (!hasVar("SESSION_SECRET")) devArgs.push("--var", `SESSION_SECRET:${DEV_SESSION_SECRET}`);

const port = devArgs[devArgs.indexOf("--port") + 1];
console.log(`
  Edge Webhooks (local)   http://127.0.0.1:${port}   docs: http://127.0.0.1:${port}/docs
  Settings pages          http://127.0.0.1:${port}/settings (sign in with the dev API key)
  Dev workspace API key   ${DEV_API_KEY}
  Admin token             ${hasVar("ADMIN_TOKEN") ? "(as given with --var)" : DEV_ADMIN_TOKEN}
`);

const child = spawn("wrangler", devArgs, { stdio: "inherit", env: process.env });
for (const signal of /** @type {const} */ (["SIGINT", "SIGTERM"])) process.on(signal, () => child.kill(signal));
child.on("exit", (code) => process.exit(code ?? 0));
