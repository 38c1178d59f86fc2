#!/usr/bin/env node
// `npm run release-fixture`: makes test/fixtures/release-1.0.0/ (the storage a 1.0.0 service leaves behind, and a
// manifest of what an upgrade must find in it) by driving the real service, started through scripts/dev.mjs on a
// fresh folder, with the real test receiver on 127.0.0.1:18787. test/e2e/upgrade.test.ts starts today's code on a
// copy of it. Run it again (it replaces the folder) whenever the release's storage is what should be kept.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { monotonicFactory } from "ulidx";
import { ADMIN_TOKEN, allDeliveries, client, FIXTURE_DIR, RECEIVER_PORT, ROOT, startService, until } from "./release-service.mjs";
import { startReceiver } from "../test/support/node/receiver.ts";

const started = Date.now();
const hook = (/** @type {string} */ bucket) => `http://127.0.0.1:${RECEIVER_PORT}/hooks/${bucket}`;
const RECEIVER = `http://127.0.0.1:${RECEIVER_PORT}`;
/** The retrying webhook's one retry waits this long: due long after the generator is done, as a real backoff is. */
const RETRYING_DELAY_SECONDS = 3600;
/** The service's schedule while generating: the dropping webhook gives up in seconds. */
const SERVICE_VARS = { RETRY_DELAYS_SECONDS: "1,1,1" };

/** @param {string} bucket @param {object} setup */
const control = (bucket, setup) =>
  fetch(`${RECEIVER}/_control/${bucket}`, { method: "PUT", body: JSON.stringify(setup) }).then((r) => {
    if (!r.ok) throw new Error(`receiver control ${bucket}: ${r.status}`);
  });
/** @param {string} bucket @returns {Promise<any[]>} */
const received = (bucket) =>
  fetch(`${RECEIVER}/_control/${bucket}`)
    .then((r) => r.json())
    .then((b) => b.requests);

const receiver = await startReceiver({ port: RECEIVER_PORT }).catch((err) => {
  console.error(`release-fixture: the receiver needs 127.0.0.1:${RECEIVER_PORT} (the fixture's webhook URLs point there): ${err.message}`);
  process.exit(1);
});
const persist = mkdtempSync(join(tmpdir(), "edge-webhooks-release-"));
/** @type {Awaited<ReturnType<typeof startService>> | undefined} */
let service;
try {
  service = await startService({ persist, vars: SERVICE_VARS });
  console.log(`service on ${service.url}, state in ${persist}`);
  const manifest = await build(service.url, client(service.url, ADMIN_TOKEN));
  // Stopped before anything is copied: the dead letter is written into its D1, then the state is taken.
  await service.stop();
  manifest.deadLetters = deadLetter(manifest.workspaces.limited.id);
  writeFixture(manifest);
} catch (err) {
  console.error("release-fixture failed:", err);
  process.exitCode = 1;
} finally {
  await service?.stop();
  await receiver.close();
  rmSync(persist, { recursive: true, force: true });
}
if (process.exitCode !== 1) console.log(`release fixture written to ${FIXTURE_DIR} in ${Math.round((Date.now() - started) / 1000)} s`);
// Idle keep-alive sockets of fetch would hold the process for half a minute more.
process.exit();

/** @param {string} base @param {ReturnType<typeof client>} admin */
async function build(base, admin) {
  // Workspace "alerting": a notification address and an alertUrl (its secret is kept for the manifest).
  const alerting = await admin.ok("POST", "/v1/admin/workspaces", { name: "Release alerting", notificationEmail: "ops@example.com" });
  const a = client(base, alerting.apiKey);
  await control("alerts", { fallback: { status: 200 } });
  const { alertSecret } = await a.ok("PATCH", "/v1/workspace", { alertUrl: hook("alerts") });
  await control("alerts", { fallback: { status: 200 }, secrets: [alertSecret] });
  // One alert in the workspace's alert log (a test alert, answered and verified with the alert secret).
  await a.ok("POST", "/v1/workspace/alerts/test");
  if (!(await received("alerts")).some((r) => r.standardValid && r.body.includes('"alert.test"')))
    throw new Error("the test alert did not verify");
  // Workspace "limited": its own limits.
  const limitedWs = await admin.ok("POST", "/v1/admin/workspaces", { name: "Release limited" });
  await admin.ok("PATCH", `/v1/admin/workspaces/${limitedWs.id}`, { limits: { webhooks: 5, testEventsPerMinute: 3 } });
  const b = client(base, limitedWs.apiKey);

  for (const bucket of ["signed", "keyed", "retrying", "parallel", "manual"]) await control(bucket, { fallback: { status: 200 } });
  await control("keyed", { fallback: { status: 500 } });
  await control("retrying", { fallback: { status: 500 } });

  /** @type {Record<string, any>} */
  const created = {};
  // Ordering by endpoint, custom headers and a filter, secret rotated after creation.
  created.signed = await a.ok("POST", "/v1/webhooks", {
    url: hook("signed"),
    events: ["message.received", "contact.created"],
    description: "endpoint ordering, headers, filter, rotated secret",
    headers: { authorization: "Bearer receiver-token", "x-tenant": "acme" },
    filter: { "message.traffic": ["incoming", "outgoing"] },
  });
  const rotated = await a.ok("POST", `/v1/webhooks/${created.signed.id}/rotate-secret`);
  // Ordering by key, answered 500 until its events are dropped (the service's schedule is 1,1,1 here).
  created.keyed = await a.ok("POST", "/v1/webhooks", {
    url: hook("keyed"),
    events: ["contact.updated"],
    ordering: "key",
    orderingKey: "contact.id",
    maxInFlight: 4,
  });
  // One retry an hour after the first failure: its head event waits, holding the ones behind it.
  created.retrying = await a.ok("POST", "/v1/webhooks", {
    url: hook("retrying"),
    events: ["conversation.opened"],
    retryDelaysSeconds: [RETRYING_DELAY_SECONDS],
    rateLimitPerSecond: 5,
  });
  created.poll = await a.ok("POST", "/v1/webhooks", { delivery: "poll", events: ["comment.created"], description: "polling stream" });
  created.manual = await a.ok("POST", "/v1/webhooks", { url: hook("manual"), events: ["conversation.closed"], ordering: "none" });
  await a.ok("POST", `/v1/webhooks/${created.manual.id}/disable`);
  created.parallel = await b.ok("POST", "/v1/webhooks", {
    url: hook("parallel"),
    events: ["message.sent", "message.received"],
    ordering: "none",
    maxInFlight: 5,
  });
  const secrets = {
    signed: rotated.secret,
    signedBeforeRotation: created.signed.secret,
    keyed: created.keyed.secret,
    retrying: created.retrying.secret,
    poll: created.poll.secret,
    manual: created.manual.secret,
    parallel: created.parallel.secret,
  };
  await control("signed", { fallback: { status: 200 }, secrets: [rotated.secret] });
  await control("parallel", { fallback: { status: 200 }, secrets: [created.parallel.secret] });

  /** @param {ReturnType<typeof client>} api @param {string} type @param {object} data @returns {Promise<string>} */
  const send = async (api, type, data) => (await api.ok("POST", "/v1/events", { type, data })).id;
  /** @type {Record<string, string[]>} */
  const events = { signed: [], filteredOut: [], keyed: [], retrying: [], poll: [], manual: [], parallel: [] };
  for (let i = 1; i <= 3; i++)
    events.signed.push(await send(a, "message.received", { message: { traffic: "incoming", text: `hello ${i}` } }));
  events.filteredOut.push(await send(a, "message.received", { message: { traffic: "internal", text: "not for this webhook" } }));
  for (const contact of [1, 2]) events.keyed.push(await send(a, "contact.updated", { contact: { id: contact } }));
  for (let i = 1; i <= 3; i++) events.retrying.push(await send(a, "conversation.opened", { conversation: { id: i } }));
  for (let i = 1; i <= 5; i++) events.poll.push(await send(a, "comment.created", { comment: { id: i, text: `comment ${i}` } }));
  for (let i = 1; i <= 2; i++) events.manual.push(await send(a, "conversation.closed", { conversation: { id: 10 + i } }));
  const batch = await b.ok("POST", "/v1/events/batch", {
    events: [1, 2, 3].map((i) => ({ type: "message.sent", data: { message: { id: i } } })),
  });
  events.parallel.push(...batch.ids);

  /** @param {ReturnType<typeof client>} api @param {string} id @param {string} status */
  const counted = async (api, id, status) => (await allDeliveries(api, id)).filter((d) => d.status === status).length;
  // Settle: every event where it is meant to be before anything is read for the manifest.
  await until("the signed webhook's three deliveries", async () => (await counted(a, created.signed.id, "delivered")) === 3);
  await until("the keyed webhook's two drops", async () => (await counted(a, created.keyed.id, "dropped")) === 2);
  await until("the retrying head's first failed attempt", async () => {
    const log = await allDeliveries(a, created.retrying.id);
    return log.length === 3 && log[0].attempts.length === 1 && log[0].status === "pending";
  });
  await until("the manual webhook's skipped events", async () => (await counted(a, created.manual.id, "skipped")) === 2);
  await until("the parallel webhook's deliveries", async () => (await counted(b, created.parallel.id, "delivered")) === 3);
  await until("the poll stream's five events", async () => (await allDeliveries(a, created.poll.id)).length === 5);

  // The poll stream, partly acknowledged: read two, then read on with their cursor (acknowledging them).
  const pollApi = client(base, created.poll.pollToken);
  const first = await pollApi.ok("GET", `/v1/webhooks/${created.poll.id}/poll?limit=2`);
  const second = await pollApi.ok("GET", `/v1/webhooks/${created.poll.id}/poll?limit=1&cursor=${encodeURIComponent(first.nextCursor)}`);
  if (second.data[0]?.event_id !== events.poll[2]) throw new Error(`the poll stream read ${JSON.stringify(second)}`);
  await until("the poll stream's acknowledged events", async () => (await counted(a, created.poll.id, "delivered")) === 2);

  const [signedLog, keyedLog, retryingLog] = [
    await allDeliveries(a, created.signed.id),
    await allDeliveries(a, created.keyed.id),
    await allDeliveries(a, created.retrying.id),
  ];
  const signedOk = (await received("signed")).every((r) => r.standardValid && r.respondIoValid && r.headers["x-tenant"] === "acme");
  if (!signedOk) throw new Error("the receiver could not verify the signed webhook's deliveries");
  const quotaA = await a.ok("GET", "/v1/quota");
  const failures = keyedLog.reduce((n, d) => n + d.attempts.length, 0) + retryingLog[0].attempts.length;
  if (quotaA.failures !== failures) throw new Error(`the quota counts ${quotaA.failures} failures, the logs ${failures}`);
  if (signedLog.some((d) => events.filteredOut.includes(d.eventId))) throw new Error("the filter let an event through");

  /** @type {Record<string, any>} */
  const webhooks = {};
  for (const [name, wh] of Object.entries(created)) {
    const api = name === "parallel" ? b : a;
    webhooks[name] = {
      id: wh.id,
      workspace: name === "parallel" ? "limited" : "alerting",
      object: await api.ok("GET", `/v1/webhooks/${wh.id}`),
      deliveries: await allDeliveries(api, wh.id),
      stats: await api.ok("GET", `/v1/webhooks/${wh.id}/stats?period=7d`),
    };
  }
  return {
    version: "1.0.0",
    generatedAt: new Date().toISOString(),
    receiverPort: RECEIVER_PORT,
    generatedWith: SERVICE_VARS,
    // The fixture only ages: with these, what it holds is still inside the quota window and the retention period.
    upgradeVars: { RETENTION_DAYS: "36500", FAILURE_QUOTA_WINDOW_SECONDS: "3153600000" },
    workspaces: {
      alerting: { id: alerting.id, apiKey: alerting.apiKey, alertSecret, object: await a.ok("GET", "/v1/workspace") },
      limited: { id: limitedWs.id, apiKey: limitedWs.apiKey, object: await b.ok("GET", "/v1/workspace") },
    },
    secrets,
    webhooks,
    events,
    // What a correct upgrade must find, state by state, each list in acceptance order.
    states: {
      delivered: [...events.signed, ...events.parallel, ...events.poll.slice(0, 2)],
      dropped: events.keyed,
      retrying: events.retrying.slice(0, 1),
      pendingNeverAttempted: [...events.retrying.slice(1), ...events.poll.slice(2)],
      skipped: events.manual,
      notStored: events.filteredOut,
    },
    retrying: { delaySeconds: RETRYING_DELAY_SECONDS, dueAt: retryingLog[0].nextAttemptAt },
    poll: {
      token: created.poll.pollToken,
      cursor: first.nextCursor,
      acknowledged: events.poll.slice(0, 2),
      unacknowledged: events.poll.slice(2),
    },
    quota: { alerting: quotaA, limited: await b.ok("GET", "/v1/quota") },
    alerts: await a.ok("GET", "/v1/workspace/alerts"),
    /** @type {any[]} */
    deadLetters: [],
  };
}

/**
 * One dead letter, written the way the dead-letter consumer writes it (src/dead-letters/consumer.ts deadLetterOf):
 * the queued event's JSON as `body`, so replay accepts it. The queue under `wrangler dev` gives up on nothing the
 * API can send, so the row goes straight into the stopped service's D1.
 * @param {string} workspaceId
 */
function deadLetter(workspaceId) {
  const ulid = monotonicFactory();
  const at = Date.now();
  const event = {
    id: `evt_${ulid(at).toLowerCase()}`,
    workspaceId,
    type: "message.received",
    data: { message: { id: 99, text: "a dead letter, replayed" } },
    occurredAt: at - 60_000,
    acceptedAt: at - 60_000,
    orderKey: ulid(at - 60_000),
  };
  const reason = "handing it to a webhook's lane kept failing until the queue gave up on it";
  const quote = (/** @type {string} */ s) => `'${s.replaceAll("'", "''")}'`;
  const sql =
    "INSERT INTO dead_letters (workspace_id, event_id, type, body, reason, accepted_at, dead_at, replayed_at) VALUES " +
    `(${quote(workspaceId)}, ${quote(event.id)}, ${quote(event.type)}, ${quote(JSON.stringify(event))}, ${quote(reason)}, ${event.acceptedAt}, ${at}, NULL)`;
  const run = spawnSync(
    process.execPath,
    [join(ROOT, "node_modules/wrangler/bin/wrangler.js"), "d1", "execute", "DB", "--local", "--persist-to", persist, "--command", sql],
    {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", CI: "true" },
    },
  );
  if (run.status !== 0) throw new Error(`inserting the dead letter failed:\n${run.stdout}\n${run.stderr}`);
  return [
    {
      eventId: event.id,
      workspace: "limited",
      type: event.type,
      reason,
      acceptedAt: new Date(event.acceptedAt).toISOString(),
      deadAt: new Date(at).toISOString(),
    },
  ];
}

/**
 * Replaces the fixture: the manifest, and of the persisted state only what the service reads back (D1, the Durable
 * Objects, and any file dev.mjs keeps at the top of the folder, such as a local key); not its log, cache or traces.
 * @param {object} manifest
 */
function writeFixture(manifest) {
  rmSync(FIXTURE_DIR, { recursive: true, force: true });
  const state = join(FIXTURE_DIR, "state");
  mkdirSync(state, { recursive: true });
  for (const dir of ["v3/d1", "v3/do"])
    if (existsSync(join(persist, dir))) cpSync(join(persist, dir), join(state, dir), { recursive: true });
  for (const name of readdirSync(persist)) {
    if (name !== "dev.log" && statSync(join(persist, name)).isFile()) cpSync(join(persist, name), join(state, name));
  }
  closeCleanly(state);
  writeFileSync(join(FIXTURE_DIR, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
}

/**
 * workerd exits without closing its SQLite files, so nearly everything is still in their write-ahead logs (and a
 * 32 KiB -shm beside each). Opening and closing each copy once does what a clean close does: the log is folded into
 * the database and both side files go, with the same rows (no VACUUM: rowids stay as they were). A third of the size.
 * @param {string} dir
 */
function closeCleanly(dir) {
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith(".sqlite")) continue;
    const db = new DatabaseSync(join(entry.parentPath, entry.name));
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    db.close();
  }
}
