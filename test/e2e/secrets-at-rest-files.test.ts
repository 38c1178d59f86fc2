// Secrets at rest, as files: a `wrangler dev` run (test/support/node/worker.ts) creates, rotates, delivers and fails
// deliveries with custom headers and an alertUrl; then every file of its --persist-to folder (D1, each Durable Object's
// SQLite with its WAL, the trace store) is searched byte for byte for the secrets, the private keys, the header values
// and the signatures sent: none is there in clear. The private keys are read back by opening D1's sealed values here,
// in Node, from the documented format (docs/security.md), with the test key.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_ENCRYPTION_KEYS } from "../support/encryption-key.mjs";
import { startReceiver } from "../support/node/receiver";
import type { BucketReport, RecordedRequest } from "../support/receiver-types";
import { startWorker, type RunningWorker } from "../support/node/worker";

const ADMIN = "secrets-at-rest-admin-token-of-32-characters";

let worker: RunningWorker;
let receiver: Awaited<ReturnType<typeof startReceiver>>;

beforeAll(async () => {
  receiver = await startReceiver();
  worker = await startWorker({ ADMIN_TOKEN: ADMIN, ALLOW_PRIVATE_URLS: "true" });
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await receiver?.close();
});

async function api(method: string, path: string, key: string, body?: unknown) {
  const res = await fetch(`${worker.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

/** A bucket of the receiver (test/support/node/receiver.ts), told which secrets verify and how to answer. */
function bucket(name: string) {
  const control = `${receiver.url}/_control/${name}`;
  return {
    url: `${receiver.url}/hooks/${name}`,
    program: (options: unknown) => fetch(control, { method: "PUT", body: JSON.stringify(options) }),
    requests: async () => ((await (await fetch(control)).json()) as BucketReport).requests,
    verifyV1a: async (jwks: unknown) =>
      ((await (await fetch(control, { method: "POST", body: JSON.stringify({ jwks }) })).json()) as { valid: boolean[] }).valid,
  };
}

async function waitFor(check: () => Promise<boolean>, what: string) {
  const deadline = Date.now() + 30_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const filesUnder = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? filesUnder(join(dir, name)) : [join(dir, name)]));

/** A stored value opened as the service does (`enc:v1:<key id>:<base64 of IV || ciphertext || tag>`, the head authenticated). */
async function openSealed(value: string): Promise<string> {
  const [, , id, data] = value.split(":");
  const raw = TEST_ENCRYPTION_KEYS.split(",")
    .find((k) => k.startsWith(`${id}:`))!
    .slice(id!.length + 1);
  const key = await crypto.subtle.importKey("raw", Buffer.from(raw, "base64"), "AES-GCM", false, ["decrypt"]);
  const bytes = Buffer.from(data!, "base64");
  const additionalData = new TextEncoder().encode(`enc:v1:${id}:`);
  return new TextDecoder().decode(
    await crypto.subtle.decrypt({ name: "AES-GCM", iv: bytes.subarray(0, 12), additionalData }, key, bytes.subarray(12)),
  );
}

const signaturesOf = (req: RecordedRequest) => [
  ...req.headers["webhook-signature"]!.split(" ").map((entry) => entry.split(",")[1]!),
  req.headers["x-webhook-signature"]!,
];

describe("a local run's files", () => {
  it("hold no secret, private key, header value or signature in clear, while receivers verify every delivery", async () => {
    const ok = bucket(crypto.randomUUID());
    const failing = bucket(crypto.randomUUID());
    const alerts = bucket(crypto.randomUUID());
    const ws = (await api("POST", "/v1/admin/workspaces", ADMIN, { name: "Sealed" })).json;
    const authorization = `Bearer ${crypto.randomUUID()}`;
    const apiKey = `key-${crypto.randomUUID()}`;
    const a = (
      await api("POST", "/v1/webhooks", ws.apiKey, { url: ok.url, events: ["message.received"], headers: { Authorization: authorization } })
    ).json;
    const b = (
      await api("POST", "/v1/webhooks", ws.apiKey, { url: failing.url, events: ["contact.created"], headers: { "X-Api-Key": apiKey } })
    ).json;
    const rotated = (await api("POST", `/v1/webhooks/${a.id}/rotate-secret`, ws.apiKey)).json;
    const alertSecret = (await api("PATCH", "/v1/workspace", ws.apiKey, { alertUrl: alerts.url })).json.alertSecret;
    await ok.program({ secrets: [rotated.secret] });
    await failing.program({ secrets: [b.secret], fallback: { status: 500 } });
    await alerts.program({ secrets: [alertSecret] });
    for (const text of ["one", "two"]) await api("POST", "/v1/events", ws.apiKey, { type: "message.received", data: { text } });
    const toB = (await api("POST", "/v1/events", ws.apiKey, { type: "contact.created", data: { contactId: 1 } })).json.id;
    expect((await api("POST", "/v1/workspace/alerts/test", ws.apiKey)).status).toBe(200);
    await waitFor(async () => (await ok.requests()).length === 2 && (await failing.requests()).length >= 1, "the deliveries");
    // The lanes record what they sent once the answers are in.
    await waitFor(
      async () => (await api("GET", `/v1/webhooks/${b.id}/deliveries/${toB}`, ws.apiKey)).json.headers?.["x-api-key"] === apiKey,
      "the failed attempt's headers in the log",
    );

    const sent = [...(await ok.requests()), ...(await failing.requests()), ...(await alerts.requests())];
    for (const req of sent) expect([req.standardValid, req.respondIoValid]).toEqual([true, true]);
    const jwks = (await (await fetch(`${worker.url}/v1/webhooks/${a.id}/jwks.json`)).json()) as unknown;
    expect(await ok.verifyV1a(jwks)).toEqual([true, true]);
    expect((await ok.requests())[0]!.headers.authorization).toBe(authorization);

    // The private keys, read back from the D1 file and opened with the key.
    const d1File = filesUnder(join(worker.persistDir, "v3/d1")).find((f) => f.endsWith(".sqlite") && !f.endsWith("metadata.sqlite"))!;
    const db = new DatabaseSync(d1File, { readOnly: true });
    const sealed = db
      .prepare(
        `SELECT signing_key AS k FROM webhooks UNION ALL SELECT previous_signing_key FROM webhooks WHERE previous_signing_key IS NOT NULL
         UNION ALL SELECT alert_signing_key FROM workspaces WHERE alert_signing_key IS NOT NULL`,
      )
      .all() as { k: string }[];
    db.close();
    expect(sealed.map(({ k }) => k.slice(0, 13))).toEqual(sealed.map(() => `enc:v1:${TEST_ENCRYPTION_KEYS.split(":")[0]}:`));
    const privateKeys = await Promise.all(sealed.map(({ k }) => openSealed(k)));
    expect(privateKeys.every((k) => k.startsWith("whsk_"))).toBe(true);

    const clear = [
      ...[a.secret, rotated.secret, b.secret, alertSecret, ...privateKeys].flatMap((v: string) => [v, v.replace(/^wh(sec|sk)_/, "")]),
      authorization,
      apiKey,
      ...sent.flatMap(signaturesOf),
    ];
    const files = filesUnder(worker.persistDir);
    expect(files.some((f) => f.includes("/v3/do/edge-webhooks-EndpointLane/") && f.endsWith(".sqlite"))).toBe(true);
    for (const file of files) {
      const bytes = readFileSync(file);
      for (const value of clear) expect(bytes.includes(Buffer.from(value)), `${value.slice(0, 12)}… in ${file}`).toBe(false);
    }
  }, 120_000);
});
