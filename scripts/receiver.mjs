#!/usr/bin/env node
// `npm run receiver`: a local webhook endpoint that verifies both signatures and prints one line per delivery.
// Options: --port 8788, --secret whsec_… (repeatable, for a rotation), --secret-file wh.json (re-read on every
// request: a create or rotate-secret response saved there is picked up at once), --fail (500), --gone (410),
// --delay <ms>. WEBHOOK_SECRET (space-separated) adds secrets too. `--poll <webhook id>` consumes a polling
// webhook instead (poll-consumer.mjs), with --token whpoll_… or --token-file wh.json (or an API key: API_KEY).
import { createHmac, timingSafeEqual } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { Webhook } from "standardwebhooks";
import { consume } from "./poll-consumer.mjs";

const USAGE = `usage: npm run receiver -- [--port 8788] [--secret whsec_…]… [--secret-file wh.json]… [--fail | --gone] [--delay ms]
       npm run receiver -- --poll <webhook id> [--token whpoll_… | --token-file wh.json] [--api http://127.0.0.1:8787] [--limit 100] [--wait 20]`;

/** @param {string} message @returns {never} */
function usage(message) {
  console.error(`receiver: ${message}\n${USAGE}`);
  process.exit(2);
}

function parse() {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: process.env.RECEIVER_PORT ?? "8788" },
      host: { type: "string", default: "127.0.0.1" },
      secret: { type: "string", multiple: true, default: [] },
      "secret-file": { type: "string", multiple: true, default: [] },
      fail: { type: "boolean", default: false },
      gone: { type: "boolean", default: false },
      delay: { type: "string", default: "0" },
      poll: { type: "string" },
      token: { type: "string", default: process.env.POLL_TOKEN ?? process.env.API_KEY },
      "token-file": { type: "string" },
      api: { type: "string", default: process.env.EDGE_WEBHOOKS_URL ?? "http://127.0.0.1:8787" },
      limit: { type: "string", default: "100" },
      wait: { type: "string", default: "20" },
      help: { type: "boolean", default: false },
    },
  });
  return values;
}

/** @type {ReturnType<typeof parseOptions>} */
let options;
function parseOptions() {
  let values;
  try {
    values = parse();
  } catch (err) {
    return usage(/** @type {Error} */ (err).message);
  }
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const port = Number(values.port);
  const delay = Number(values.delay);
  if (!Number.isInteger(port) || port < 0 || port > 65535) usage(`--port must be a port number, got ${values.port}`);
  if (!Number.isFinite(delay) || delay < 0) usage(`--delay must be milliseconds, got ${values.delay}`);
  if (values.fail && values.gone) usage("--fail and --gone cannot both be given");
  // npm runs scripts from the package folder; a relative --secret-file means the caller's folder.
  const from = process.env.INIT_CWD ?? process.cwd();
  const secrets = [...values.secret, ...(process.env.WEBHOOK_SECRET ?? "").split(/\s+/).filter(Boolean)];
  for (const secret of secrets) if (!secret.startsWith("whsec_")) usage(`a secret starts with whsec_, got ${secret.slice(0, 12)}…`);
  const limit = Number(values.limit);
  const wait = Number(values.wait);
  if (values.poll !== undefined) {
    if (!Number.isInteger(limit) || limit < 1 || limit > 250) usage(`--limit must be 1-250, got ${values.limit}`);
    if (!Number.isInteger(wait) || wait < 0 || wait > 30) usage(`--wait must be 0-30 seconds, got ${values.wait}`);
    if (!values.token && !values["token-file"]) usage("--poll needs --token whpoll_… or --token-file wh.json (or API_KEY)");
  }
  return {
    poll: values.poll,
    token: values.token,
    tokenFile: values["token-file"] && resolve(from, values["token-file"]),
    api: values.api.replace(/\/$/, ""),
    limit,
    wait,
    port,
    host: values.host,
    delay,
    secrets,
    secretFiles: values["secret-file"].map((file) => resolve(from, file)),
    status: values.fail ? 500 : values.gone ? 410 : 200,
  };
}

/** A file holding a create/rotate response (its `secret`), or secrets as text. Missing: none yet. */
function secretsInFile(/** @type {string} */ file) {
  let text;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  try {
    const json = JSON.parse(text);
    if (typeof json?.secret === "string") return [json.secret];
  } catch {}
  return text.match(/whsec_[A-Za-z0-9+/=]+/g) ?? [];
}

function currentSecrets() {
  return [...new Set([...options.secrets, ...options.secretFiles.flatMap(secretsInFile)])];
}

/**
 * Both schemes, each against every known secret: Standard Webhooks (`webhook-signature`, through the
 * `standardwebhooks` package) and respond.io's (`x-webhook-signature`: base64 HMAC-SHA256 of the raw body,
 * keyed with the secret string as given).
 * @param {string[]} secrets @param {string} body @param {import("node:http").IncomingHttpHeaders} headers
 */
function verify(secrets, body, headers) {
  const plain = /** @type {Record<string, string>} */ (Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, String(v)])));
  const standard = secrets.some((secret) => {
    try {
      new Webhook(secret).verify(body, plain);
      return true;
    } catch {
      return false;
    }
  });
  const given = Buffer.from(plain["x-webhook-signature"] ?? "");
  const respondIo = secrets.some((secret) => {
    const expected = Buffer.from(createHmac("sha256", secret).update(body).digest("base64"));
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
  return { standard, respondIo };
}

/** Attempts seen per webhook-id (the event id, the same on every retry). */
const attempts = new Map();

/** @param {import("node:http").IncomingMessage} req @param {import("node:http").ServerResponse} res */
async function handle(req, res) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const body = Buffer.concat(chunks).toString("utf8");
  const id = String(req.headers["webhook-id"] ?? "");
  const attempt = (attempts.get(id) ?? 0) + 1;
  if (id) attempts.set(id, attempt);

  /** @type {Record<string, unknown>} */
  let event = {};
  try {
    event = JSON.parse(body);
  } catch {}
  const secrets = currentSecrets();
  let signature;
  let status = options.status;
  if (secrets.length === 0) signature = "signature not checked (no secret: --secret or --secret-file)";
  else {
    const { standard, respondIo } = verify(secrets, body, req.headers);
    signature =
      standard && respondIo
        ? "signature ok"
        : `signature FAILED (standard webhooks ${standard ? "ok" : "failed"}, respond.io ${respondIo ? "ok" : "failed"})`;
    // A real endpoint refuses what it cannot verify; so does this one, unless told to answer otherwise.
    if (!(standard && respondIo) && status === 200) status = 401;
  }
  if (options.delay > 0) await new Promise((done) => setTimeout(done, options.delay));
  const line = [
    new Date().toISOString(),
    `${req.method} ${req.url}`,
    String(event.event_type ?? "(no event_type)"),
    String(event.event_id ?? (id || "(no webhook-id)")),
    `attempt ${attempt}`,
    signature,
    `→ ${status}${options.delay > 0 ? ` after ${options.delay} ms` : ""}`,
  ];
  console.log(line.join("  "));
  const answers = { 200: "ok", 401: "signature verification failed", 410: "gone (--gone)", 500: "failing on purpose (--fail)" };
  res.writeHead(status, { "content-type": "text/plain" }).end(`${answers[/** @type {200} */ (status)]}\n`);
}

options = parseOptions();
if (options.poll !== undefined) {
  await consume({ webhookId: options.poll, api: options.api, token: options.token, tokenFile: options.tokenFile, limit: options.limit, wait: options.wait });
}
const server = createServer((req, res) => {
  handle(req, res).catch((err) => {
    console.error("receiver:", err);
    if (!res.headersSent) res.writeHead(500).end();
  });
});
server.on("error", (err) => {
  console.error(`receiver: cannot listen on ${options.host}:${options.port}: ${err.message}`);
  process.exit(1);
});
server.listen(options.port, options.host, () => {
  const address = /** @type {import("node:net").AddressInfo} */ (server.address());
  const sources = [
    ...(options.secrets.length ? [`${options.secrets.length} secret(s) given`] : []),
    ...options.secretFiles.map((file) => `the secret in ${file} (read on every request${existsSync(file) ? "" : "; not there yet"})`),
  ];
  const checking = sources.length ? `verifying with ${sources.join(" and ")}` : "no secret: signatures not checked";
  const answer = options.status === 200 ? "200 when the signatures verify" : String(options.status);
  console.log(`Receiver listening on http://${options.host}:${address.port}/ (${checking}; answering ${answer}${options.delay ? ` after ${options.delay} ms` : ""})`);
});
for (const signal of /** @type {const} */ (["SIGINT", "SIGTERM"])) process.on(signal, () => process.exit(0));
