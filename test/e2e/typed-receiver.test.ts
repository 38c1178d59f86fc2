// The OpenAPI document as a receiver's developer uses it: a maintained OpenAPI 3.1 validator accepts it, its
// `webhooks` section describes every event type and the batch body, and openapi-typescript turns it into types that a typed
// receiver (test/typed-receiver/) compiles against, while tsc refuses the mistakes they should catch.
import SwaggerParser from "@apidevtools/swagger-parser";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EVENT_TYPES } from "../../src/events/catalog";
import { startWorker, type RunningWorker } from "../support/node/worker";

const ROOT = resolve(import.meta.dirname, "../..");
const FIXTURE = join(ROOT, "test/typed-receiver");
// openapi-typescript needs TypeScript 5's compiler API (the project is on TypeScript 7): the fixture's own packages.
const OPENAPI_TS = join(FIXTURE, "node_modules/openapi-typescript/bin/cli.js");
const TSC5 = join(FIXTURE, "node_modules/typescript/bin/tsc");

let worker: RunningWorker;
let doc: any;

beforeAll(async () => {
  worker = await startWorker({});
  doc = await (await fetch(`${worker.url}/openapi.json`)).json();
});
afterAll(async () => {
  await worker?.stop();
});

function run(args: string[]) {
  const result = spawnSync(process.execPath, args, { cwd: FIXTURE, encoding: "utf8" });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe("the OpenAPI document's webhooks section", () => {
  it("passes an OpenAPI 3.1 validator and describes the delivery of every event type", async () => {
    await expect(SwaggerParser.validate(structuredClone(doc))).resolves.toBeTruthy();
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.webhooks)).toEqual([...EVENT_TYPES, "batch"]);
    for (const type of EVENT_TYPES) {
      const post = doc.webhooks[type].post;
      const headers = Object.fromEntries(post.parameters.map((p: any) => [p.name, p]));
      for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature", "x-webhook-signature", "traceparent"]) {
        expect(headers[name], `${type} ${name}`).toMatchObject({ in: "header", required: true });
      }
      expect(headers["webhook-signature"].description).toMatch(/space-separated.*`v1,.*`v1a,/s);
      const ref = post.requestBody.content["application/json"].schema.$ref as string;
      const body = doc.components.schemas[ref.split("/").at(-1)!];
      expect(body.required).toEqual(expect.arrayContaining(["event_type", "event_id", "timestamp", "contact"]));
      expect(body.additionalProperties).not.toBe(false);
    }
    // The batch entry: the same headers, a bat_ id, and a body whose events are the bodies above.
    const batch = doc.webhooks.batch.post;
    const headers = Object.fromEntries(batch.parameters.map((p: any) => [p.name, p]));
    expect(headers["webhook-id"].schema.pattern).toBe("^bat_[0-9a-f]{32}$");
    const batchBody = doc.components.schemas[batch.requestBody.content["application/json"].schema.$ref.split("/").at(-1)];
    const items = batchBody.properties.events.items;
    expect((items.anyOf ?? items.oneOf).map((s: any) => s.$ref)).toEqual(
      EVENT_TYPES.map((type) => doc.webhooks[type].post.requestBody.content["application/json"].schema.$ref),
    );
  });

  it("a broken document fails the same validator (the check can fail)", async () => {
    const broken = structuredClone(doc);
    broken.webhooks["message.received"].post.responses = { "2XX": {} };
    await expect(SwaggerParser.validate(broken)).rejects.toThrow();
  });

  it("generates types with openapi-typescript that a typed receiver compiles against, and that catch mistakes", async () => {
    mkdirSync(join(FIXTURE, "generated"), { recursive: true });
    const source = join(FIXTURE, "generated/openapi.json");
    writeFileSync(source, JSON.stringify(doc));
    try {
      const generated = run([OPENAPI_TS, source, "-o", join(FIXTURE, "generated/openapi.d.ts")]);
      expect(generated.status, generated.output).toBe(0);

      const compiled = run([TSC5, "-p", "tsconfig.json"]);
      expect(compiled.output).toBe("");
      expect(compiled.status).toBe(0);

      const refused = run([
        TSC5,
        "--noEmit",
        "--strict",
        "--module",
        "preserve",
        "--moduleResolution",
        "bundler",
        "--target",
        "es2022",
        "misuse.ts",
      ]);
      const errorLines = [...refused.output.matchAll(/misuse\.ts\((\d+),\d+\): error/g)].map((m) => Number(m[1]));
      // The lines misuse.ts marks "// error", read from the file so a reformat cannot move them out from under the test.
      const marked = readFileSync(join(FIXTURE, "misuse.ts"), "utf8")
        .split("\n")
        .flatMap((line, i) => (line.includes("// error") ? [i + 1] : []));
      expect(marked).toHaveLength(6);
      expect(new Set(errorLines)).toEqual(new Set(marked));
    } finally {
      rmSync(source, { force: true });
    }
  });
});
