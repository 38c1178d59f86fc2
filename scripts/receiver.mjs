#!/usr/bin/env node
// `npm run receiver`: a local webhook endpoint that verifies the signatures and prints one line per delivery (a batch,
// docs/batches.md: one line for the request, verified over its whole body, then one per event in it, in order).
// Options: --port 8788, --secret whsec_… (repeatable, for a rotation), --secret-file wh.json (re-read on every
// request: a create or rotate-secret response saved there is picked up at once, its secret and its publicKey),
// --public-key whpk_… (repeatable) or --jwks <url> (the webhook's jwks.json) to check `v1a` with the public key
// alone (docs/signatures.md), --fail (500), --gone (410), --delay <ms>. WEBHOOK_SECRET (space-separated) adds secrets too.
// It answers an endpoint verification challenge whose signatures verify with the `standardwebhooks` library's
// endpointVerificationResponse (docs/signatures.md). `--poll <webhook id>` consumes a polling webhook instead
// (poll-consumer.mjs), with --token whpoll_… or --token-file wh.json (or an API key: API_KEY); with
// --forward-to <url> (and the secret: --secret or --secret-file) it POSTs each event there as a push delivery
// would arrive (forward.mjs).
import { createHmac, timingSafeEqual } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { Webhook } from "standardwebhooks";
import { verifyV1a } from "../docs/snippets/verify-v1a-node.mjs";
import { forward } from "./forward.mjs";
import { consume } from "./poll-consumer.mjs";

const USAGE = `usage: npm run receiver -- [--port 8788] [--secret whsec_…]… [--secret-file wh.json]… [--public-key whpk_…]… [--jwks url] [--fail | --gone] [--delay ms]
       npm run receiver -- --poll <webhook id> [--token whpoll_… | --token-file wh.json] [--api http://127.0.0.1:8787] [--limit 100] [--wait 20]
                            [--forward-to <url> --secret whsec_… | --secret-file wh.json]`;

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
      "public-key": { type: "string", multiple: true, default: [] },
      jwks: { type: "string" },
      fail: { type: "boolean", default: false },
      gone: { type: "boolean", default: false },
      delay: { type: "string", default: "0" },
      poll: { type: "string" },
      "forward-to": { type: "string" },
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
  for (const key of values["public-key"])
    if (!/^whpk_[A-Za-z0-9+/]{43}=$/.test(key)) usage(`a public key is whpk_ and 44 base64 characters, got ${key.slice(0, 12)}…`);
  if (values.jwks !== undefined && !URL.canParse(values.jwks)) usage(`--jwks must be a URL, got ${values.jwks}`);
  const limit = Number(values.limit);
  const wait = Number(values.wait);
  if (values.poll !== undefined) {
    if (!Number.isInteger(limit) || limit < 1 || limit > 250) usage(`--limit must be 1-250, got ${values.limit}`);
    if (!Number.isInteger(wait) || wait < 0 || wait > 30) usage(`--wait must be 0-30 seconds, got ${values.wait}`);
    if (!values.token && !values["token-file"]) usage("--poll needs --token whpoll_… or --token-file wh.json (or API_KEY)");
  }
  const forwardTo = values["forward-to"];
  if (forwardTo !== undefined) {
    if (values.poll === undefined) usage("--forward-to forwards a polling webhook's stream: give --poll <webhook id> too");
    if (!/^https?:\/\//.test(forwardTo) || !URL.canParse(forwardTo)) usage(`--forward-to must be an http(s) URL, got ${forwardTo}`);
    if (secrets.length === 0 && values["secret-file"].length === 0)
      usage("--forward-to signs what it forwards: give --secret whsec_… or --secret-file wh.json");
  }
  return {
    publicKeys: values["public-key"],
    jwksUrl: values.jwks ?? null,
    poll: values.poll,
    forwardTo,
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

/** A file holding a create/rotate response (its `secret` and `publicKey`), or secrets and keys as text. Missing: none yet. */
function credentialsInFile(/** @type {string} */ file) {
  let text;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return { secrets: [], publicKeys: [] };
  }
  try {
    const json = JSON.parse(text);
    if (typeof json?.secret === "string")
      return { secrets: [json.secret], publicKeys: typeof json.publicKey === "string" ? [json.publicKey] : [] };
  } catch {}
  return { secrets: text.match(/whsec_[A-Za-z0-9+/=]+/g) ?? [], publicKeys: text.match(/whpk_[A-Za-z0-9+/=]+/g) ?? [] };
}

function currentCredentials() {
  const files = options.secretFiles.map(credentialsInFile);
  return {
    secrets: [...new Set([...options.secrets, ...files.flatMap((f) => f.secrets)])],
    publicKeys: [...new Set([...options.publicKeys, ...files.flatMap((f) => f.publicKeys)])],
  };
}

/** A `whpk_…` public key as the JWK the verification snippet takes. */
function jwkOf(/** @type {string} */ publicKey) {
  return { kty: "OKP", crv: "Ed25519", x: Buffer.from(publicKey.slice("whpk_".length), "base64").toString("base64url") };
}

/** The --jwks set as last fetched, kept for its cache-control max-age (at least 10 s, so a bad signature cannot make it fetch on every request). */
let jwksCache = { keys: /** @type {object[]} */ ([]), fetchedAt: 0, until: 0 };
async function jwksKeys(refresh = false) {
  if (!options.jwksUrl) return [];
  if (Date.now() < jwksCache.until && !(refresh && Date.now() - jwksCache.fetchedAt >= 10_000)) return jwksCache.keys;
  jwksCache.fetchedAt = Date.now();
  try {
    const res = await fetch(options.jwksUrl);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const maxAge = Number(/max-age=(\d+)/.exec(res.headers.get("cache-control") ?? "")?.[1] ?? 0);
    jwksCache = { keys: (await res.json()).keys, fetchedAt: jwksCache.fetchedAt, until: Date.now() + Math.max(maxAge, 10) * 1000 };
  } catch (err) {
    console.error(`receiver: could not fetch ${options.jwksUrl}: ${/** @type {Error} */ (err).message}`);
    jwksCache.until = Date.now() + 10_000;
  }
  return jwksCache.keys;
}

/**
 * `v1a` with the public keys alone (docs/snippets/verify-v1a-node.mjs); null when none is known. A failure with
 * the fetched JWKS fetches it again once (a rotation may have added a key since), within the 10 s floor.
 * @param {string[]} publicKeys @param {string} body @param {Record<string, string>} headers
 */
async function verifyAsymmetric(publicKeys, body, headers) {
  if (publicKeys.length === 0 && !options.jwksUrl) return null;
  const given = publicKeys.map(jwkOf);
  const check = (/** @type {object[]} */ keys) => verifyV1a({ keys: [...given, ...keys] }, headers, body);
  return check(await jwksKeys()) || (options.jwksUrl !== null && check(await jwksKeys(true)));
}

/**
 * Both schemes, each against every known secret: Standard Webhooks (`webhook-signature`, through the
 * `standardwebhooks` package) and respond.io's (`x-webhook-signature`: base64 HMAC-SHA256 of the raw body,
 * keyed with the secret string as given).
 * @param {string[]} secrets @param {string} body @param {import("node:http").IncomingHttpHeaders} headers
 */
function verify(secrets, body, headers) {
  const plain = /** @type {Record<string, string>} */ (Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, String(v)])));
  const signedBy = secrets.find((secret) => {
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
  return { standard: signedBy !== undefined, respondIo, signedBy };
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
  const { secrets, publicKeys } = currentCredentials();
  const plain = /** @type {Record<string, string>} */ (Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])));
  const asymmetric = await verifyAsymmetric(publicKeys, body, plain);
  let signature;
  let status = options.status;
  /** The secret the Standard Webhooks signature verified with: what answers a verification challenge. */
  let signedBy;
  if (secrets.length === 0 && asymmetric === null)
    signature = "signature not checked (no secret: --secret or --secret-file; no key: --public-key or --jwks)";
  else {
    // Each scheme checked: with a secret v1 (Standard Webhooks) and respond.io's, with a public key v1a.
    const checked = /** @type {[string, boolean][]} */ ([]);
    if (secrets.length > 0) {
      const { standard, respondIo, signedBy: secret } = verify(secrets, body, req.headers);
      signedBy = secret;
      checked.push(["standard webhooks", standard], ["respond.io", respondIo]);
    }
    if (asymmetric !== null) checked.push(["v1a", asymmetric]);
    const ok = checked.every(([, passed]) => passed);
    // Without a public key the line is as it always was; with one it names the schemes that passed.
    const names = checked.map(([name]) => (name === "standard webhooks" ? "v1" : name)).join(", ");
    signature = ok
      ? `signature ok${asymmetric === null ? "" : ` (${names})`}`
      : `signature FAILED (${checked.map(([name, passed]) => `${name} ${passed ? "ok" : "failed"}`).join(", ")})`;
    // A real endpoint refuses what it cannot verify; so does this one, unless told to answer otherwise.
    if (!ok && status === 200) status = 401;
  }
  if (options.delay > 0) await new Promise((done) => setTimeout(done, options.delay));
  // A batch: `{"events": [...]}` under its own `bat_` id; its attempts are counted by that id, as one delivery's are.
  const batch = id.startsWith("bat_") && Array.isArray(event.events) ? /** @type {Record<string, unknown>[]} */ (event.events) : null;
  const line = [
    new Date().toISOString(),
    `${req.method} ${req.url}`,
    batch ? `batch of ${batch.length}` : String(event.event_type ?? "(no event_type)"),
    batch ? id : String(event.event_id ?? (id || "(no webhook-id)")),
    `attempt ${attempt}`,
    signature,
    `→ ${status}${options.delay > 0 ? ` after ${options.delay} ms` : ""}`,
  ];
  console.log(line.join("  "));
  // Its events in order, each as its own delivery would be handled; not those of a batch whose signature failed.
  if (batch && status !== 401)
    for (const [i, one] of batch.entries())
      console.log(
        `  ${i + 1}/${batch.length}  ${String(one?.event_type ?? "(no event_type)")}  ${String(one?.event_id ?? "(no event_id)")}`,
      );
  // An endpoint verification challenge (REQUIRE_ENDPOINT_VERIFICATION, docs/signatures.md) is answered the Standard
  // Webhooks way, with the secret that signed it, so the service starts sending this receiver its events.
  const challenge = req.headers["webhook-challenge"];
  if (status === 200 && typeof challenge === "string") {
    if (signedBy === undefined) console.log(`  (a verification challenge: give --secret or --secret-file to answer it)`);
    else {
      const answer = new Webhook(signedBy).endpointVerificationResponse(challenge);
      res.writeHead(200, { "content-type": "text/plain", "webhook-challenge-response": answer }).end("ok\n");
      return;
    }
  }
  const answers = { 200: "ok", 401: "signature verification failed", 410: "gone (--gone)", 500: "failing on purpose (--fail)" };
  res.writeHead(status, { "content-type": "text/plain" }).end(`${answers[/** @type {200} */ (status)]}\n`);
}

options = parseOptions();
if (options.poll !== undefined) {
  const stream = {
    webhookId: options.poll,
    api: options.api,
    token: options.token,
    tokenFile: options.tokenFile,
    limit: options.limit,
    wait: options.wait,
  };
  if (options.forwardTo !== undefined)
    await forward({ ...stream, forwardTo: options.forwardTo, secrets: () => currentCredentials().secrets });
  else await consume(stream);
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
    ...(options.publicKeys.length ? [`${options.publicKeys.length} public key(s) given`] : []),
    ...(options.jwksUrl ? [`the keys at ${options.jwksUrl}`] : []),
    ...options.secretFiles.map(
      (file) => `the secret and public key in ${file} (read on every request${existsSync(file) ? "" : "; not there yet"})`,
    ),
  ];
  const checking = sources.length ? `verifying with ${sources.join(" and ")}` : "no secret: signatures not checked";
  const answer = options.status === 200 ? "200 when the signatures verify" : String(options.status);
  console.log(
    `Receiver listening on http://${options.host}:${address.port}/ (${checking}; answering ${answer}${options.delay ? ` after ${options.delay} ms` : ""})`,
  );
});
for (const signal of /** @type {const} */ (["SIGINT", "SIGTERM"])) process.on(signal, () => process.exit(0));
