// Custom headers that would change how a delivery is made (a WebSocket upgrade, a coding, a connection option)
// are refused, and values that cannot arrive byte for byte too; a stored config that holds one anyway (written
// before the rule) never turns an attempt into anything but a POST with its body. Against the real receiver.
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { attemptDelivery } from "../../src/delivery/attempt";
import { isReservedHeader } from "../../src/lib/endpoint-controls";
import { call, createWebhook, createWorkspace, eventually, sendEvent, setLimits } from "../support/helpers";
import { captureLogs } from "../support/logs";
import { page, signIn } from "../support/pages";
import { endpoint } from "../support/receiver";

async function countWebhooks(workspaceId: string) {
  return (await env.DB.prepare("SELECT count(*) AS n FROM webhooks WHERE workspace_id = ?").bind(workspaceId).first<{ n: number }>())!.n;
}

const FRAMING = ["Connection", "Upgrade", "Keep-Alive", "TE", "Trailer", "Transfer-Encoding", "Expect", "Content-Encoding"];
const PREFIXED = ["Proxy-Authorization", "Proxy-Connection", "Sec-WebSocket-Key", "Sec-Fetch-Mode", "Webhook-Id"];

/** The same name in three spellings: as written, upper case and an alternating case. */
const spellings = (name: string) => [
  name,
  name.toUpperCase(),
  [...name].map((c, i) => (i % 2 ? c.toLowerCase() : c.toUpperCase())).join(""),
];

describe("reserved headers", () => {
  const logs = captureLogs();
  it.each([...FRAMING, ...PREFIXED].flatMap(spellings))(
    "refuses %s with reserved_header on create and PATCH, saving nothing",
    async (name) => {
      const ws = await createWorkspace();
      const created = await call("POST", "/v1/webhooks", {
        key: ws.apiKey,
        body: { url: "https://crm.example.com/h", events: ["contact.created"], headers: { [name]: "websocket" } },
      });
      expect(created.status).toBe(400);
      expect(created.json.error).toMatchObject({ code: "reserved_header", param: `headers.${name}` });
      expect(await countWebhooks(ws.id)).toBe(0);
      const hook = await createWebhook(ws.apiKey, { headers: { "X-Keep": "1" } });
      const patched = await call("PATCH", `/v1/webhooks/${hook.id}`, { key: ws.apiKey, body: { headers: { "X-Keep": "2", [name]: "1" } } });
      expect(patched.status).toBe(400);
      expect(patched.json.error.code).toBe("reserved_header");
      expect((await call("GET", `/v1/webhooks/${hook.id}`, { key: ws.apiKey })).json.headers).toEqual({ "X-Keep": "1" });
    },
  );

  it("keeps header names that only look alike (x-upgrade, tea, connectionless)", async () => {
    for (const name of ["X-Upgrade", "tea", "Connectionless", "X-Sec-Token", "Proxyish", "Expected"])
      expect(isReservedHeader(name)).toBe(false);
    const ws = await createWorkspace();
    const headers = { "X-Upgrade": "1", tea: "2", Connectionless: "3", "X-Sec-Token": "4" };
    expect(
      (
        await call("POST", "/v1/webhooks", {
          key: ws.apiKey,
          body: { url: "https://crm.example.com/h", events: ["contact.created"], headers },
        })
      ).status,
    ).toBe(201);
  });

  it("delivers a stored config's event as a POST with its body, withholding a header that is reserved now", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    const hook = await createWebhook(ws.apiKey, { url: ep.url, events: ["contact.created"], headers: { "X-Keep": "yes" } });
    // A config written before the rule (or by hand): the API would refuse it now.
    await env.DB.prepare("UPDATE webhooks SET headers = ? WHERE id = ?")
      .bind(
        JSON.stringify({
          Upgrade: "websocket",
          Connection: "Upgrade",
          "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
          "Content-Encoding": "gzip",
          "X-Keep": "yes",
        }),
        hook.id,
      )
      .run();
    // Any change hands the stored config to the lane.
    expect((await call("PATCH", `/v1/webhooks/${hook.id}`, { key: ws.apiKey, body: { description: "legacy" } })).status).toBe(200);
    const id = await sendEvent(ws.apiKey, { type: "contact.created", data: { name: "Ada" } });
    const [request] = await ep.waitFor(1);
    // Said in the log (Workers Logs), naming what is withheld.
    expect(new Set(logs.warn)).toEqual(
      new Set([
        `lane ${hook.id}: stored header(s) Upgrade, Connection, Sec-WebSocket-Key, Content-Encoding are reserved now and are not sent`,
      ]),
    );
    expect(request!.method).toBe("POST");
    expect(JSON.parse(request!.body)).toMatchObject({ event_id: id, name: "Ada" });
    expect(request!.headers["x-keep"]).toBe("yes");
    for (const name of ["upgrade", "sec-websocket-key", "content-encoding"]) expect(request!.headers[name]).toBeUndefined();
    expect(request!.headers.connection ?? "keep-alive").not.toMatch(/upgrade/i);
    // The log shows what was sent: the withheld headers are not among them.
    const delivery = await eventually(async () => {
      const d = (await call("GET", `/v1/webhooks/${hook.id}/deliveries/${id}`, { key: ws.apiKey })).json;
      return d.status === "delivered" && d;
    });
    expect(delivery.headers["x-keep"]).toBe("yes");
    expect(delivery.withheldHeaders).toEqual(["Upgrade", "Connection", "Sec-WebSocket-Key", "Content-Encoding"]);
    // The settings page's delivery view says so too.
    const view = await page("GET", `/settings/integrations/webhooks/${hook.id}?event=${id}`, { cookie: await signIn(ws.apiKey) });
    expect(view.html).toContain("Not sent: Upgrade, Connection, Sec-WebSocket-Key, Content-Encoding.");
    expect(Object.keys(delivery.headers).filter((n) => /^(upgrade|connection|sec-|content-encoding)/.test(n))).toEqual([]);
  });

  it("is needed: this runtime's fetch turns a POST with Upgrade: websocket into a body-less GET", async () => {
    const ep = endpoint();
    await fetch(ep.url, { method: "POST", body: '{"a":1}', headers: { upgrade: "websocket", "content-type": "application/json" } }).catch(
      () => undefined,
    );
    const [request, ...more] = await ep.waitFor(1);
    expect(more).toEqual([]);
    expect(request).toMatchObject({ method: "GET", body: "", headers: { upgrade: "websocket", "sec-websocket-key": expect.any(String) } });
  });

  it("makes no request when an attempt is handed a header that changes the request, and says why", async () => {
    const ep = endpoint();
    const base = { ok: true as const, headers: { upgrade: "websocket", "content-type": "application/json" }, withheld: [] };
    const result = await attemptDelivery(ep.url, '{"a":1}', base, {}, 5000, { allowPrivateUrls: true });
    expect(result).toMatchObject({ delivered: false, statusCode: null, error: expect.stringMatching(/^reserved_header: upgrade/) });
    await new Promise((r) => setTimeout(r, 200));
    expect(await ep.requests()).toEqual([]);
  });

  it.each([
    ["a euro sign (not Latin-1)", "€"],
    ["a Latin-1 letter (decoded differently at each end)", "café"],
    ["a lone surrogate", "a\ud800b"],
    ["a carriage return and line feed", "a\r\nX-Evil: 1"],
    ["a NUL", "a\u0000b"],
    ["a DEL", "a\u007fb"],
    ["a leading space", " token"],
    ["a trailing tab", "token\t"],
    ["a vertical tab", "a\u000bb"],
  ])("refuses a value holding %s with invalid_header_value naming the header, saving nothing", async (_what, value) => {
    const ws = await createWorkspace();
    const created = await call("POST", "/v1/webhooks", {
      key: ws.apiKey,
      body: { url: "https://crm.example.com/h", events: ["contact.created"], headers: { "X-Note": value } },
    });
    expect(created.status).toBe(400);
    expect(created.json.error).toMatchObject({ code: "invalid_header_value", param: "headers.X-Note" });
    expect(await countWebhooks(ws.id)).toBe(0);
  });
});

describe("custom headers, any input", () => {
  // A header value: mostly the sendable alphabet (so enough runs are accepted), with every kind of bad byte mixed in.
  const visible = fc.constantFrom(..."abcXYZ019!#$%&'()*+,-./:;<=>?@[\\]^_`{|}~\"");
  const anyChar = fc.oneof(
    { weight: 6, arbitrary: visible },
    { weight: 2, arbitrary: fc.constantFrom(" ", "\t") },
    { weight: 1, arbitrary: fc.constantFrom("\r", "\n", "\u0000", "\u007f", "\u000b", "é", "€", "\ud800", "\udc00", "😀", "\u00a0") },
  );
  const value = fc.oneof(
    fc.array(anyChar, { maxLength: 30 }).map((chars) => chars.join("")),
    fc.string({ maxLength: 20 }),
    fc.string({ unit: "binary", maxLength: 10 }),
  );
  const name = fc.oneof(
    { weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        ...FRAMING.flatMap(spellings),
        ...PREFIXED,
        "Host",
        "content-length",
        "X-Webhook-Signature",
        "X Bad",
        "",
        "a:b",
      ),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 10 }) },
  );

  it("delivers every accepted header exactly as stored, and answers anything else with a specific 400 that saves nothing", async () => {
    const ws = await createWorkspace();
    // One test event per accepted set of headers: far more in a minute than the default limit lets a user send.
    await setLimits(ws.id, { testEventsPerMinute: 1000 });
    const ep = endpoint();
    const hook = await createWebhook(ws.apiKey, { url: ep.url, events: ["contact.created"] });
    let accepted = 0;
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(fc.dictionary(name, value, { maxKeys: 4 }), async (headers) => {
        const before = (await call("GET", `/v1/webhooks/${hook.id}`, { key: ws.apiKey })).json;
        const res = await call("PATCH", `/v1/webhooks/${hook.id}`, { key: ws.apiKey, body: { headers } });
        expect(res.status).toBeLessThan(500);
        if (res.status !== 200) {
          expect(res.status).toBe(400);
          expect(["invalid_header", "reserved_header", "invalid_header_value"]).toContain(res.json.error.code);
          expect(res.json.error.param).toMatch(/^headers/);
          expect((await call("GET", `/v1/webhooks/${hook.id}`, { key: ws.apiKey })).json).toEqual(before);
          return;
        }
        accepted++;
        expect(JSON.stringify(res.json.headers)).toBe(JSON.stringify(headers));
        const test = await call("POST", `/v1/webhooks/${hook.id}/test`, { key: ws.apiKey, body: { type: "contact.created" } });
        expect(test.json.status).toBe("delivered");
        sent++;
        const requests = await ep.waitFor(sent);
        const request = requests[sent - 1]!;
        expect(request.method).toBe("POST");
        expect(JSON.parse(request.body).event_type).toBe("contact.created");
        for (const [n, v] of Object.entries(headers)) expect([n, request.headers[n.toLowerCase()]]).toEqual([n, v]);
      }),
      { numRuns: 150 },
    );
    // Four runs accepted 37 to 46 of 150; the bound only checks the accepting branch was reached often.
    expect(accepted).toBeGreaterThan(12);
  }, 180_000);
});
