// The webhook form's batch and concurrency fields (Advanced section): saved through the API, shown again when
// editing, reset when emptied, and the API's refusals shown on the very input they are about.
import { describe, expect, it } from "vitest";
import { call, createWorkspace } from "../support/helpers";
import { page, signIn } from "../support/pages";

const base = { url: "https://crm.example.com/ledger", events: ["message.received"], description: "" };

/** The `<p class="field-error">` under input `id`, if any: its text. */
const fieldError = (html: string, id: string) => html.match(new RegExp(`id="${id}-error">(.*?)</p>`, "s"))?.[1];
/** Whether input `id` is marked invalid. */
const invalid = (html: string, id: string) => new RegExp(`<input[^>]*id="${id}"[^>]*aria-invalid="true"`).test(html);

describe("settings pages: batches and concurrency in the webhook form", () => {
  it("shows the batch and concurrency fields in the Advanced section, closed and empty by default", async () => {
    const ws = await createWorkspace();
    const cookie = await signIn(ws.apiKey);
    const blank = await page("GET", "/settings/integrations/webhooks/new", { cookie });
    expect(blank.html).toMatch(/<details class="advanced">/);
    expect(blank.html).toMatch(/<label for="batchMaxEvents">Events per request \(batches\)<\/label>/);
    expect(blank.html).toMatch(/<input id="batchMaxEvents" name="batchMaxEvents" type="text" inputmode="numeric"[^>]* value=""/);
    expect(blank.html).toMatch(/<input id="batchMaxWaitMs" name="batchMaxWaitMs" type="text" inputmode="numeric"[^>]* value=""/);
    expect(blank.html).toMatch(/<select id="concurrency" name="concurrency"/);
    expect(blank.html).toMatch(/<option value="" selected="">Fixed \(default\)<\/option>/);
  });

  it("saves batch and adaptive concurrency, shows them when editing, and turns batches off when the fields are emptied", async () => {
    const ws = await createWorkspace();
    const cookie = await signIn(ws.apiKey);
    const created = await page("POST", "/settings/integrations/webhooks", {
      cookie,
      form: { ...base, ordering: "key", orderingKey: "contact.id", concurrency: "adaptive", batchMaxEvents: " 20 ", batchMaxWaitMs: "250" },
    });
    expect(created.status, created.html).toBe(201);
    const [hook] = (await call("GET", "/v1/webhooks", { key: ws.apiKey })).json.data;
    expect(hook).toMatchObject({ ordering: "key", concurrency: "adaptive", batch: { maxEvents: 20, maxWaitMs: 250 } });
    // The secret page's snippet reads a batch: one verification, then each event of `events`.
    expect(created.html).toContain("const batch = wh.verify(raw, req.headers);");
    expect(created.html).toContain("for (const event of batch.events) console.log(event.event_type, event.event_id);");

    // The webhook's own page says how it delivers, in one line.
    const detail = await page("GET", `/settings/integrations/webhooks/${hook.id}`, { cookie });
    expect(detail.html).toContain(
      `<p>Delivery: in order per contact.id, up to ${hook.maxInFlight} requests at once, adaptive; batches of up to 20 events, waiting up to 250 ms to fill</p>`,
    );
    const edit = await page("GET", `/settings/integrations/webhooks/${hook.id}/edit`, { cookie });
    expect(edit.html).toMatch(/<details class="advanced" open="">/);
    expect(edit.html).toMatch(/id="batchMaxEvents"[^>]* value="20"/);
    expect(edit.html).toMatch(/id="batchMaxWaitMs"[^>]* value="250"/);
    expect(edit.html).toMatch(/<option value="adaptive" selected="">/);

    // Only the number of events: the wait is the default, 0, and the edit form shows it empty.
    const fewer = await page("POST", `/settings/integrations/webhooks/${hook.id}`, {
      cookie,
      form: { ...base, ordering: "key", orderingKey: "contact.id", concurrency: "adaptive", batchMaxEvents: "5" },
    });
    expect(fewer.status).toBe(303);
    expect((await call("GET", `/v1/webhooks/${hook.id}`, { key: ws.apiKey })).json.batch).toEqual({ maxEvents: 5, maxWaitMs: 0 });
    expect((await page("GET", `/settings/integrations/webhooks/${hook.id}/edit`, { cookie })).html).toMatch(
      /id="batchMaxWaitMs"[^>]* value=""/,
    );

    const cleared = await page("POST", `/settings/integrations/webhooks/${hook.id}`, { cookie, form: base });
    const plain = await page("POST", "/settings/integrations/webhooks", { cookie, form: base });
    expect(plain.html).toContain("const event = wh.verify(raw, req.headers);");
    expect(plain.html).not.toContain("batch.events");
    expect(cleared.status).toBe(303);
    expect((await call("GET", `/v1/webhooks/${hook.id}`, { key: ws.apiKey })).json).toMatchObject({
      batch: null,
      concurrency: "fixed",
      ordering: "endpoint",
    });
    const closed = await page("GET", `/settings/integrations/webhooks/${hook.id}/edit`, { cookie });
    expect(closed.html).toMatch(/<details class="advanced">/);
    expect((await page("GET", `/settings/integrations/webhooks/${hook.id}`, { cookie })).html).toContain(
      "<p>Delivery: in order, one request at a time</p>",
    );
  });

  it("shows each refusal on the input it is about, keeps what was typed, and saves nothing", async () => {
    const ws = await createWorkspace();
    const cookie = await signIn(ws.apiKey);
    const post = (form: Record<string, string | string[]>) => page("POST", "/settings/integrations/webhooks", { cookie, form });
    const cases: { form: Record<string, string>; at: string; not: string; says: RegExp }[] = [
      { form: { batchMaxEvents: "101" }, at: "batchMaxEvents", not: "batchMaxWaitMs", says: /from 2 to 100/ },
      { form: { batchMaxEvents: "ten" }, at: "batchMaxEvents", not: "batchMaxWaitMs", says: /whole number/ },
      // A wait alone is a batch without its size: the size is what is missing.
      { form: { batchMaxWaitMs: "50" }, at: "batchMaxEvents", not: "batchMaxWaitMs", says: /from 2 to 100/ },
      { form: { batchMaxEvents: "10", batchMaxWaitMs: "20000" }, at: "batchMaxWaitMs", not: "batchMaxEvents", says: /0 to 10000/ },
      { form: { batchMaxEvents: "10", batchMaxWaitMs: "-1" }, at: "batchMaxWaitMs", not: "batchMaxEvents", says: /0 to 10000/ },
    ];
    for (const { form, at, not, says } of cases) {
      const res = await post({ ...base, ...form });
      const what = JSON.stringify(form);
      expect(res.status, what).toBe(400);
      expect(res.html, what).toMatch(/<details class="advanced" open="">/);
      expect(fieldError(res.html, at), what).toMatch(says);
      expect(invalid(res.html, at), what).toBe(true);
      expect(fieldError(res.html, not), what).toBeUndefined();
      expect(invalid(res.html, not), what).toBe(false);
      // The summary names the field and links to the input.
      expect(res.html, what).toMatch(/<a href="#batchMaxEvents">Batches \(max(Events|WaitMs)\): /);
      for (const [name, value] of Object.entries(form)) expect(res.html, what).toMatch(new RegExp(`id="${name}"[^>]* value="${value}"`));
    }

    // On a polling webhook, batches have no use: refused at the first batch input.
    const poll = await post({ ...base, url: "", delivery: "poll", batchMaxEvents: "10" });
    expect(poll.status).toBe(400);
    expect(fieldError(poll.html, "batchMaxEvents")).toMatch(/polling webhook/);

    // Adaptive with one request at a time in order: the API's refusal shows on the select.
    const fixedOnly = await post({ ...base, concurrency: "adaptive" });
    expect(fixedOnly.status).toBe(400);
    expect(fieldError(fixedOnly.html, "concurrency")).toMatch(/\S/);
    expect(fixedOnly.html).toMatch(/<select id="concurrency" name="concurrency"[^>]*aria-invalid="true"/);

    // A form also refused for text with no API shape still shows the batch's own problem beside it.
    const both = await post({ ...base, filter: "{not json", batchMaxEvents: "1" });
    expect(fieldError(both.html, "filter")).toMatch(/JSON object/);
    expect(fieldError(both.html, "batchMaxEvents")).toMatch(/from 2 to 100/);

    expect((await call("GET", "/v1/webhooks", { key: ws.apiKey })).json.data).toEqual([]);
  });
});
