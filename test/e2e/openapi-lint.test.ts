// The OpenAPI document as API users check it: the /openapi.json a running Worker (`wrangler dev`) serves, linted
// by Redocly CLI (`recommended`, redocly.yaml) and Spectral (`spectral:oas`, .spectral.yaml); any error or warning fails.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorker, type RunningWorker } from "../support/node/worker";

const ROOT = resolve(import.meta.dirname, "../..");
const REDOCLY = join(ROOT, "node_modules/@redocly/cli/bin/cli.js");
const SPECTRAL = join(ROOT, "node_modules/@stoplight/spectral-cli/dist/index.js");
// Offline and quiet: no telemetry, no update check.
const ENV = { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true", NO_COLOR: "1" };

let worker: RunningWorker;
let dir: string;
let file: string;
let doc: { servers: { url: string }[]; paths: Record<string, Record<string, { operationId?: string }>> };

beforeAll(async () => {
  worker = await startWorker({});
  const text = await (await fetch(`${worker.url}/openapi.json`)).text();
  dir = mkdtempSync(join(tmpdir(), "edge-webhooks-openapi-"));
  file = join(dir, "openapi.json");
  writeFileSync(file, text);
  doc = JSON.parse(text);
});
afterAll(async () => {
  await worker?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const run = (script: string, args: string[]) =>
  spawnSync(process.execPath, [script, ...args], { cwd: ROOT, env: ENV, encoding: "utf8", timeout: 60_000 });

describe("the served OpenAPI document", () => {
  it("has no error and no warning under Redocly CLI's recommended rules", () => {
    const lint = run(REDOCLY, ["lint", file, "--config", join(ROOT, "redocly.yaml"), "--format", "json"]);
    const report = JSON.parse(lint.stdout) as { totals: Record<string, number>; problems: { ruleId: string; message: string }[] };
    expect(report.problems.map((p) => `${p.ruleId}: ${p.message}`)).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
    expect(lint.status).toBe(0);
  });

  it("has no error and no warning under Spectral's spectral:oas rules", () => {
    const lint = run(SPECTRAL, [
      "lint",
      file,
      "--ruleset",
      join(ROOT, ".spectral.yaml"),
      "--fail-severity",
      "warn",
      "--format",
      "json",
      "--quiet",
    ]);
    const problems = JSON.parse(lint.stdout || "[]") as { code: string; message: string; path: string[] }[];
    expect(problems.map((p) => `${p.code} at ${p.path.join(".")}: ${p.message}`)).toEqual([]);
    expect(lint.status).toBe(0);
  });

  it("names every operation like a client SDK method (camelCase, unique) and serves itself as the server", () => {
    const ids = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((op) => op.operationId));
    expect(ids.every((id) => /^[a-z][a-zA-Z]+$/.test(id ?? ""))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(
      expect.arrayContaining(["listWebhooks", "createWebhook", "getWebhook", "updateWebhook", "deleteWebhook", "sendEvent"]),
    );
    expect(doc.servers).toEqual([{ url: worker.url, description: "This deployment" }]);
  });
});
