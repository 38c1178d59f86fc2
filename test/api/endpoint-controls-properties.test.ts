// Endpoint controls under open-ended input: whatever headers and filters a client sends, the API answers 201 or a
// specific 400 (never a 5xx, never a silent change), and a filter built from a body's own values matches it.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bodyOf } from "../../src/delivery/payload";
import { matchesFilter, valueAt } from "../../src/lib/endpoint-controls";
import { call, createWorkspace } from "../support/helpers";

const CONTROL_CODES = [
  "invalid_header",
  "reserved_header",
  "invalid_header_value",
  "invalid_filter",
  "invalid_rate_limit",
  "invalid_retry_delays",
  "payload_too_large",
];

const scalar = fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.boolean(), fc.constant(null));
const key = fc.oneof(
  fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !k.includes(".")),
  fc.constantFrom("__proto__", "constructor", "toString"),
);

describe("endpoint controls, any input", () => {
  it("answers 201 with exactly what was sent, or a specific 400 that saves nothing, for any headers and filter", async () => {
    const ws = await createWorkspace();
    const headerName = fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.constantFrom("Authorization", "X-Api-Key", "Host", "webhook-id", "__proto__", "X Bad", ""),
    );
    const headerValue = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.string({ unit: "binary", maxLength: 20 }),
      fc.constant("a\r\nb"),
      fc.integer() as fc.Arbitrary<unknown>,
    );
    // Plainly valid ones too, so that enough of the 300 runs get past validation for the 201 branch to be tested
    // (arbitrary strings are refused most of the time).
    const validHeaders = fc.dictionary(fc.stringMatching(/^x-[a-z0-9-]{1,12}$/), fc.stringMatching(/^[A-Za-z0-9 ._-]{0,30}$/), {
      maxKeys: 4,
    });
    const headers = fc.oneof(fc.dictionary(headerName, headerValue, { maxKeys: 12 }), fc.jsonValue({ maxDepth: 2 }), validHeaders);
    const filterValue = fc.oneof(scalar, fc.array(scalar, { maxLength: 4 }), fc.jsonValue({ maxDepth: 2 }));
    const validFilter = fc.dictionary(
      fc.stringMatching(/^[a-z]{1,8}(\.[a-z]{1,8})?$/),
      fc.oneof(fc.string({ maxLength: 10 }), fc.array(fc.string({ maxLength: 10 }), { minLength: 1, maxLength: 3 })),
      { maxKeys: 3 },
    );
    const filter = fc.oneof(
      fc.dictionary(fc.oneof(fc.string({ maxLength: 15 }), fc.constant("a..b"), fc.constant("__proto__")), filterValue, { maxKeys: 12 }),
      fc.jsonValue({ maxDepth: 2 }),
      validFilter,
    );
    let created = 0;
    await fc.assert(
      fc.asyncProperty(fc.option(headers, { nil: undefined }), fc.option(filter, { nil: undefined }), async (h, f) => {
        const body = {
          url: "https://crm.example.com/hooks",
          events: ["message.received"],
          ...(h === undefined ? {} : { headers: h }),
          ...(f === undefined ? {} : { filter: f }),
        };
        const before = (await call("GET", "/v1/webhooks", { key: ws.apiKey })).json.data.length;
        const res = await call("POST", "/v1/webhooks", {
          key: ws.apiKey,
          rawBody: JSON.stringify(body),
          headers: { "content-type": "application/json" },
        });
        expect(res.status).toBeLessThan(500);
        if (res.status === 201) {
          created++;
          // What is stored is what was sent: no key dropped, none added.
          expect(JSON.stringify(res.json.headers)).toBe(JSON.stringify(h ?? {}));
          expect(JSON.stringify(res.json.filter)).toBe(JSON.stringify(f ?? {}));
          await call("DELETE", `/v1/webhooks/${res.json.id}`, { key: ws.apiKey });
        } else {
          expect(res.status).toBe(400);
          expect(CONTROL_CODES).toContain(res.json.error.code);
          expect(res.json.error.param).toMatch(/^(headers|filter)/);
          expect((await call("GET", "/v1/webhooks", { key: ws.apiKey })).json.data.length).toBe(before);
        }
      }),
      { numRuns: 300 },
    );
    expect(created).toBeGreaterThan(30);
  }, 120_000);

  it("matches a body with a filter built from its own values, and not once one value differs", () => {
    const data = fc.dictionary(key, fc.oneof(scalar, fc.dictionary(key, scalar, { maxKeys: 3 })), { maxKeys: 5 });
    fc.assert(
      fc.property(data, fc.integer({ min: 0, max: 9 }), (d, pick) => {
        const body = bodyOf({ id: "evt_1", type: "message.received", occurredAt: 1, data: d });
        const paths: string[] = [];
        for (const [k, v] of Object.entries(body)) {
          if (v !== null && typeof v === "object") for (const inner of Object.keys(v)) paths.push(`${k}.${inner}`);
          else paths.push(k);
        }
        const chosen = paths.filter((p) => !p.split(".").includes("__proto__")).slice(0, 10);
        const filter = Object.fromEntries(chosen.map((p) => [p, valueAt(body, p) as string]));
        expect(matchesFilter(filter, body)).toBe(true);
        if (chosen.length > 0) {
          const p = chosen[pick % chosen.length]!;
          const other = valueAt(body, p) === "other-value" ? "another" : "other-value";
          expect(matchesFilter({ ...filter, [p]: other }, body)).toBe(false);
          expect(matchesFilter({ ...filter, [p]: [other, valueAt(body, p) as string] }, body)).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
