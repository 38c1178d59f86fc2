// Portal links against `wrangler dev`, reading what wrangler logs: every portal token a log line holds is spent (its
// first request used it up) or was answered 429 unread (the limit comes before D1; it opens nothing from that
// address until the limit's period ends), and the Continue token that signs in is never logged.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorker, type RunningWorker } from "../support/node/worker";

const ADMIN = "portal-logs-admin-token-at-least-32-characters";
let worker: RunningWorker;

const post = (path: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
  fetch(`${worker.url}${path}`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: worker.url, ...headers },
    body: new URLSearchParams(form).toString(),
  });

async function mint(workspaceId: string): Promise<string> {
  const res = await fetch(`${worker.url}/v1/admin/workspaces/${workspaceId}/portal-links`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN}` },
  });
  return new URL(((await res.json()) as { url: string }).url).pathname;
}

describe("portal links in wrangler's log", () => {
  beforeAll(async () => {
    worker = await startWorker({ ADMIN_TOKEN: ADMIN, SESSION_SECRET: "portal-logs-session-secret", ALLOW_PRIVATE_URLS: "true" });
  });
  afterAll(async () => {
    await worker?.stop();
  });

  it("holds only spent link tokens or ones a 429 answered, and never the Continue token", async () => {
    const created = await fetch(`${worker.url}/v1/admin/workspaces`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "Logged" }),
    });
    const { id } = (await created.json()) as { id: string };

    // Opened as a person does: the landing page, then Continue.
    const opened = await mint(id);
    const landing = await fetch(`${worker.url}${opened}`, { redirect: "manual" });
    expect(landing.status).toBe(200);
    const token = /name="token" value="([A-Za-z0-9_-]{43})"/.exec(await landing.text())?.[1];
    expect(token).toBeDefined();
    const signedIn = await post("/settings/portal", { token: token! });
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.getSetCookie().some((c) => /ew_session=/.test(c))).toBe(true);

    // Opened while this address is over the sign-in rate limit.
    const limitedLink = await mint(id);
    for (let i = 0; i < 10; i++) await post("/settings/sign-in", { apiKey: "whk_wrong", next: "/settings/integrations/webhooks" });
    const limited = await fetch(`${worker.url}${limitedLink}`, { redirect: "manual" });
    expect(limited.status).toBe(429);

    // Wrangler logs each request's path once it is answered.
    const deadline = Date.now() + 15_000;
    while (!worker.output().includes(limitedLink) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const output = worker.output();
    const logged = [...output.matchAll(/\/settings\/portal\/([A-Za-z0-9_-]{43})/g)].map((m) => m[0]);
    expect(new Set(logged)).toEqual(new Set([opened, limitedLink]));
    expect(output).not.toContain(token!);

    // Neither logged link shows a Continue page to this address again (a 429, or the sign-in page for the spent one).
    for (const path of logged) {
      const again = await fetch(`${worker.url}${path}`, { redirect: "manual" });
      expect(again.status === 429 || again.headers.get("location") === "/settings/sign-in").toBe(true);
      expect(await again.text()).not.toContain('name="token"');
    }
  }, 120_000);
});
