// What a request without a valid credential costs the shared D1: a malformed key or poll token nothing, an unknown one
// one read and then nothing for a while, and an address over PUBLIC_LIMITER nothing at all (429); a flood of unknown
// keys cannot push a known one out of the cache; the pages that take no credential (a portal link, its Continue,
// confirm-email) count their limit before any D1 read or write; and a settings form is read up to 64 KiB, no further.
import { describe, expect, it, vi } from "vitest";
import { api } from "../../src/api/app";
import { ADMIN_TOKEN, call, createWorkspace, randomAddress } from "../support/helpers";
import { countingWorker } from "../support/counting";

/** PUBLIC_LIMITER and SIGN_IN_LIMITER in wrangler.toml (test/api/rate-limits.test.ts checks them). */
const PUBLIC_LIMIT = 60;
const SIGN_IN_LIMIT = 10;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const randomKey = () => `whk_${crypto.randomUUID().replaceAll("-", "")}`;
const randomPollToken = () => `whpoll_${crypto.randomUUID().replaceAll("-", "")}`;
/** A well-formed portal or confirm-email token (43 base64url characters) that was never issued. */
const madeUpToken = () => crypto.getRandomValues(new Uint8Array(32)).toBase64({ alphabet: "base64url", omitPadding: true });

async function pollingWebhook(apiKey: string) {
  const res = await call("POST", "/v1/webhooks", { key: apiKey, body: { delivery: "poll", events: ["contact.created"] } });
  expect(res.status).toBe(201);
  return res.json as { id: string; pollToken: string };
}

const form = (fields: Record<string, string>, address: string) => ({
  method: "POST",
  address,
  headers: { "content-type": "application/x-www-form-urlencoded", origin: "http://edge.test" },
  body: new URLSearchParams(fields).toString(),
});

describe("API keys and poll tokens that are not valid", () => {
  it("refuses malformed keys and poll tokens with 401 without a single D1 query", async () => {
    const w = countingWorker();
    const keys = ["whk_wrong", `whk_${"A".repeat(65)}`, `whk_${"A".repeat(31)}`, `whk_${"+".repeat(40)}`, "not-a-key-at-all"];
    const pollTokens = ["whpoll_short", `whpoll_${"A".repeat(33)}`, `whpoll_${"/".repeat(32)}`];
    for (const [path, token] of [
      ...keys.flatMap((key) => [
        ["/v1/webhooks", key],
        ["/v1/webhooks/wh_x/poll", key],
      ]),
      ...pollTokens.map((token) => ["/v1/webhooks/wh_x/poll", token]),
    ]) {
      const res = await w.fetch(path!, { headers: bearer(token!), address: randomAddress() });
      expect(res.status).toBe(401);
      expect(res.json.error.code).toBe("unauthorized");
    }
    expect(w.statements).toEqual([]);
  });

  it("reads D1 once for an unknown key or poll token, then refuses it from memory", async () => {
    const w = countingWorker();
    const [key, token] = [randomKey(), randomPollToken()];
    for (let i = 0; i < 20; i++) {
      expect((await w.fetch("/v1/webhooks", { headers: bearer(key), address: randomAddress() })).status).toBe(401);
      expect((await w.fetch("/v1/webhooks/wh_x/poll", { headers: bearer(token), address: randomAddress() })).status).toBe(401);
    }
    expect(w.touching("api_keys")).toBe(1);
    expect(w.touching("webhooks")).toBe(1);
    expect(w.statements).toHaveLength(2);
  });

  it("keeps a known key cached through a flood of unknown ones", async () => {
    const ws = await createWorkspace();
    const w = countingWorker();
    expect((await w.fetch("/v1/workspace", { headers: bearer(ws.apiKey) })).status).toBe(200);
    const known = w.touching("api_keys");
    for (let i = 0; i < 300; i++)
      expect((await w.fetch("/v1/webhooks", { headers: bearer(randomKey()), address: randomAddress() })).status).toBe(401);
    expect(w.touching("api_keys")).toBe(known + 300);
    expect((await w.fetch("/v1/workspace", { headers: bearer(ws.apiKey) })).status).toBe(200);
    expect(w.touching("api_keys")).toBe(known + 300);
  });

  it(`answers 429 with Retry-After, reading no D1, once an address has sent ${PUBLIC_LIMIT} unknown credentials in 60 s; a cached key and other addresses still answer`, async () => {
    const ws = await createWorkspace();
    const hook = await pollingWebhook(ws.apiKey);
    const w = countingWorker();
    const noisy = randomAddress();
    expect((await w.fetch("/v1/webhooks", { headers: bearer(ws.apiKey), address: noisy })).status).toBe(200);

    const statuses: number[] = [];
    while (statuses.length < PUBLIC_LIMIT * 3 && !statuses.includes(429)) {
      const [path, token] = statuses.length % 2 ? [`/v1/webhooks/${hook.id}/poll`, randomPollToken()] : ["/v1/webhooks", randomKey()];
      statuses.push((await w.fetch(path, { headers: bearer(token), address: noisy })).status);
    }
    expect(statuses.at(-1)).toBe(429);
    expect(new Set(statuses.slice(0, -1))).toEqual(new Set([401]));
    expect(statuses.length - 1).toBeGreaterThanOrEqual(PUBLIC_LIMIT);

    // From now on this address's unknown keys and tokens are refused before D1 is asked.
    const before = w.statements.length;
    for (const [path, token] of [
      ["/v1/webhooks", randomKey()],
      [`/v1/webhooks/${hook.id}/poll`, randomPollToken()],
    ] as const) {
      const res = await w.fetch(path, { headers: bearer(token), address: noisy });
      expect(res.status).toBe(429);
      expect(res.headers.get("retry-after")).toMatch(/^[1-9]\d*$/);
      expect(res.json).toEqual({
        error: { code: "rate_limited", message: expect.stringMatching(/too many requests with unknown .* retry in \d+ s/) },
      });
    }
    expect(w.statements.length).toBe(before);
    // A key this isolate already knows is served from memory, whatever the address did; another address is not limited.
    expect((await w.fetch("/v1/webhooks", { headers: bearer(ws.apiKey), address: noisy })).status).toBe(200);
    expect((await w.fetch("/v1/webhooks", { headers: bearer(randomKey()), address: randomAddress() })).status).toBe(401);
  });

  it("checks the credential before it reads a JSON body: 401, not 400, for 200 KiB of broken JSON without a valid key", async () => {
    const w = countingWorker();
    const body = `{"url": "${"x".repeat(200 * 1024)}`;
    const credentials: Record<string, string>[] = [
      {},
      { authorization: "Bearer whk_wrong" },
      { authorization: `Bearer ${ADMIN_TOKEN.slice(1)}` },
    ];
    for (const headers of credentials) {
      for (const path of ["/v1/webhooks", "/v1/events", "/v1/admin/workspaces"]) {
        const res = await w.fetch(path, {
          method: "POST",
          address: randomAddress(),
          headers: { "content-type": "application/json", ...headers },
          body,
        });
        expect(res.status, path).toBe(401);
      }
    }
    expect(w.statements).toEqual([]);
  });

  it("reads the webhook once for a valid poll token (the poll route uses what authentication read), and a rotated token stops at once", async () => {
    const ws = await createWorkspace();
    const hook = await pollingWebhook(ws.apiKey);
    const w = countingWorker();
    const res = await w.fetch(`/v1/webhooks/${hook.id}/poll`, { headers: bearer(hook.pollToken) });
    expect(res.status).toBe(200);
    expect(w.statements).toHaveLength(1);
    expect(w.touching("webhooks")).toBe(1);

    const rotated = await call("POST", `/v1/webhooks/${hook.id}/rotate-secret`, { key: ws.apiKey });
    expect(rotated.status).toBe(200);
    expect((await w.fetch(`/v1/webhooks/${hook.id}/poll`, { headers: bearer(hook.pollToken) })).status).toBe(401);
    expect((await w.fetch(`/v1/webhooks/${hook.id}/poll`, { headers: bearer(rotated.json.pollToken) })).status).toBe(200);
  });
});

describe("pages without a credential: limited per address before D1", () => {
  it(`answers a portal link and its Continue from an address over the sign-in limit with a 429 page, and no D1 read or write`, async () => {
    const w = countingWorker();
    const address = randomAddress();
    for (let i = 0; i < SIGN_IN_LIMIT; i++) await w.fetch("/settings/sign-in", form({ apiKey: "whk_wrong" }, address));
    const before = w.statements.length;
    for (const res of [
      await w.fetch(`/settings/portal/${madeUpToken()}`, { address }),
      await w.fetch("/settings/portal", form({ token: madeUpToken() }, address)),
    ]) {
      expect(res.status).toBe(429);
      expect(res.headers.get("retry-after")).toBe("60");
      expect(res.headers.get("content-type")).toMatch(/^text\/html/);
      expect(res.text).toContain("Too many sign-in attempts");
    }
    expect(w.statements.length).toBe(before);
  });

  it(`answers confirm-email with a 429 page once an address has opened it ${PUBLIC_LIMIT} times in 60 s, and then reads no D1`, async () => {
    const w = countingWorker();
    const address = randomAddress();
    const statuses: number[] = [];
    while (statuses.length < PUBLIC_LIMIT * 3 && !statuses.includes(429)) {
      statuses.push((await w.fetch(`/settings/confirm-email/${madeUpToken()}`, { address })).status);
    }
    expect(statuses.at(-1)).toBe(429);
    expect(new Set(statuses.slice(0, -1))).toEqual(new Set([404]));
    expect(statuses.length - 1).toBeGreaterThanOrEqual(PUBLIC_LIMIT);

    const before = w.statements.length;
    for (const res of [
      await w.fetch(`/settings/confirm-email/${madeUpToken()}`, { address }),
      await w.fetch("/settings/confirm-email", form({ token: madeUpToken() }, address)),
    ]) {
      expect(res.status).toBe(429);
      expect(res.headers.get("retry-after")).toBe("60");
      expect(res.text).toContain("Too many requests");
    }
    expect(w.statements.length).toBe(before);
    // Another address is not affected.
    expect((await w.fetch(`/settings/confirm-email/${madeUpToken()}`, { address: randomAddress() })).status).toBe(404);
  });
});

describe("public documents", () => {
  it("answers /openapi.json and /docs from memory: the document is generated at most once per isolate, not per caller", async () => {
    const generated = vi.spyOn(api, "getOpenAPI31Document");
    const w = countingWorker();
    const first = await w.fetch("/openapi.json");
    for (let i = 0; i < 10; i++) {
      expect((await w.fetch("/openapi.json", { address: randomAddress() })).text).toBe(first.text);
      expect((await w.fetch("/docs", { address: randomAddress() })).text).toContain("/v1/webhooks");
    }
    expect(generated.mock.calls.length).toBeLessThanOrEqual(1);
    expect(first.json.paths["/v1/webhooks"]).toBeDefined();
    expect(w.statements).toEqual([]);
    generated.mockRestore();
  });
});

describe("settings forms: at most 64 KiB", () => {
  const LIMIT = 64 * 1024;

  it("takes a form of exactly 64 KiB, and answers one byte more with a readable 413 page before anything else", async () => {
    const w = countingWorker();
    const fill = (bytes: number) => `apiKey=whk_wrong&next=${"a".repeat(bytes - "apiKey=whk_wrong&next=".length)}`;
    const headers = { "content-type": "application/x-www-form-urlencoded", origin: "http://edge.test" };
    const fits = await w.fetch("/settings/sign-in", { method: "POST", headers, body: fill(LIMIT), address: randomAddress() });
    expect(fits.status).toBe(401);
    const address = randomAddress();
    const over = await w.fetch("/settings/sign-in", { method: "POST", headers, body: fill(LIMIT + 1), address });
    expect(over.status).toBe(413);
    expect(over.headers.get("content-type")).toMatch(/^text\/html/);
    expect(over.text).toContain("Form too large");
    expect(over.text).toContain("64 KiB");
    // Refused before the sign-in limit counted it: this address still has all its attempts.
    for (let i = 0; i < SIGN_IN_LIMIT; i++)
      expect((await w.fetch("/settings/sign-in", form({ apiKey: "whk_wrong" }, address))).status).toBe(401);
  });

  it("reads no more than about 64 KiB of a 100 MB multipart body sent without a length", async () => {
    const w = countingWorker();
    const chunk = new TextEncoder().encode("x".repeat(16 * 1024));
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= 100 * 1024 * 1024) return controller.close();
        pulled += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const res = await w.fetch("/settings/sign-in", {
      method: "POST",
      address: randomAddress(),
      headers: { "content-type": "multipart/form-data; boundary=b", origin: "http://edge.test" },
      body,
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(res.text).toContain("Form too large");
    // Counted as it streamed in: read past the limit (the runtime reads ahead a little), then no further.
    expect(pulled).toBeGreaterThan(LIMIT);
    expect(pulled).toBeLessThan(1024 * 1024);
  });
});
