// `npm run receiver` against the batches a running Worker (`wrangler dev`) really sends (docs/batches.md): each
// request verified over its whole body with all three signatures, and the events it prints, batch after batch,
// exactly the events sent, in the order they were sent.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startReceiverProcess, type ReceiverProcess } from "../support/node/receiver-process";
import { startWorker, type RunningWorker } from "../support/node/worker";

const ADMIN = "receiver-batches-admin-token-32-chars";
const EVENTS = 23;
const MAX_EVENTS = 5;

let worker: RunningWorker;
let receiver: ReceiverProcess;
let dir: string;

async function api(path: string, key: string, body: unknown) {
  const res = await fetch(`${worker.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

beforeAll(async () => {
  worker = await startWorker({ ADMIN_TOKEN: ADMIN, ALLOW_PRIVATE_URLS: "true" });
  dir = mkdtempSync(join(tmpdir(), "edge-webhooks-batches-"));
  // The create answer is written to the file after the receiver starts: it re-reads it on every request.
  receiver = await startReceiverProcess(["--secret-file", join(dir, "wh.json")]);
}, 120_000);
afterAll(async () => {
  await receiver?.stop();
  await worker?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("npm run receiver and the batches the service sends", () => {
  it("verifies every batch (v1, respond.io, v1a) and prints its events, all of them, in the order they were sent", async () => {
    const workspace = await api("/v1/admin/workspaces", ADMIN, { name: "Batched" });
    const { apiKey } = workspace.json as { apiKey: string };
    const hook = await api("/v1/webhooks", apiKey, {
      url: `${receiver.url}/ledger`,
      events: ["contact.created"],
      batch: { maxEvents: MAX_EVENTS, maxWaitMs: 200 },
    });
    expect(hook.status).toBe(201);
    writeFileSync(join(dir, "wh.json"), JSON.stringify(hook.json));

    const events = Array.from({ length: EVENTS }, (_, i) => ({ type: "contact.created", data: { contact: { id: i + 1 } } }));
    const sent = await api("/v1/events/batch", apiKey, { events });
    expect(sent.status).toBe(202);
    const ids = sent.json.ids as string[];

    const printed = () => receiver.lines().flatMap((line) => /^ {2}\d+\/\d+ {2}contact\.created {2}(\S+)$/.exec(line)?.[1] ?? []);
    const deadline = Date.now() + 60_000;
    while (printed().length < EVENTS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(printed()).toEqual(ids);

    const requests = receiver.lines().filter((line) => line.includes("POST /ledger"));
    expect(requests.length).toBeGreaterThanOrEqual(Math.ceil(EVENTS / MAX_EVENTS));
    let total = 0;
    for (const line of requests) {
      const [, size] =
        /batch of (\d+) {2}bat_[0-9a-f]{32} {2}attempt 1 {2}signature ok \(v1, respond\.io, v1a\) {2}→ 200$/.exec(line) ?? [];
      expect(size, line).toBeDefined();
      expect(Number(size)).toBeLessThanOrEqual(MAX_EVENTS);
      total += Number(size);
    }
    expect(total).toBe(EVENTS);
  }, 90_000);
});
