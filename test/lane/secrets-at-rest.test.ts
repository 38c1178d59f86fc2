// Secrets at rest (README "Security", docs/security.md): after webhooks with secrets and custom headers are created,
// rotated, delivered to, failed and deleted, and an alertUrl is set and rotated, no secret, private key, header value
// or signature sent is found in clear in D1 or in any Durable Object's storage; receivers still verify v1, v1a and
// respond.io's signatures; then ENCRYPTION_KEYS gets a new first key, the admin re-encrypts, the old key is retired,
// and every delivery still goes out signed and verified.
import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { alertLaneOf, laneOf, quotaOf } from "../../src/bindings";
import type { Env } from "../../src/env";
import { open } from "../../src/lib/encryption";
import worker from "../../src/index";
import { ADMIN_TOKEN, call, createWebhook, createWorkspace, eventually, sendEvent } from "../support/helpers";
import { captureLogs } from "../support/logs";
import { endpoint, type RecordedRequest } from "../support/receiver";

const logs = captureLogs();

const randomText = (prefix: string) => `${prefix}-${crypto.randomUUID()}`;
const OLD_KEY_ID = env.ENCRYPTION_KEYS!.split(":")[0]!;
const NEW_KEY = `k2:${crypto.getRandomValues(new Uint8Array(32)).toBase64()}`;
/** The deployment after `wrangler secret put ENCRYPTION_KEYS` with a new key first, and after the old one is dropped. */
const rotatedEnv = Object.create(env, { ENCRYPTION_KEYS: { value: `${NEW_KEY},${env.ENCRYPTION_KEYS}` } }) as Env;
const retiredEnv = Object.create(env, { ENCRYPTION_KEYS: { value: NEW_KEY } }) as Env;

/** The Worker as a deployment with the bindings `e` serves it. */
async function callWith(e: Env, method: string, path: string, key: string, body?: unknown) {
  const ctx = createExecutionContext();
  const init: RequestInit = { method, headers: { authorization: `Bearer ${key}`, "content-type": "application/json" } };
  if (body !== undefined) init.body = JSON.stringify(body);
  const res = await worker.fetch(new Request(`http://edge.test${path}`, init), e, ctx);
  await waitOnExecutionContext(ctx);
  return { status: res.status, json: (await res.json()) as any };
}

/** Every row of every table of D1, as text. */
async function d1Text(): Promise<string> {
  const tables = await env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf%' ESCAPE '\\'").all<{
    name: string;
  }>();
  const rows = await Promise.all(tables.results.map(async ({ name }) => (await env.DB.prepare(`SELECT * FROM "${name}"`).all()).results));
  return JSON.stringify(rows);
}

/** Every row of every table of a Durable Object's SQLite storage, and its key-value entries, as text. */
function objectText(stub: DurableObjectStub): Promise<string> {
  return runInDurableObject(stub, async (_instance, state) => {
    const sql = state.storage.sql;
    const tables = sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf%' ESCAPE '\\'");
    const rows = tables.toArray().map(({ name }) => sql.exec(`SELECT * FROM "${name}"`).toArray());
    return JSON.stringify([rows, [...(await state.storage.list()).entries()]]);
  });
}

/** A running lane's env, replaced as a restart with the new ENCRYPTION_KEYS would replace it. */
const restartWith = (stubs: DurableObjectStub[], e: Env) =>
  Promise.all(
    stubs.map((stub) =>
      runInDurableObject(stub, (instance) => {
        (instance as unknown as { env: Env }).env = e;
      }),
    ),
  );

/** A `whsec_`/`whsk_` value, its key bytes (base64) and, for a private key, its 32-byte seed in the usual spellings. */
function clearForms(value: string): string[] {
  const body = value.replace(/^wh(sec|sk)_/, "");
  const forms = [value, body];
  if (value.startsWith("whsk_")) {
    const seed = Uint8Array.fromBase64(body).slice(-32);
    forms.push(seed.toBase64(), seed.toBase64({ alphabet: "base64url", omitPadding: true }), seed.toHex());
  }
  return forms;
}

const signaturesOf = (req: RecordedRequest) => [
  ...req.headers["webhook-signature"]!.split(" ").map((entry) => entry.split(",")[1]!),
  req.headers["x-webhook-signature"]!,
];

describe("secrets at rest", () => {
  it("keeps every secret, private key, header value and signature sealed in D1 and every object, and survives a key rotation with no failed delivery", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    const failing = endpoint();
    const alerts = endpoint();
    await failing.program({ fallback: { status: 500 } });
    const headersA = { Authorization: `Bearer ${randomText("token")}`, "X-Tenant": randomText("tenant") };
    const headersB = { "X-Api-Key": randomText("apikey") };
    const a = await createWebhook(ws.apiKey, { url: ep.url, events: ["message.received"], headers: headersA });
    const b = await createWebhook(ws.apiKey, { url: failing.url, events: ["contact.created"], headers: headersB, retryDelaysSeconds: [1] });
    const rotated = await call("POST", `/v1/webhooks/${a.id}/rotate-secret`, { key: ws.apiKey });
    expect(rotated.status).toBe(200);
    await ep.program({ secrets: [rotated.json.secret] });
    const set = await call("PATCH", "/v1/workspace", { key: ws.apiKey, body: { alertUrl: alerts.url } });
    const alertRotated = await call("POST", "/v1/workspace/rotate-alert-secret", { key: ws.apiKey });
    expect([set.status, alertRotated.status]).toEqual([200, 200]);
    await alerts.program({ secrets: [alertRotated.json.alertSecret] });

    // A deleted webhook that had delivered: its lane's tombstone keeps no secret, sealed or not.
    const gone = endpoint();
    const headersC = { "X-Deleted": randomText("deleted") };
    const c = await createWebhook(ws.apiKey, { url: gone.url, events: ["conversation.closed"], headers: headersC });
    await sendEvent(ws.apiKey, { type: "conversation.closed", data: { conversationId: 1 } });
    await gone.waitFor(1);
    expect((await call("DELETE", `/v1/webhooks/${c.id}`, { key: ws.apiKey })).status).toBe(204);

    // Delivered (A, signed by the new and the previous secret and key), failed until dropped (B), an alert.
    const sentA: string[] = [];
    for (let i = 0; i < 3; i++) sentA.push(await sendEvent(ws.apiKey, { type: "message.received", data: { text: `hello ${i}` } }));
    const sentB = await sendEvent(ws.apiKey, { type: "contact.created", data: { contactId: 7 } });
    expect((await call("POST", "/v1/workspace/alerts/test", { key: ws.apiKey })).status).toBe(200);
    const got = await ep.waitFor(3);
    await failing.waitFor(2);
    const lanes = [laneOf(env.ENDPOINT_LANE, a.id, null), laneOf(env.ENDPOINT_LANE, b.id, null), alertLaneOf(env, ws.id, null)];
    await eventually(
      async () => (await call("GET", `/v1/webhooks/${b.id}/deliveries/${sentB}`, { key: ws.apiKey })).json.status === "dropped",
    );

    const jwks = (await call("GET", `/v1/webhooks/${a.id}/jwks.json`)).json;
    for (const req of got) {
      expect([req.standardValid, req.respondIoValid]).toEqual([true, true]);
      expect(req.headers.authorization).toBe(headersA.Authorization);
      expect(req.headers["webhook-signature"]!.split(" ").map((e) => e.split(",")[0])).toEqual(["v1", "v1", "v1a", "v1a"]);
    }
    expect(await ep.verifyV1aInNode(jwks)).toEqual([true, true, true]);
    const [alert] = await alerts.waitFor(1);
    expect([alert!.standardValid, alert!.respondIoValid]).toEqual([true, true]);
    // Shown where the API showed them before: the webhook's headers, a delivery's headers as sent.
    expect((await call("GET", `/v1/webhooks/${a.id}`, { key: ws.apiKey })).json.headers).toEqual(headersA);
    const delivery = await call("GET", `/v1/webhooks/${a.id}/deliveries/${sentA[0]}`, { key: ws.apiKey });
    expect(delivery.json.headers).toMatchObject({ authorization: headersA.Authorization, "x-tenant": headersA["X-Tenant"] });
    expect(delivery.json.headers["webhook-signature"]).toBe(
      got.find((r) => JSON.parse(r.body).event_id === sentA[0])!.headers["webhook-signature"],
    );

    // What was made: the secrets from the answers, the private keys opened from D1 (the API never shows them).
    const sealedKeys = await env.DB.prepare(
      `SELECT signing_key AS k, previous_signing_key AS p FROM webhooks
       UNION ALL SELECT alert_signing_key, alert_previous_signing_key FROM workspaces WHERE id = ?`,
    )
      .bind(ws.id)
      .all<{ k: string; p: string | null }>();
    const privateKeys = await Promise.all(
      sealedKeys.results.flatMap(({ k, p }) => [k, p].filter((v) => v !== null).map((v) => open(env, v))),
    );
    expect(privateKeys).toHaveLength(5);
    const secrets = [a.secret, rotated.json.secret, b.secret, c.secret, set.json.alertSecret, alertRotated.json.alertSecret];
    const clear = [
      ...[...secrets, ...privateKeys].flatMap(clearForms),
      ...Object.values({ ...headersA, ...headersB, ...headersC }),
      ...got.flatMap(signaturesOf),
      ...signaturesOf(alert!),
      ...(await failing.requests()).flatMap(signaturesOf),
    ];
    const storedText = async () => [
      await d1Text(),
      ...(await Promise.all([...lanes, quotaOf(env.WORKSPACE_QUOTA, ws.id, null)].map(objectText))),
    ];
    const stored = await storedText();
    for (const text of stored) for (const value of clear) expect(text.includes(value), value).toBe(false);
    // Sealed, naming the key, where they are kept: D1, each lane's row and its events' headers as sent.
    const sealedColumns = await env.DB.prepare("SELECT secret, previous_secret, signing_key, headers FROM webhooks WHERE id = ?")
      .bind(a.id)
      .first<Record<string, string>>();
    for (const value of Object.values(sealedColumns!)) expect(value.startsWith(`enc:v1:${OLD_KEY_ID}:`)).toBe(true);
    const laneA = await runInDurableObject(lanes[0]!, (_i, state) => ({
      lane: state.storage.sql.exec<Record<string, string>>("SELECT secret, signing_key, headers FROM lane").one(),
      sent: state.storage.sql.exec<{ h: string }>("SELECT last_headers AS h FROM events").toArray(),
    }));
    expect(Object.values(laneA.lane)).toEqual(Object.values(sealedColumns!).filter((_, i) => i !== 1));
    expect(laneA.sent.map(({ h }) => h.slice(0, 8 + OLD_KEY_ID.length))).toEqual(sentA.map(() => `enc:v1:${OLD_KEY_ID}:`));
    const tombstone = await runInDurableObject(laneOf(env.ENDPOINT_LANE, c.id, null), (_i, state) =>
      state.storage.sql.exec("SELECT deleted, secret, previous_secret, signing_key, headers FROM lane").one(),
    );
    expect(tombstone).toEqual({ deleted: 1, secret: "", previous_secret: null, signing_key: null, headers: "{}" });

    // Enough webhooks under the old key that one call cannot seal everything again (RESEAL_STEP rows per call).
    for (let i = 0; i < 20; i++)
      await createWebhook(ws.apiKey, { url: ep.url, events: ["contact.tag.updated"], headers: { "X-N": String(i) } });

    // A new first key: the deployment restarts with it; new writes are sealed with it at once.
    await restartWith(lanes, rotatedEnv);
    const patched = await callWith(rotatedEnv, "PATCH", `/v1/webhooks/${b.id}`, ws.apiKey, { description: "after the new key" });
    expect(patched.status).toBe(200);
    const newSecret = await callWith(rotatedEnv, "POST", `/v1/webhooks/${b.id}/rotate-secret`, ws.apiKey);
    const bRow = await env.DB.prepare("SELECT secret, previous_secret FROM webhooks WHERE id = ?")
      .bind(b.id)
      .first<{ secret: string; previous_secret: string }>();
    expect(bRow!.secret.startsWith("enc:v1:k2:")).toBe(true);
    // The rotated-out secret moves over as it was stored: under the old key, until re-encryption.
    expect(bRow!.previous_secret.startsWith(`enc:v1:${OLD_KEY_ID}:`)).toBe(true);

    const remaining: number[] = [];
    for (let i = 0; i < 5 && remaining.at(-1) !== 0; i++) {
      const answer = await callWith(rotatedEnv, "POST", "/v1/admin/encryption/reencrypt", ADMIN_TOKEN);
      expect(answer.status).toBe(200);
      remaining.push(answer.json.remaining);
    }
    expect(remaining.length).toBeGreaterThan(1);
    expect(remaining[0]).toBeGreaterThan(0);
    expect(remaining.at(-1)).toBe(0);
    // Nothing stored names the old key any more: D1, each lane's row and every event's kept headers.
    for (const text of await storedText()) {
      expect(text).not.toContain(`enc:v1:${OLD_KEY_ID}:`);
      for (const value of clear) expect(text.includes(value), value).toBe(false);
    }

    // The old key retired: everything still opens, signs and verifies; the old events' headers still read.
    await restartWith(lanes, retiredEnv);
    await ep.program({ secrets: [rotated.json.secret] });
    const after = await sendEvent(ws.apiKey, { type: "message.received", data: { text: "after the old key went" } });
    const all = await ep.waitFor(4);
    const last = all.find((r) => JSON.parse(r.body).event_id === after)!;
    expect([last.standardValid, last.respondIoValid]).toEqual([true, true]);
    expect(await ep.verifyV1aInNode((await callWith(retiredEnv, "GET", `/v1/webhooks/${a.id}/jwks.json`, "")).json, [last])).toEqual([
      true,
    ]);
    expect(last.headers.authorization).toBe(headersA.Authorization);
    const early = await callWith(retiredEnv, "GET", `/v1/webhooks/${a.id}/deliveries/${sentA[0]}`, ws.apiKey);
    expect(early.json.headers.authorization).toBe(headersA.Authorization);
    expect((await callWith(retiredEnv, "GET", `/v1/webhooks/${b.id}`, ws.apiKey)).json.headers).toEqual(headersB);
    const failingBefore = (await failing.requests()).length;
    await sendEvent(ws.apiKey, { type: "contact.created", data: { contactId: 8 } });
    const [toB] = (await failing.waitFor(failingBefore + 1)).slice(failingBefore);
    expect(toB!.headers["x-api-key"]).toBe(headersB["X-Api-Key"]);
    await failing.program({ secrets: [newSecret.json.secret], fallback: { status: 500 } });
    const test = await callWith(retiredEnv, "POST", `/v1/webhooks/${b.id}/test`, ws.apiKey, { type: "contact.created" });
    expect(test.status).toBe(200);
    const testB = (await failing.requests()).at(-1)!;
    expect([testB.standardValid, testB.respondIoValid]).toEqual([true, true]);
    const alertAfter = await callWith(retiredEnv, "POST", "/v1/workspace/alerts/test", ws.apiKey);
    expect(alertAfter.status).toBe(200);
    const lastAlert = (await alerts.waitFor(2)).at(-1)!;
    expect([lastAlert.standardValid, lastAlert.respondIoValid]).toEqual([true, true]);
  }, 120_000);

  it("keeps a row whose lane cannot be reached under the old key and counted, and seals it on the next call", async () => {
    const ws = await createWorkspace();
    const hook = await createWebhook(ws.apiKey, {
      url: "https://receiver.example.com/h",
      events: ["message.received"],
      headers: { "X-K": "v" },
    });
    const stub = laneOf(env.ENDPOINT_LANE, hook.id, null);
    await restartWith([stub], rotatedEnv);
    const refuse = async () => {
      throw new Error("lane unreachable");
    };
    const unreachable = { idFromName: (name: string) => env.ENDPOINT_LANE.idFromName(name), get: () => ({ configure: refuse }) };
    const broken = Object.create(rotatedEnv, { ENDPOINT_LANE: { value: unreachable } }) as Env;
    const sealedNow = async () =>
      (await env.DB.prepare("SELECT secret, signing_key, headers FROM webhooks WHERE id = ?")
        .bind(hook.id)
        .first<Record<string, string>>())!;
    const before = await sealedNow();
    const failed = await callWith(broken, "POST", "/v1/admin/encryption/reencrypt", ADMIN_TOKEN);
    expect([failed.status, failed.json.error.code]).toEqual([500, "internal_error"]);
    expect(logs.error).toEqual(["unhandled error: Error: lane unreachable"]);
    expect(await sealedNow()).toEqual(before);
    const done = await callWith(rotatedEnv, "POST", "/v1/admin/encryption/reencrypt", ADMIN_TOKEN);
    expect(done.json).toEqual({ remaining: 0 });
    const after = await sealedNow();
    for (const value of Object.values(after)) expect(value.startsWith("enc:v1:k2:")).toBe(true);
    const held = await runInDurableObject(stub, (_i, state) =>
      state.storage.sql.exec("SELECT secret, signing_key, headers FROM lane").one(),
    );
    expect(held).toEqual(after);
  });

  it("answers 500 misconfigured, naming ENCRYPTION_KEYS and how to make one, when it is missing or malformed, and stores nothing", async () => {
    const ws = await createWorkspace();
    for (const value of [undefined, "k1:short"]) {
      const broken = Object.create(env, { ENCRYPTION_KEYS: { value } }) as Env;
      const res = await callWith(broken, "POST", "/v1/webhooks", ws.apiKey, {
        url: "https://receiver.example.com/h",
        events: ["message.received"],
      });
      expect(res.status).toBe(500);
      expect(res.json.error.code).toBe("misconfigured");
      expect(res.json.error.message).toMatch(/ENCRYPTION_KEYS/);
      expect(res.json.error.message).toMatch(/wrangler secret put ENCRYPTION_KEYS/);
    }
    expect((await call("GET", "/v1/webhooks", { key: ws.apiKey })).json.data).toEqual([]);
  });
});
