// Alerts carry `v1a` (Ed25519) like every webhook delivery: the key pair is made with the alert secret, its public key
// is in the workspace object and in a public alerts JWKS, a receiver verifies an alert with that key alone (the real
// receiver, in Node, and the WebCrypto snippet), and rotate-alert-secret keeps both keys signing for the 24 h grace.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { verifyV1a } from "../../docs/snippets/verify-v1a-webcrypto.mjs";
import type { JwkSet } from "../../docs/snippets/verify-v1a.d.mts";
import { open } from "../../src/lib/encryption";
import { call, createWorkspace } from "../support/helpers";
import { page, signIn } from "../support/pages";
import { endpoint, type RecordedRequest } from "../support/receiver";

const DAY = 86_400_000;

const alertJwks = (workspaceId: string) => call("GET", `/v1/workspaces/${workspaceId}/alerts/jwks.json`);
const keysOf = async (workspaceId: string) => (await alertJwks(workspaceId)).json as JwkSet & { keys: { kid: string; x: string }[] };

const entries = (req: RecordedRequest, scheme: "v1" | "v1a") =>
  req.headers["webhook-signature"]!.split(" ").filter((e) => e.startsWith(`${scheme},`));

const xOf = (publicKey: string) =>
  Uint8Array.fromBase64(publicKey.slice("whpk_".length)).toBase64({ alphabet: "base64url", omitPadding: true });

/** A workspace whose alertUrl is a real receiver that checks `v1` with the alert secret. */
async function workspaceWithAlerts() {
  const ws = await createWorkspace();
  const alerts = endpoint();
  const set = await call("PATCH", "/v1/workspace", { key: ws.apiKey, body: { alertUrl: alerts.url } });
  expect(set.status).toBe(200);
  await alerts.program({ secrets: [set.json.alertSecret] });
  return { ws, alerts, set: set.json as { alertSecret: string; alertPublicKey: string } };
}

const testAlert = async (apiKey: string) => {
  const res = await call("POST", "/v1/workspace/alerts/test", { key: apiKey });
  expect(res.status).toBe(200);
  expect(res.json.status).toBe("delivered");
};

afterEach(() => {
  vi.useRealTimers();
});

describe("alerts signed with v1a", () => {
  it("makes the key pair with the alert secret, shows its public key, and signs every alert so the alerts JWKS alone verifies it", async () => {
    const { ws, alerts, set } = await workspaceWithAlerts();
    expect(set.alertPublicKey).toMatch(/^whpk_[A-Za-z0-9+/]{43}=$/);
    const workspace = (await call("GET", "/v1/workspace", { key: ws.apiKey })).json;
    expect(workspace.alertPublicKey).toBe(set.alertPublicKey);
    expect(workspace.id).toBe(ws.id);

    await testAlert(ws.apiKey);
    const [req] = await alerts.waitFor(1);
    expect(entries(req!, "v1")).toHaveLength(1);
    expect(entries(req!, "v1a")).toHaveLength(1);
    // v1 still verifies with the secret (the Standard Webhooks library, in the receiver).
    expect(req!.standardValid).toBe(true);

    const jwks = await alertJwks(ws.id);
    expect(jwks.status).toBe(200);
    expect(jwks.headers.get("cache-control")).toBe("public, max-age=300");
    expect(jwks.json.keys).toEqual([
      expect.objectContaining({ kty: "OKP", crv: "Ed25519", use: "sig", alg: "EdDSA", x: xOf(set.alertPublicKey) }),
    ]);
    expect(await verifyV1a(jwks.json, new Headers(req!.headers), req!.body, 300)).toBe(true);
    expect(await alerts.verifyV1aInNode(jwks.json)).toEqual([true]);
    // A tampered alert does not verify.
    const tampered = { headers: req!.headers, body: req!.body.replace("alert.test", "alert.fake") };
    expect(await alerts.verifyV1aInNode(jwks.json, [tampered])).toEqual([false]);
  });

  it("rotates the key pair with the alert secret: both sign and are published for 24 h, then only the new one", async () => {
    const { ws, alerts, set } = await workspaceWithAlerts();
    const before = await keysOf(ws.id);
    const rotatedAt = Date.now();
    const rotated = await call("POST", "/v1/workspace/rotate-alert-secret", { key: ws.apiKey });
    expect(rotated.status).toBe(200);
    const graceMs = Date.parse(rotated.json.previousSecretExpiresAt) - rotatedAt;
    expect(graceMs).toBeGreaterThanOrEqual(DAY);
    expect(graceMs).toBeLessThan(DAY + 10_000);
    expect(rotated.json.alertPublicKey).toMatch(/^whpk_/);
    expect(rotated.json.alertPublicKey).not.toBe(set.alertPublicKey);
    expect((await call("GET", "/v1/workspace", { key: ws.apiKey })).json.alertPublicKey).toBe(rotated.json.alertPublicKey);
    await alerts.program({ secrets: [rotated.json.alertSecret] });

    // The set fetched before the rotation is not served from the cache any more: both keys, new first, old kid kept.
    const during = await keysOf(ws.id);
    expect(during.keys.map((k) => k.x)).toEqual([xOf(rotated.json.alertPublicKey), xOf(set.alertPublicKey)]);
    expect(during.keys[1]!.kid).toBe(before.keys[0]!.kid);

    await testAlert(ws.apiKey);
    const [first] = await alerts.waitFor(1);
    expect(entries(first!, "v1")).toHaveLength(2);
    expect(entries(first!, "v1a")).toHaveLength(2);
    const newOnly = { keys: [during.keys[0]!] };
    for (const keys of [before, newOnly, during]) {
      expect(await verifyV1a(keys, new Headers(first!.headers), first!.body, 300)).toBe(true);
      expect(await alerts.verifyV1aInNode(keys, [first!])).toEqual([true]);
    }

    // A minute after the grace: only the new key signs and is published.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.parse(rotated.json.previousSecretExpiresAt) + 60_000);
    const after = await keysOf(ws.id);
    expect(after.keys).toEqual(newOnly.keys);
    await testAlert(ws.apiKey);
    const [, second] = await alerts.waitFor(2);
    expect(entries(second!, "v1a")).toHaveLength(1);
    expect(await alerts.verifyV1aInNode(after, [second!])).toEqual([true]);
    expect(await alerts.verifyV1aInNode(before, [second!])).toEqual([false]);
  });

  it("keeps the private key out of every answer and page; the Alerts page shows the public key and its JWKS", async () => {
    const { ws, set } = await workspaceWithAlerts();
    const rotated = await call("POST", "/v1/workspace/rotate-alert-secret", { key: ws.apiKey });
    const cookie = await signIn(ws.apiKey);
    const alertsPage = await page("GET", "/settings/integrations/alerts", { cookie });
    expect(alertsPage.status).toBe(200);
    expect(alertsPage.html).toContain(rotated.json.alertPublicKey);
    expect(alertsPage.html).toContain(`/v1/workspaces/${ws.id}/alerts/jwks.json`);
    const answers = [
      JSON.stringify(set),
      rotated.text,
      (await call("GET", "/v1/workspace", { key: ws.apiKey })).text,
      (await alertJwks(ws.id)).text,
      alertsPage.html,
    ];
    for (const text of answers) expect(text).not.toContain("whsk_");
    const sealed = await env.DB.prepare("SELECT alert_signing_key, alert_previous_signing_key FROM workspaces WHERE id = ?")
      .bind(ws.id)
      .first<{ alert_signing_key: string; alert_previous_signing_key: string }>();
    // Stored sealed; opened here to search for the keys in clear.
    const row = {
      alert_signing_key: await open(env, sealed!.alert_signing_key),
      alert_previous_signing_key: await open(env, sealed!.alert_previous_signing_key),
    };
    expect(row.alert_signing_key).toMatch(/^whsk_/);
    expect(row.alert_previous_signing_key).toMatch(/^whsk_/);
    for (const text of answers) {
      expect(text).not.toContain(row.alert_signing_key.slice(5));
      expect(text).not.toContain(row.alert_previous_signing_key.slice(5));
    }
  });
});

describe("GET /v1/workspaces/{workspaceId}/alerts/jwks.json", () => {
  it("is public; 404 in the error model for an unknown workspace and for one without an alertUrl, until one is set", async () => {
    const unknown = await alertJwks("ws_01jd8x6m3q7v9c2k4n5p6r7s8t");
    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual({ error: { code: "not_found", message: expect.stringContaining("ws_01jd8x6m3q7v9c2k4n5p6r7s8t") } });

    const ws = await createWorkspace();
    expect((await call("GET", "/v1/workspace", { key: ws.apiKey })).json.alertPublicKey).toBeNull();
    const none = await alertJwks(ws.id);
    expect(none.status).toBe(404);
    expect(none.json.error.code).toBe("not_found");
    // That 404 is cached; setting the alertUrl forgets it, so the key is published at once.
    const set = await call("PATCH", "/v1/workspace", { key: ws.apiKey, body: { alertUrl: "https://ops.example.com/alerts" } });
    const found = await alertJwks(ws.id);
    expect(found.status).toBe(200);
    expect(found.json.keys.map((k: { x: string }) => k.x)).toEqual([xOf(set.json.alertPublicKey)]);
    // Clearing the alertUrl keeps the keys (as it keeps the secret): still published.
    await call("PATCH", "/v1/workspace", { key: ws.apiKey, body: { alertUrl: null } });
    expect((await alertJwks(ws.id)).status).toBe(200);
    // The workspace's other routes still need a key.
    expect((await call("GET", "/v1/workspace")).status).toBe(401);
    expect((await call("GET", `/v1/workspaces/${ws.id}`)).status).toBe(404);
  });

  it("is in /openapi.json, public, with alertPublicKey on the workspace and the rotated secret", async () => {
    const { json } = await call("GET", "/openapi.json");
    const route = json.paths["/v1/workspaces/{workspaceId}/alerts/jwks.json"].get;
    expect(route.security).toEqual([]);
    expect(Object.keys(route.responses).sort()).toEqual(["200", "304", "404", "429"]);
    expect(json.components.schemas.Workspace.properties).toHaveProperty("alertPublicKey");
    expect(json.components.schemas.AlertSecret.properties).toHaveProperty("alertPublicKey");
    expect(json.components.schemas.AlertSecret.required).toContain("alertPublicKey");
  });
});
