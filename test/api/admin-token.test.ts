// The operator's secrets: an ADMIN_TOKEN that is unset or shorter than 32 characters makes the admin routes answer
// 500 misconfigured naming it (the rest of the API unaffected); failed admin calls are limited per address (429 with
// Retry-After, and then even the right token waits); without SESSION_SECRET nobody can sign in to the settings pages,
// which say what to set, while the API answers as before.
import { afterEach, describe, expect, it, vi } from "vitest";
import { countingWorker } from "../support/counting";
import { captureLogs } from "../support/logs";
import { ADMIN_TOKEN, call, createWorkspace, randomAddress } from "../support/helpers";

/** ADMIN_LIMITER in wrangler.toml (test/api/rate-limits.test.ts checks it). */
const ADMIN_LIMIT = 10;

afterEach(() => {
  vi.restoreAllMocks();
});

const logs = captureLogs();

const admin = (token: string, address = randomAddress()) => ({
  method: "POST",
  address,
  headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
  body: JSON.stringify({ name: "Ops" }),
});

describe("ADMIN_TOKEN", () => {
  it.each([
    ["unset", undefined, /ADMIN_TOKEN is not set/],
    ["16 characters", "0123456789abcdef", /ADMIN_TOKEN is 16 characters long/],
    ["31 characters", "x".repeat(31), /ADMIN_TOKEN is 31 characters long/],
  ])(
    "answers every admin route 500 misconfigured naming ADMIN_TOKEN when it is %s, even to that token; the API is unaffected",
    async (_, token, named) => {
      const ws = await createWorkspace();
      const w = countingWorker({ ADMIN_TOKEN: token });
      for (const [method, path] of [
        ["POST", "/v1/admin/workspaces"],
        ["GET", `/v1/admin/workspaces/${ws.id}/keys`],
        ["POST", `/v1/admin/workspaces/${ws.id}/portal-links`],
      ] as const) {
        for (const sent of [token ?? "", "x".repeat(44)]) {
          const res = await w.fetch(path, { ...admin(sent), method, ...(method === "GET" ? { body: null } : {}) });
          expect(res.status).toBe(500);
          expect(res.json.error.code).toBe("misconfigured");
          expect(res.json.error.message).toMatch(named);
          expect(res.json.error.message).toContain("at least 32 characters");
          expect(res.json.error.message).toContain("openssl rand -base64 32");
        }
      }
      expect((await w.fetch("/v1/webhooks", { headers: { authorization: `Bearer ${ws.apiKey}` } })).status).toBe(200);
      // Each refusal says why in the log too, once per request.
      expect(logs.error).toHaveLength(6);
      for (const line of logs.error) expect(line).toMatch(new RegExp(`^configuration error: ${named.source}`));
      // Confirming a notification address needs no session: its link still answers (here: an unknown token's page).
      expect((await w.fetch(`/settings/confirm-email/${"A".repeat(43)}`, { address: randomAddress() })).status).toBe(404);
    },
  );

  it("accepts a token of 32 characters", async () => {
    const token = "y".repeat(32);
    const res = await countingWorker({ ADMIN_TOKEN: token }).fetch("/v1/admin/workspaces", admin(token));
    expect(res.status).toBe(201);
  });

  it(`answers 429 with Retry-After after ${ADMIN_LIMIT} failed admin calls from one address in 60 s, then refuses even the right token from it; other addresses are unaffected`, async () => {
    const w = countingWorker();
    const guesser = randomAddress();
    const statuses: number[] = [];
    while (statuses.length < ADMIN_LIMIT * 3 && !statuses.includes(429)) {
      // Wrong tokens, a malformed header and none at all: every failure counts.
      const headers: Record<string, string> =
        statuses.length % 3 === 0
          ? { authorization: `Bearer guess-${statuses.length}` }
          : statuses.length % 3 === 1
            ? { authorization: "Basic x" }
            : {};
      statuses.push((await w.fetch("/v1/admin/workspaces", { method: "POST", address: guesser, headers })).status);
    }
    expect(statuses.at(-1)).toBe(429);
    expect(new Set(statuses.slice(0, -1))).toEqual(new Set([401]));
    expect(statuses.length - 1).toBeGreaterThanOrEqual(ADMIN_LIMIT);

    const right = await w.fetch("/v1/admin/workspaces", admin(ADMIN_TOKEN, guesser));
    expect(right.status).toBe(429);
    expect(right.headers.get("retry-after")).toMatch(/^[1-9]\d*$/);
    expect(right.json).toEqual({ error: { code: "rate_limited", message: expect.stringContaining("ADMIN_TOKEN") } });
    expect((await w.fetch("/v1/admin/workspaces", admin(ADMIN_TOKEN))).status).toBe(201);
  });

  it("counts an IPv6 /64 as one address: a new address per guess inside it does not escape the limit", async () => {
    const w = countingWorker();
    const block = randomAddress().replace(/::1$/, "");
    const statuses: number[] = [];
    for (let i = 1; i <= ADMIN_LIMIT * 3 && !statuses.includes(429); i++) {
      const address = `${block}:${i.toString(16)}:0:0:${(i * 7).toString(16)}`;
      statuses.push(
        (await w.fetch("/v1/admin/workspaces", { method: "POST", address, headers: { authorization: "Bearer guess" } })).status,
      );
    }
    expect(statuses.at(-1)).toBe(429);
    // IPv4 addresses are each their own, and an IPv4-mapped IPv6 address is its IPv4 one.
    const v4 = `198.51.100.${1 + Math.floor(Math.random() * 250)}`;
    for (let i = 0; i <= ADMIN_LIMIT; i++)
      await w.fetch("/v1/admin/workspaces", { method: "POST", address: v4, headers: { authorization: "Bearer guess" } });
    expect((await w.fetch("/v1/admin/workspaces", { ...admin(ADMIN_TOKEN), address: `::ffff:${v4}` })).status).toBe(429);
  });

  it("never counts successful admin calls", async () => {
    const w = countingWorker();
    const operator = randomAddress();
    for (let i = 0; i < ADMIN_LIMIT * 2; i++)
      expect((await w.fetch("/v1/admin/workspaces", admin(ADMIN_TOKEN, operator))).status).toBe(201);
  });

  it("documents 429 and 500 misconfigured on every admin route in /openapi.json", async () => {
    const { json } = await call("GET", "/openapi.json");
    const adminPaths = Object.keys(json.paths).filter((path) => path.startsWith("/v1/admin/"));
    expect(adminPaths.length).toBeGreaterThan(3);
    for (const path of adminPaths) {
      for (const [method, operation] of Object.entries(json.paths[path] as Record<string, { responses: Record<string, unknown> }>)) {
        expect(Object.keys(operation.responses), `${method} ${path}`).toEqual(expect.arrayContaining(["401", "429", "500"]));
      }
    }
  });
});

describe("SESSION_SECRET", () => {
  it("without it, sign-in answers a page saying what to set (logged once), starts no session, and the API answers as before", async () => {
    const ws = await createWorkspace();
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    for (const secret of [undefined, ""]) {
      const w = countingWorker({ SESSION_SECRET: secret });
      const page = await w.fetch("/settings/sign-in", { address: randomAddress() });
      expect(page.status).toBe(503);
      expect(page.headers.get("content-type")).toMatch(/^text\/html/);
      expect(page.text).toContain("SESSION_SECRET");
      expect(page.text).toContain("openssl rand -base64 32");
      expect(page.text).toContain("The API is not affected");
      const signIn = await w.fetch("/settings/sign-in", {
        method: "POST",
        address: randomAddress(),
        headers: { "content-type": "application/x-www-form-urlencoded", origin: "http://edge.test" },
        body: new URLSearchParams({ apiKey: ws.apiKey }).toString(),
      });
      expect(signIn.status).toBe(503);
      expect(signIn.headers.getSetCookie()).toEqual([]);
      expect(w.statements).toEqual([]);
      expect((await w.fetch("/v1/webhooks", { headers: { authorization: `Bearer ${ws.apiKey}` } })).status).toBe(200);
      // Confirming a notification address needs no session: its link still answers (here: an unknown token's page).
      expect((await w.fetch(`/settings/confirm-email/${"A".repeat(43)}`, { address: randomAddress() })).status).toBe(404);
    }
    const lines = logged.mock.calls.map((args) => args.join(" ")).filter((line) => line.includes("SESSION_SECRET"));
    expect(lines).toHaveLength(1);
  });
});
