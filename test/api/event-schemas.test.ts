// Event schemas: every sample matches its type's schema, GET /v1/event-types serves them as JSON Schema, and
// EVENT_VALIDATION refuses (enforce) or notes (warn) data that lacks a required field.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { EVENT_TYPES, type EventType } from "../../src/events/catalog";
import { EXAMPLE_TIME, sampleData } from "../../src/events/samples";
import { checkEventData, EVENT_DATA_SCHEMAS } from "../../src/events/schemas";
import { call, createWebhook, createWorkspace, eventually } from "../support/helpers";
import { page, signIn } from "../support/pages";
import { endpoint } from "../support/receiver";

/** Calls the Worker with EVENT_VALIDATION set to `mode` (the rest of the test env as it is). */
async function callWith(mode: string, path: string, key: string, body: unknown, headers: Record<string, string> = {}) {
  const ctx = createExecutionContext();
  const request = new Request(`http://edge.test${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const res = await worker.fetch(request, { ...env, EVENT_VALIDATION: mode }, ctx);
  await waitOnExecutionContext(ctx);
  return { status: res.status, json: (await res.json()) as any };
}

interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  anyOf?: JsonSchema[];
}

/** Every required path of a JSON Schema, parents before children: `contact`, `contact.id`, … */
function requiredPaths(schema: JsonSchema, prefix = ""): string[] {
  const object = schema.anyOf?.find((s) => s.type === "object") ?? schema;
  return (object.required ?? []).flatMap((key) => {
    const path = prefix ? `${prefix}.${key}` : key;
    return [path, ...requiredPaths(object.properties?.[key] ?? {}, path)];
  });
}

/** A deep copy of `data` without the key at `path`. */
function without(data: Record<string, unknown>, path: string): Record<string, unknown> {
  const copy = structuredClone(data);
  const keys = path.split(".");
  let at: any = copy;
  for (const key of keys.slice(0, -1)) at = at[key];
  delete at[keys.at(-1)!];
  return copy;
}

const eventTypes = async () =>
  (await call("GET", "/v1/event-types")).json.data as { type: EventType; schema: JsonSchema; example: Record<string, unknown> }[];

describe("event schemas", () => {
  it.each(EVENT_TYPES)("the %s sample matches its schema", (type) => {
    expect(EVENT_DATA_SCHEMAS[type].safeParse(sampleData(type, Date.now())).success).toBe(true);
    expect(checkEventData(type, sampleData(type, EXAMPLE_TIME))).toBeNull();
  });

  it("GET /v1/event-types gives each type a JSON Schema of its data and an example that matches it", async () => {
    const types = await eventTypes();
    expect(types.map((t) => t.type)).toEqual([...EVENT_TYPES]);
    for (const { type, schema, example } of types) {
      expect(schema).toMatchObject({ $schema: "https://json-schema.org/draft/2020-12/schema", type: "object" });
      expect(example).toEqual(sampleData(type, EXAMPLE_TIME));
      expect(checkEventData(type, example)).toBeNull();
      // Every type names its contact, with its id.
      expect(requiredPaths(schema)).toEqual(expect.arrayContaining(["contact", "contact.id"]));
    }
    expect(requiredPaths(types.find((t) => t.type === "message.received")!.schema)).toEqual(
      expect.arrayContaining(["message.messageId", "message.traffic", "message.message.type", "channel.id"]),
    );
  });

  it("names the first failing path and lists where the others are, at most ten of them", () => {
    const empty = checkEventData("message.received", {})!;
    expect(empty.path).toBe("data.contact");
    expect(empty.message).toMatch(/^data\.contact: .*\(and 2 more: data\.message, data\.channel\)$/);
    const data = sampleData("contact.updated", EXAMPLE_TIME);
    const many = checkEventData("contact.updated", { ...data, changes: Array.from({ length: 30 }, () => ({ from: 1 })) })!;
    expect(many.path).toBe("data.changes[0].field");
    expect(many.message).toContain("(and 29 more: data.changes[1].field,");
    expect(many.message).toMatch(/data\.changes\[10\]\.field, …\)$/);
  });

  it("is permissive about extra keys anywhere and strict about required ones", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...EVENT_TYPES),
        fc.dictionary(
          fc.string({ minLength: 1 }).filter((k) => !["contact", "__proto__"].includes(k)),
          fc.jsonValue(),
        ),
        (type, extra) => {
          const data = { ...extra, ...sampleData(type, EXAMPLE_TIME) };
          (data.contact as Record<string, unknown>).customField = extra;
          expect(checkEventData(type, data)).toBeNull();
          expect(checkEventData(type, without(data, "contact.id"))?.path).toBe("data.contact.id");
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe("EVENT_VALIDATION=enforce", () => {
  it.each(EVENT_TYPES)("refuses %s without each required field (400, the exact param) and accepts the sample whole", async (type) => {
    const ws = await createWorkspace();
    const { schema } = (await eventTypes()).find((t) => t.type === type)!;
    const data = sampleData(type, Date.now());
    const paths = requiredPaths(schema);
    expect(paths.length).toBeGreaterThan(1);
    for (const path of paths) {
      const res = await callWith("enforce", "/v1/events", ws.apiKey, { type, data: without(data, path) });
      expect(res.status, path).toBe(400);
      expect(res.json.error).toMatchObject({ code: "data_does_not_match_schema", param: `data.${path}` });
      expect(res.json.error.message).toContain(`data.${path}`);
    }
    expect((await callWith("enforce", "/v1/events", ws.apiKey, { type, data })).status).toBe(202);
  });

  it("names the failing event of a batch: events[3].data.contact.id", async () => {
    const ws = await createWorkspace();
    const events = EVENT_TYPES.slice(0, 5).map((type) => ({ type, data: sampleData(type, Date.now()) }));
    events[3] = { ...events[3]!, data: without(events[3]!.data, "contact.id") };
    const res = await callWith("enforce", "/v1/events/batch", ws.apiKey, { events });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code: "data_does_not_match_schema", param: "events[3].data.contact.id" });
  });

  it("refuses a wrong type as firmly as a missing field", async () => {
    const ws = await createWorkspace();
    const data = sampleData("contact.tag.updated", Date.now());
    const res = await callWith("enforce", "/v1/events", ws.apiKey, { type: "contact.tag.updated", data: { ...data, action: "toggle" } });
    expect(res.status).toBe(400);
    expect(res.json.error.param).toBe("data.action");
  });
});

describe("EVENT_VALIDATION=warn and off", () => {
  it("warn delivers an event that does not match, and its delivery log says why; off says nothing", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    await ep.program({ fallback: { status: 200 } });
    const hook = await createWebhook(ws.apiKey, { url: ep.url, events: ["contact.updated"] });
    const broken = without(sampleData("contact.updated", Date.now()), "contact.id");

    const warned = await callWith("warn", "/v1/events", ws.apiKey, { type: "contact.updated", data: broken });
    expect(warned.status).toBe(202);
    const unchecked = await callWith("off", "/v1/events", ws.apiKey, { type: "contact.updated", data: broken });
    expect(unchecked.status).toBe(202);
    const fine = await callWith("warn", "/v1/events", ws.apiKey, {
      type: "contact.updated",
      data: sampleData("contact.updated", Date.now()),
    });
    expect(fine.status).toBe(202);

    const got = await ep.waitFor(3);
    expect(got.map((r) => JSON.parse(r.body).event_id)).toEqual([warned.json.id, unchecked.json.id, fine.json.id]);
    const log = await eventually(async () => {
      const res = await call("GET", `/v1/webhooks/${hook.id}/deliveries`, { key: ws.apiKey });
      return res.json.data.every((d: { status: string }) => d.status === "delivered") && res.json.data.length === 3 && res.json.data;
    });
    const byId = new Map(log.map((d: { eventId: string; schemaWarning: string | null }) => [d.eventId, d.schemaWarning]));
    expect(byId.get(warned.json.id)).toMatch(/^data\.contact\.id: .*contact\.updated schema/);
    expect(byId.get(unchecked.json.id)).toBeNull();
    expect(byId.get(fine.json.id)).toBeNull();
    const one = await call("GET", `/v1/webhooks/${hook.id}/deliveries/${warned.json.id}`, { key: ws.apiKey });
    expect(one.json.schemaWarning).toMatch(/^data\.contact\.id/);

    // The pages' delivery log says it on that delivery's row, and on no other.
    const html = (await page("GET", `/settings/integrations/webhooks/${hook.id}`, { cookie: await signIn(ws.apiKey) })).html;
    const rows = html.split('<details class="delivery"').slice(1);
    const rowOf = (id: string) => rows.find((row) => row.includes(`data-event-id="${id}"`))!;
    expect(rowOf(warned.json.id)).toMatch(/Did not match its event type&#39;s schema: data\.contact\.id/);
    expect(rowOf(unchecked.json.id)).not.toContain("schema-warning");
    expect(rowOf(fine.json.id)).not.toContain("schema-warning");
  });
});
