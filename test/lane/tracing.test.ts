// Tracing: the producer's W3C traceparent is kept with the event, every attempt (retries too) sends a new span
// of that trace with the producer's tracestate unchanged, and the delivery log shows the trace id and finds
// deliveries by it.
import { runDurableObjectAlarm } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MalformedMessage, readQueuedEvent } from "../../src/events/queued-event";
import { attemptTraceparent, keptTraceOf, parseTraceparent, traceparentOf, tracestateOf } from "../../src/events/trace";
import { annotateSpan, inSpan } from "../../src/lib/spans";
import { call, createWebhook, createWorkspace, eventually } from "../support/helpers";
import { lane, settledLane } from "../support/lane";
import { page, signIn } from "../support/pages";
import { endpoint } from "../support/receiver";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const PRODUCER = `00-${TRACE_ID}-00f067aa0ba902b7-01`;
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

const parts = (header: string | undefined) => {
  const match = TRACEPARENT.exec(header ?? "");
  if (!match) throw new Error(`not a traceparent: ${header}`);
  return { traceId: match[1]!, spanId: match[2]!, flags: match[3]! };
};

async function send(key: string, body: unknown, traceparent?: string, tracestate?: string) {
  const res = await call("POST", body && typeof body === "object" && "events" in body ? "/v1/events/batch" : "/v1/events", {
    key,
    body,
    headers: { ...(traceparent === undefined ? {} : { traceparent }), ...(tracestate === undefined ? {} : { tracestate }) },
  });
  expect(res.status).toBe(202);
  return res.json;
}

describe("traceparent, the header", () => {
  it("reads valid headers and refuses malformed ones (then a new trace is started, as W3C Trace Context says)", () => {
    expect(parseTraceparent(PRODUCER)).toEqual({ traceId: TRACE_ID, spanId: "00f067aa0ba902b7", flags: "01" });
    // A later version is read for its first four fields.
    expect(parseTraceparent(`01-${TRACE_ID}-00f067aa0ba902b7-00-what-comes-next`)).toMatchObject({ traceId: TRACE_ID, flags: "00" });
    for (const bad of [
      "",
      "garbage",
      PRODUCER.toUpperCase(),
      `ff-${TRACE_ID}-00f067aa0ba902b7-01`,
      `00-${"0".repeat(32)}-00f067aa0ba902b7-01`,
      `00-${TRACE_ID}-${"0".repeat(16)}-01`,
      `${PRODUCER}-extra`,
      `00-${TRACE_ID.slice(1)}-00f067aa0ba902b7-01`,
      `01-${TRACE_ID}-00f067aa0ba902b7-01x`,
    ]) {
      expect(parseTraceparent(bad), bad).toBeNull();
    }
    expect(parts(traceparentOf("garbage")).traceId).not.toBe(TRACE_ID);
  });

  it("never throws on any header, and what it accepts is a well-formed trace it can write back", () => {
    // Mostly well-formed (lowercase hex), with a corrupted character, an odd version or a tail now and then.
    const hex = (n: number) =>
      fc.oneof(
        { weight: 4, arbitrary: fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: n, maxLength: n }) },
        { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(..."0123456789abcdefA-x"), minLength: n - 1, maxLength: n + 1 }) },
      );
    const version = fc.constantFrom("00", "01", "fe", "ff", "0G");
    const tail = fc.constantFrom("", "", "-future-fields", "x", " ");
    const nearly = fc.tuple(version, hex(32), hex(16), hex(2), tail).map(([v, t, s, f, rest]) => `${v}-${t}-${s}-${f}${rest}`);
    let accepted = 0;
    fc.assert(
      fc.property(fc.oneof(fc.string(), nearly), (header) => {
        const parsed = parseTraceparent(header);
        if (parsed === null) return;
        accepted++;
        expect(traceparentOf(header)).toMatch(TRACEPARENT);
        expect(traceparentOf(header)).toBe(`00-${parsed.traceId}-${parsed.spanId}-${parsed.flags}`);
        expect(header.trim().slice(3, 35)).toBe(parsed.traceId);
      }),
      { numRuns: 500 },
    );
    // The generator must reach the accepting branch, or the property above says nothing. Over 300 runs of 500
    // inputs it accepted 39 to 80 (median 61); a bound of 50 failed CI once, 20 is far below any run seen.
    expect(accepted).toBeGreaterThan(20);
  });

  it("gives each attempt the event's trace id and flags with a new span id", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ minLength: 8, maxLength: 8 }),
        fc.boolean(),
        (trace, span, sampled) => {
          fc.pre(trace.some((b) => b !== 0) && span.some((b) => b !== 0));
          const kept = `00-${trace.toHex()}-${span.toHex()}-${sampled ? "01" : "00"}`;
          const [a, b] = [parts(attemptTraceparent(kept)), parts(attemptTraceparent(kept))];
          expect(a.traceId).toBe(trace.toHex());
          expect(a.flags).toBe(sampled ? "01" : "00");
          expect(new Set([a.spanId, b.spanId, span.toHex()]).size).toBe(3);
        },
      ),
    );
  });
});

// The spec's grammar, written out again: a key (`rojo`, or `tenant@system`) "=" a value of printable ASCII but
// "," and "=", at most 256 characters, not ending with a space.
const MEMBER =
  /^(?:[a-z][a-z0-9_\-*/]{0,255}|[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13})=[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;
const STATE = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7";
const keyOf = (member: string) => member.slice(0, member.indexOf("="));

describe("tracestate, the header", () => {
  it("keeps a valid list without its optional whitespace and drops an invalid one whole (the W3C test suite's cases)", () => {
    expect(tracestateOf(" congo=t61rcWkgMzE \t,\t rojo=00f067aa0ba902b7 ")).toBe(STATE);
    // Empty members (several header fields, one of them empty, arrive joined) are skipped; a leading space is the value's.
    expect(tracestateOf(", foo=1,, ,bar= 2\t,")).toBe("foo=1,bar= 2");
    const all = "abcdefghijklmnopqrstuvwxyz0123456789_-*/";
    const value = Array.from({ length: 0x7e - 0x20 + 1 }, (_, i) => String.fromCharCode(0x20 + i))
      .filter((c) => c !== "," && c !== "=")
      .join("");
    for (const key of [all, `${all}@a-z0-9_-*/`, "z".repeat(256), `${"t".repeat(241)}@${"v".repeat(14)}`, "0tenant@sys"])
      expect(tracestateOf(`${key}=1`), key).toBe(`${key}=1`);
    expect(tracestateOf(`k=${value}`)).toBe(`k=${value}`);
    const members = (n: number) => Array.from({ length: n }, (_, i) => `bar${i + 1}=${i + 1}`).join(",");
    expect(tracestateOf(members(32))).toBe(members(32));
    for (const bad of [
      "",
      " , ",
      "foo=1,foo=2",
      "foo=1,foo=1",
      members(33),
      "foo =1",
      "FOO=1",
      "foo.bar=1",
      "0foo=1",
      "foo@=1,bar=2",
      "@foo=1,bar=2",
      "foo@@bar=1,bar=2",
      "foo@bar@baz=1,bar=2",
      `${"z".repeat(257)}=1,foo=1`,
      `${"t".repeat(242)}@v=1,foo=1`,
      `t@${"v".repeat(15)}=1,foo=1`,
      "foo=bar=baz",
      "foo=,bar=3",
      `foo=${"v".repeat(257)}`,
      "foo=caf\u00e9",
      "foo=a\tb",
    ]) {
      expect(tracestateOf(bad), bad).toBeNull();
    }
  });

  it("truncates a list over 512 characters by whole members: those over 128 characters first, then from the end", () => {
    const short = Array.from({ length: 20 }, (_, i) => `k${String(i).padStart(2, "0")}=${"s".repeat(20)}`); // 24 characters each
    const long = `long=${"l".repeat(150)}`;
    // 20 short members are 499 characters with their commas; one long one in the middle makes it 655.
    const header = [...short.slice(0, 10), long, ...short.slice(10)].join(",");
    expect(tracestateOf(header)).toBe(short.join(","));
    // Without a long member, the last ones go until it fits.
    const many = Array.from({ length: 30 }, (_, i) => `k${String(i).padStart(2, "0")}=${"s".repeat(20)}`);
    expect(tracestateOf(many.join(","))).toBe(many.slice(0, 20).join(","));
  });

  it("never throws, and what it keeps is a valid list of at most 32 members and 512 characters that reads back unchanged", () => {
    const chars = (from: Iterable<string>) => fc.constantFrom(...from);
    const keyChar = chars("abcdefghijklmnopqrstuvwxyz0123456789_-*/");
    const lower = chars("abcdefghijklmnopqrstuvwxyz");
    const simpleKey = fc.tuple(lower, fc.string({ unit: keyChar, maxLength: 12 })).map(([a, b]) => a + b);
    const tenantKey = fc
      .tuple(
        chars("abcdefghijklmnopqrstuvwxyz0123456789"),
        fc.string({ unit: keyChar, maxLength: 8 }),
        lower,
        fc.string({ unit: keyChar, maxLength: 13 }),
      )
      .map(([a, b, c, d]) => `${a}${b}@${c}${d}`);
    const valueChar = fc
      .integer({ min: 0x20, max: 0x7e })
      .filter((c) => c !== 0x2c && c !== 0x3d)
      .map((c) => String.fromCharCode(c));
    const value = fc
      .tuple(
        fc.oneof(
          { weight: 4, arbitrary: fc.string({ unit: valueChar, maxLength: 12 }) },
          { weight: 1, arbitrary: fc.string({ unit: valueChar, minLength: 100, maxLength: 255 }) },
        ),
        valueChar.filter((c) => c !== " "),
      )
      .map(([a, b]) => a + b);
    // A valid list (unique keys, 0 to 36 members) written with optional whitespace and empty members between them.
    const ows = chars(["", "", " ", "\t", " \t "]);
    const list = fc.uniqueArray(fc.tuple(fc.oneof(simpleKey, tenantKey), value), { selector: ([k]) => k, maxLength: 36 });
    const written = fc
      .tuple(list, fc.array(fc.tuple(ows, fc.constantFrom(",", ",", ", ,", ",,"), ows), { minLength: 36, maxLength: 36 }))
      .map(([members, seps]) => ({
        members: members.map(([k, v]) => `${k}=${v}`),
        header: seps[0]![0] + members.map(([k, v], i) => (i === 0 ? "" : seps[i]!.join("")) + `${k}=${v}`).join("") + seps[0]![2],
      }));
    // Now and then one character is put in anywhere, which may break the list (a key twice, a bad character).
    const corrupted = fc
      .tuple(written, fc.nat(), chars(["=", ",", " ", "A", "\t", "\u00e9", "@", ".", "\n"]))
      .map(([w, at, c]) => w.header.slice(0, at % (w.header.length + 1)) + c + w.header.slice(at % (w.header.length + 1)));
    const counts = { kept: 0, truncated: 0, refused: 0 };
    fc.assert(
      fc.property(fc.oneof({ weight: 3, arbitrary: written }, corrupted, fc.string()), (input) => {
        const header = typeof input === "string" ? input : input.header;
        const kept = tracestateOf(header);
        if (kept === null) {
          counts.refused++;
        } else {
          const members = kept.split(",");
          for (const member of members) expect(member, kept).toMatch(MEMBER);
          expect(new Set(members.map(keyOf)).size).toBe(members.length);
          expect(members.length).toBeLessThanOrEqual(32);
          expect(kept.length).toBeLessThanOrEqual(512);
          expect(tracestateOf(kept)).toBe(kept);
          counts.kept++;
        }
        if (typeof input === "string") return;
        // A valid list: refused only for more than 32 members; kept whole when it fits, else truncated by the rule.
        const all = input.members;
        if (all.length > 32 || all.length === 0) {
          expect(kept).toBeNull();
          return;
        }
        if (all.join(",").length <= 512) {
          expect(kept).toBe(all.join(","));
          return;
        }
        counts.truncated++;
        const left = kept!.split(",");
        const dropped = all.filter((m) => !left.includes(m));
        expect(all.filter((m) => left.includes(m))).toEqual(left);
        const droppedShort = dropped.filter((m) => m.length <= 128);
        if (droppedShort.length > 0) {
          expect(dropped.filter((m) => m.length > 128)).toEqual(all.filter((m) => m.length > 128));
          expect(droppedShort).toEqual(all.filter((m) => m.length <= 128).slice(-droppedShort.length));
        }
        // It stops as soon as the list fits: the member dropped last would not have fitted.
        const last = droppedShort[0] ?? dropped[0]!;
        expect(kept!.length + 1 + last.length).toBeGreaterThan(512);
      }),
      { numRuns: 600 },
    );
    // Each branch must be reached, or the properties above say nothing about it.
    expect(counts.kept).toBeGreaterThan(50);
    expect(counts.truncated).toBeGreaterThan(10);
    expect(counts.refused).toBeGreaterThan(50);
  });

  it("is kept only beside a valid traceparent, and a queued message holds it only so", () => {
    expect(keptTraceOf(PRODUCER, ` ${STATE} `)).toEqual({ traceparent: PRODUCER, tracestate: STATE });
    expect(keptTraceOf(PRODUCER, "FOO=1")).toEqual({ traceparent: PRODUCER });
    for (const parent of [undefined, "", "garbage", `00-${TRACE_ID}-zzzzzzzzzzzzzzzz-01`]) {
      const kept = keptTraceOf(parent, STATE);
      expect(kept.tracestate, String(parent)).toBeUndefined();
      expect(parts(kept.traceparent).traceId).not.toBe(TRACE_ID);
    }
    const message = {
      id: "evt_1",
      workspaceId: "ws_1",
      type: "contact.created",
      data: {},
      occurredAt: 1,
      acceptedAt: 1,
      orderKey: "0".repeat(26),
    };
    expect(readQueuedEvent({ ...message, traceparent: PRODUCER, tracestate: STATE }).tracestate).toBe(STATE);
    for (const wrong of [
      { tracestate: STATE },
      { traceparent: PRODUCER, tracestate: ` ${STATE}` },
      { traceparent: PRODUCER, tracestate: 5 },
    ])
      expect(() => readQueuedEvent({ ...message, ...wrong }), JSON.stringify(wrong)).toThrow(MalformedMessage);
  });
});

describe("the Worker's own spans", () => {
  it("run the work they wrap, pass its value and its error on, and never fail a request themselves", async () => {
    expect(inSpan("test span", { "webhooks.trace_id": "x" }, () => 42)).toBe(42);
    await expect(inSpan("test span", {}, async () => "later")).resolves.toBe("later");
    expect(() =>
      inSpan("test span", {}, () => {
        throw new Error("the work's own");
      }),
    ).toThrow("the work's own");
    expect(() => annotateSpan({ "webhooks.trace_id": TRACE_ID, "webhooks.events": 3, nothing: undefined })).not.toThrow();
  });
});

describe("tracing a delivery", () => {
  it("sends the producer's trace id with a fresh span on every attempt, retries too, and the log finds it by trace id", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    await ep.program({ script: [{ status: 500 }, { status: 503 }], fallback: { status: 200 } });
    const hook = await createWebhook(ws.apiKey, { url: ep.url, events: ["message.received", "contact.created"] });

    const traced = await send(ws.apiKey, { type: "message.received", data: { n: 1 } }, PRODUCER);
    await ep.waitFor(1);
    await settledLane(hook.id, (s) => s.attempts.length === 1);
    expect(await runDurableObjectAlarm(lane(hook.id))).toBe(true);
    await settledLane(hook.id, (s) => s.attempts.length === 2);
    expect(await runDurableObjectAlarm(lane(hook.id))).toBe(true);
    const attempts = await ep.waitFor(3);
    const other = await send(ws.apiKey, { type: "contact.created", data: { n: 2 } });
    const all = await ep.waitFor(4);

    const sent = attempts.slice(0, 3).map((r) => parts(r.headers.traceparent));
    expect(sent.map((t) => t.traceId)).toEqual([TRACE_ID, TRACE_ID, TRACE_ID]);
    expect(sent.map((t) => t.flags)).toEqual(["01", "01", "01"]);
    expect(new Set([...sent.map((t) => t.spanId), "00f067aa0ba902b7"]).size).toBe(4);
    // Without a traceparent the service started a trace of its own.
    const started = parts(all[3]!.headers.traceparent).traceId;
    expect(started).not.toBe(TRACE_ID);

    const log = await call("GET", `/v1/webhooks/${hook.id}/deliveries?traceId=${TRACE_ID}`, { key: ws.apiKey });
    expect(log.status).toBe(200);
    expect(log.json.data.map((d: { eventId: string; traceId: string }) => [d.eventId, d.traceId])).toEqual([[traced.id, TRACE_ID]]);
    expect(log.json.data[0].attempts).toHaveLength(3);
    const mine = await eventually(async () => {
      const res = await call("GET", `/v1/webhooks/${hook.id}/deliveries?traceId=${started}`, { key: ws.apiKey });
      return res.json.data.length === 1 && res.json.data;
    });
    expect(mine[0]).toMatchObject({ eventId: other.id, traceId: started });
    // The latest attempt's headers, as the log keeps them, carry its traceparent.
    const one = await call("GET", `/v1/webhooks/${hook.id}/deliveries/${traced.id}`, { key: ws.apiKey });
    expect(one.json.headers.traceparent).toBe(attempts[2]!.headers.traceparent);

    // The pages show the trace id on the delivery, and its link lists that trace's deliveries only.
    const cookie = await signIn(ws.apiKey);
    const detail = (await page("GET", `/settings/integrations/webhooks/${hook.id}`, { cookie })).html;
    expect(detail).toContain(`<code class="trace-id">${TRACE_ID}</code>`);
    expect(detail).toContain(`<code class="trace-id">${started}</code>`);
    const filtered = (await page("GET", `/settings/integrations/webhooks/${hook.id}?traceId=${TRACE_ID}`, { cookie })).html;
    expect(filtered).toContain(`data-event-id="${traced.id}"`);
    expect(filtered).not.toContain(`data-event-id="${other.id}"`);

    const refused = await call("GET", `/v1/webhooks/${hook.id}/deliveries?traceId=${TRACE_ID.toUpperCase()}`, { key: ws.apiKey });
    expect(refused.status).toBe(400);
    expect(refused.json.error.param).toBe("traceId");
  });

  it("sends a test event in the trace of the request that asked for it", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    await ep.program({ fallback: { status: 200 } });
    const hook = await createWebhook(ws.apiKey, { url: ep.url, events: ["comment.created"] });
    const res = await call("POST", `/v1/webhooks/${hook.id}/test`, {
      key: ws.apiKey,
      headers: { traceparent: PRODUCER, tracestate: STATE },
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ test: true, traceId: TRACE_ID });
    const [got] = await ep.waitFor(1);
    expect(parts(got!.headers.traceparent).traceId).toBe(TRACE_ID);
    expect(got!.headers.tracestate).toBe(STATE);
  });

  it("accepts a malformed traceparent and delivers the event in a new trace; a batch is one trace", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    await ep.program({ fallback: { status: 200 } });
    const hook = await createWebhook(ws.apiKey, { url: ep.url, events: ["contact.created"] });

    await send(ws.apiKey, { type: "contact.created", data: { n: 1 } }, `00-${TRACE_ID}-zzzzzzzzzzzzzzzz-01`);
    const batch = await send(ws.apiKey, { events: [0, 1, 2].map((n) => ({ type: "contact.created", data: { n } })) }, PRODUCER);
    const got = await ep.waitFor(4);
    const traces = got.map((r) => parts(r.headers.traceparent).traceId);
    expect(traces[0]).not.toBe(TRACE_ID);
    expect(traces.slice(1)).toEqual([TRACE_ID, TRACE_ID, TRACE_ID]);
    const log = await eventually(async () => {
      const res = await call("GET", `/v1/webhooks/${hook.id}/deliveries?traceId=${TRACE_ID}`, { key: ws.apiKey });
      return res.json.data.length === 3 && res.json.data;
    });
    expect(log.map((d: { eventId: string }) => d.eventId).reverse()).toEqual(batch.ids);
  });

  it("sends the producer's tracestate unchanged with the first attempt and with a retry, and the delivery shows it", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    await ep.program({ script: [{ status: 503 }], fallback: { status: 200 } });
    const hook = await createWebhook(ws.apiKey, { url: ep.url, events: ["contact.created"] });

    const event = await send(
      ws.apiKey,
      { type: "contact.created", data: { n: 1 } },
      PRODUCER,
      ` congo=t61rcWkgMzE ,\t rojo=00f067aa0ba902b7`,
    );
    await ep.waitFor(1);
    await settledLane(hook.id, (s) => s.attempts.length === 1);
    expect(await runDurableObjectAlarm(lane(hook.id))).toBe(true);
    const got = await ep.waitFor(2);
    expect(got.map((r) => r.headers.tracestate)).toEqual([STATE, STATE]);
    expect(got.map((r) => parts(r.headers.traceparent).traceId)).toEqual([TRACE_ID, TRACE_ID]);
    expect(parts(got[0]!.headers.traceparent).spanId).not.toBe(parts(got[1]!.headers.traceparent).spanId);

    const one = await eventually(async () => {
      const res = await call("GET", `/v1/webhooks/${hook.id}/deliveries/${event.id}`, { key: ws.apiKey });
      return res.json.status === "delivered" && res.json;
    });
    expect(one).toMatchObject({ traceId: TRACE_ID, tracestate: STATE, headers: { tracestate: STATE } });
  });

  it("sends no tracestate without a valid traceparent or with an invalid list; a batch gives every event the request's", async () => {
    const ws = await createWorkspace();
    const ep = endpoint();
    await ep.program({ fallback: { status: 200 } });
    const hook = await createWebhook(ws.apiKey, { url: ep.url, events: ["contact.created"] });

    const alone = await send(ws.apiKey, { type: "contact.created", data: { n: 1 } }, undefined, STATE);
    await send(ws.apiKey, { type: "contact.created", data: { n: 2 } }, `00-${TRACE_ID}-zzzzzzzzzzzzzzzz-01`, STATE);
    await send(ws.apiKey, { type: "contact.created", data: { n: 3 } }, PRODUCER, "congo=1,congo=2");
    await send(ws.apiKey, { events: [4, 5, 6].map((n) => ({ type: "contact.created", data: { n } })) }, PRODUCER, STATE);
    const got = await ep.waitFor(6);
    expect(got.map((r) => JSON.parse(r.body).n)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(got.map((r) => r.headers.tracestate)).toEqual([undefined, undefined, undefined, STATE, STATE, STATE]);
    // The invalid list did not cost the event its trace.
    expect(got.map((r) => parts(r.headers.traceparent).traceId === TRACE_ID)).toEqual([false, false, true, true, true, true]);
    const one = await call("GET", `/v1/webhooks/${hook.id}/deliveries/${alone.id}`, { key: ws.apiKey });
    expect(one.json.tracestate).toBeNull();
  });
});
