// A URL whose percent-escapes do not decode (`%ZZ`, a lone `%`, bytes that are not UTF-8) answers 400, never 500: the
// API's `malformed_url` error, or a readable page under /settings. Every route pattern of both, with a valid credential
// for it (API key, poll token, admin token, session), the escape in a path parameter, a fixed segment or the query.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { api } from "../../src/api/app";
import { settingsPages } from "../../src/settings/app";
import { ADMIN_TOKEN, call, createWorkspace } from "../support/helpers";
import { page, signIn } from "../support/pages";

interface Route {
  method: string;
  path: string;
}

/** The routes a router declares (not its middleware), each once. */
function routesOf(routes: readonly Route[], prefix = ""): Route[] {
  const seen = new Map<string, Route>();
  for (const { method, path } of routes) {
    if (method === "ALL" || path.includes("*")) continue;
    const full = prefix + (path === "/" ? "" : path);
    seen.set(`${method} ${full}`, { method, path: full || "/" });
  }
  return [...seen.values()];
}

const ROUTES = [...routesOf(api.routes), ...routesOf(settingsPages(() => Promise.reject(new Error("not called"))).routes, "/settings")];

/** Escapes that do not decode: not two hex digits after `%`, or bytes that are not UTF-8 (overlong, lone, surrogate, cut short). */
const HEX = "0123456789abcdefABCDEF";
const NOT_HEX = "GHZgz_-~!$'()*,;=:@";
const malformedEscape = fc.oneof(
  fc.constantFrom("%", "%Z", "%ZZ", "%%", "%G0", "%0G", "%-1", "%C0%AF", "%FF", "%80", "%E0%A4", "%ED%A0%80", "%F4%90%80%80", "%C3"),
  fc.tuple(fc.constantFrom(...HEX), fc.constantFrom(...NOT_HEX)).map(([a, b]) => `%${a}${b}`),
  fc.tuple(fc.constantFrom(...NOT_HEX), fc.constantFrom(...HEX)).map(([a, b]) => `%${a}${b}`),
  fc.integer({ min: 0x80, max: 0xff }).map((byte) => `%${byte.toString(16).toUpperCase()}`),
);
const decodes = (text: string) => {
  try {
    decodeURIComponent(text);
    return true;
  } catch {
    return false;
  }
};
const plain = fc.stringMatching(/^[A-Za-z0-9_]{0,6}$/);
const where = fc.constantFrom("param", "segment", "query");

let credentials: { apiKey: string; pollToken: string; webhookId: string; cookie: string };

beforeAll(async () => {
  const ws = await createWorkspace();
  const hook = await call("POST", "/v1/webhooks", { key: ws.apiKey, body: { delivery: "poll", events: ["contact.created"] } });
  credentials = { apiKey: ws.apiKey, pollToken: hook.json.pollToken, webhookId: hook.json.id, cookie: await signIn(ws.apiKey) };
});

/** The route's path with `bad` put where asked: in each parameter (else in its last segment), or in the query. */
function urlWith(route: Route, bad: string, at: "param" | "segment" | "query"): string {
  const params = /[:{]\w+\??}?/g;
  if (at === "query") return `${route.path.replace(params, credentials.webhookId)}?cursor=${bad}`;
  if (at === "param" && /[:{]\w/.test(route.path)) return route.path.replace(params, bad);
  return route.path.replace(params, credentials.webhookId).replace(/\/?$/, `/${bad}`);
}

async function send(route: Route, url: string) {
  const settings = url.startsWith("/settings");
  const withBody = !["GET", "HEAD"].includes(route.method);
  if (settings) {
    return page(route.method === "GET" ? "GET" : "POST", url, { cookie: credentials.cookie, ...(withBody ? { form: {} } : {}) });
  }
  const key = url.startsWith("/v1/admin") ? ADMIN_TOKEN : /\/poll(\?|$)/.test(url) ? credentials.pollToken : credentials.apiKey;
  const res = await call(route.method, url, { key, ...(withBody ? { body: {} } : {}) });
  return { status: res.status, headers: res.headers, html: res.text, location: null };
}

function expectRefused(res: Awaited<ReturnType<typeof send>>, url: string) {
  expect(res.status, `${url}: ${res.html.slice(0, 200)}`).toBe(400);
  if (url.startsWith("/settings")) {
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.html).toContain("Malformed address");
  } else {
    expect(JSON.parse(res.html)).toEqual({ error: { code: "malformed_url", message: expect.stringContaining("percent-escape") } });
  }
}

describe("malformed percent-escapes", () => {
  it("answers 400 on the poll route with a poll token (it answered 500: URIError)", async () => {
    const url = "/v1/webhooks/%ZZ/poll";
    const res = await call("GET", url, { key: credentials.pollToken });
    expectRefused({ status: res.status, headers: res.headers, html: res.text, location: null }, url);
  });

  it(`answers 400 on every route pattern (${ROUTES.length}), API and settings pages, with a valid credential`, async () => {
    expect(ROUTES.length).toBeGreaterThan(50);
    expect(ROUTES.some((r) => r.path.startsWith("/settings/integrations"))).toBe(true);
    for (const route of ROUTES) {
      for (const at of ["param", "segment", "query"] as const) {
        const url = urlWith(route, "%ZZ", at);
        expectRefused(await send(route, url), url);
      }
    }
  });

  it("answers 400 for any malformed escape anywhere in any route's URL, never 500", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ROUTES), plain, malformedEscape, plain, where, async (route, before, bad, after, at) => {
        // The text after may complete the escape ("%" then "00" is "%00", which decodes): only URLs that stay malformed.
        fc.pre(!decodes(`${bad}${after}`));
        const url = urlWith(route, `${before}${bad}${after}`, at);
        expectRefused(await send(route, url), url);
      }),
      { numRuns: 300 },
    );
  });

  it("still takes well-formed escapes: an escaped id is read as the id", async () => {
    const escaped = [...credentials.webhookId].map((ch) => `%${ch.charCodeAt(0).toString(16)}`).join("");
    expect((await call("GET", `/v1/webhooks/${escaped}`, { key: credentials.apiKey })).json.id).toBe(credentials.webhookId);
    expect((await page("GET", `/settings/integrations/webhooks/${escaped}`, { cookie: credentials.cookie })).status).toBe(200);
  });
});
