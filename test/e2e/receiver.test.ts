// `npm run receiver`, as a user runs it: real HTTP on 127.0.0.1, bodies signed the way the lane signs them
// (Standard Webhooks through the `standardwebhooks` package, respond.io's HMAC of the raw body), one line each.
import { createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it } from "vitest";
import { startReceiverProcess, type ReceiverProcess } from "../support/node/receiver-process";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const OTHER = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

let running: ReceiverProcess[] = [];
async function receiver(args: string[], env?: Record<string, string>) {
  const started = await startReceiverProcess(args, env);
  running.push(started);
  return started;
}
afterEach(async () => {
  await Promise.all(running.map((r) => r.stop()));
  running = [];
});

let counter = 0;
/** `body` under `id` signed as the lane signs it: `secrets` sign it (the first also makes the respond.io signature). */
function signedAs(secrets: string[], id: string, body: string) {
  const now = new Date();
  const standard = secrets.map((s) => new Webhook(s).sign(id, now, body)).join(" ");
  const headers = {
    "content-type": "application/json",
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
    "webhook-signature": standard,
    "x-webhook-signature": createHmac("sha256", secrets[0]!).update(body).digest("base64"),
  };
  return { id, body, headers };
}

/** A delivery as the lane sends it. */
function signed(secrets: string[], type = "message.received") {
  const id = `evt_receiver_test_${++counter}`;
  return signedAs(secrets, id, JSON.stringify({ event_type: type, event_id: id, timestamp: Date.now(), contact: { id: 1 } }));
}

/** A batch as the lane sends it (docs/batches.md): `{"events":[` + the single bodies joined with "," + `]}`, its own bat_ id. */
function signedBatch(secrets: string[], types: string[]) {
  const singles = types.map((type) => signed(secrets, type));
  const body = `{"events":[${singles.map((one) => one.body).join(",")}]}`;
  return { ...signedAs(secrets, `bat_${randomBytes(16).toString("hex")}`, body), events: singles.map((one) => one.id) };
}

async function post(r: ReceiverProcess, delivery: ReturnType<typeof signedAs>, path = "/hooks") {
  const res = await fetch(r.url + path, { method: "POST", headers: delivery.headers, body: delivery.body });
  return { status: res.status, text: await res.text() };
}

describe("npm run receiver", () => {
  it("verifies both signatures and prints time, type, event id, attempt and ok, counting attempts per webhook-id", async () => {
    const r = await receiver(["--secret", SECRET]);
    const delivery = signed([SECRET]);
    expect((await post(r, delivery)).status).toBe(200);
    const line = await r.waitForLine(new RegExp(delivery.id));
    expect(line).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z {2}POST \/hooks {2}message\.received {2}evt_receiver_test_\d+ {2}attempt 1 {2}signature ok {2}→ 200$/,
    );

    expect((await post(r, delivery)).status).toBe(200);
    expect(await r.waitForLine(new RegExp(`${delivery.id}  attempt 2  signature ok`))).toBeTruthy();
  });

  it("verifies a batch over its whole body, prints it with its bat_ id and size, then each of its events in order", async () => {
    const r = await receiver(["--secret", SECRET]);
    const batch = signedBatch([SECRET], ["message.received", "contact.created", "message.received"]);
    expect((await post(r, batch)).status).toBe(200);
    const line = await r.waitForLine(new RegExp(batch.id));
    expect(line).toMatch(/ {2}POST \/hooks {2}batch of 3 {2}bat_[0-9a-f]{32} {2}attempt 1 {2}signature ok {2}→ 200$/);
    const after = r.lines().slice(r.lines().indexOf(line) + 1);
    expect(after.slice(0, 3)).toEqual([
      `  1/3  message.received  ${batch.events[0]}`,
      `  2/3  contact.created  ${batch.events[1]}`,
      `  3/3  message.received  ${batch.events[2]}`,
    ]);
    // A retry of the batch is the same id: its attempts are counted like one delivery's.
    expect((await post(r, batch)).status).toBe(200);
    expect(await r.waitForLine(new RegExp(`${batch.id}  attempt 2  signature ok`))).toBeTruthy();

    // One event changed inside a signed batch: refused whole, and none of its events is handled.
    const tampered = signedBatch([SECRET], ["contact.created", "contact.created"]);
    tampered.body = tampered.body.replace('"id":1', '"id":2');
    expect((await post(r, tampered)).status).toBe(401);
    expect(await r.waitForLine(new RegExp(tampered.id))).toMatch(/batch of 2 .*signature FAILED/);
    await new Promise((done) => setTimeout(done, 200));
    expect(r.lines().filter((l) => tampered.events.some((id) => l.includes(id)))).toEqual([]);
  });

  it("refuses with 401 and prints which signature failed when the secret does not match or the body was changed", async () => {
    const r = await receiver(["--secret", SECRET]);
    const wrong = signed([OTHER]);
    expect((await post(r, wrong)).status).toBe(401);
    expect(await r.waitForLine(new RegExp(wrong.id))).toContain("signature FAILED (standard webhooks failed, respond.io failed)");

    const tampered = signed([SECRET]);
    tampered.body = tampered.body.replace('"id":1', '"id":2');
    expect((await post(r, tampered)).status).toBe(401);
    expect(await r.waitForLine(new RegExp(tampered.id))).toContain("signature FAILED");
  });

  it("accepts several secrets, as during a rotation: a delivery signed by either verifies", async () => {
    const r = await receiver(["--secret", OTHER, "--secret", SECRET]);
    for (const secrets of [[SECRET], [OTHER], [SECRET, OTHER]]) {
      const delivery = signed(secrets);
      expect((await post(r, delivery)).status).toBe(200);
      expect(await r.waitForLine(new RegExp(delivery.id))).toContain("signature ok");
    }
  });

  it("learns the secret from a saved create or rotate-secret response, re-read on every request", async () => {
    const dir = mkdtempSync(join(tmpdir(), "edge-webhooks-receiver-"));
    try {
      // A relative --secret-file means the caller's folder, which npm passes as INIT_CWD.
      const r = await receiver(["--secret-file", "wh.json"], { INIT_CWD: dir });
      const before = signed([SECRET]);
      expect((await post(r, before)).status).toBe(200);
      expect(await r.waitForLine(new RegExp(before.id))).toContain("signature not checked");

      writeFileSync(join(dir, "wh.json"), JSON.stringify({ id: "wh_1", url: "http://127.0.0.1/", secret: SECRET }));
      const after = signed([SECRET]);
      expect((await post(r, after)).status).toBe(200);
      expect(await r.waitForLine(new RegExp(after.id))).toContain("signature ok");

      writeFileSync(join(dir, "wh.json"), JSON.stringify({ id: "wh_1", secret: OTHER }));
      const rotated = signed([OTHER, SECRET]);
      expect((await post(r, rotated)).status).toBe(200);
      expect(await r.waitForLine(new RegExp(rotated.id))).toContain("signature ok");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("answers a verification challenge with the library's endpointVerificationResponse of the secret that signed it", async () => {
    const r = await receiver(["--secret", OTHER, "--secret", SECRET]);
    const challenge = "Zk9yIHRoZSB0ZXN0OiBhIGNoYWxsZW5nZSBvZiA0MyBjaGFycw";
    const delivery = signed([SECRET], "endpoint.verification");
    const res = await fetch(r.url, {
      method: "POST",
      headers: { ...delivery.headers, "webhook-challenge": challenge },
      body: delivery.body,
    });
    expect(res.status).toBe(200);
    const answer = res.headers.get("webhook-challenge-response")!;
    expect(() => new Webhook(SECRET).verifyEndpointVerificationResponse(challenge, answer)).not.toThrow();
    expect(() => new Webhook(OTHER).verifyEndpointVerificationResponse(challenge, answer)).toThrow();
    // Without a secret it cannot answer, and says so.
    const blind = await receiver([]);
    const unanswered = await fetch(blind.url, {
      method: "POST",
      headers: { ...delivery.headers, "webhook-challenge": challenge },
      body: delivery.body,
    });
    expect(unanswered.headers.get("webhook-challenge-response")).toBeNull();
    expect(await blind.waitForLine(/a verification challenge: give --secret or --secret-file to answer it/)).toBeTruthy();
  });

  it("answers 500 with --fail and 410 with --gone, still checking and printing each delivery", async () => {
    const failing = await receiver(["--secret", SECRET, "--fail"]);
    const first = signed([SECRET]);
    expect(await post(failing, first)).toEqual({ status: 500, text: "failing on purpose (--fail)\n" });
    expect(await failing.waitForLine(new RegExp(first.id))).toMatch(/attempt 1 {2}signature ok {2}→ 500$/);

    const gone = await receiver(["--secret", SECRET, "--gone"]);
    const second = signed([SECRET], "contact.created");
    expect((await post(gone, second)).status).toBe(410);
    expect(await gone.waitForLine(new RegExp(second.id))).toMatch(/contact\.created .*signature ok {2}→ 410$/);
  });

  it("answers only after --delay milliseconds", async () => {
    const r = await receiver(["--secret", SECRET, "--delay", "600"]);
    const started = Date.now();
    expect((await post(r, signed([SECRET]))).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
    expect(r.lines().at(-1)).toMatch(/→ 200 after 600 ms$/);
  });

  it("refuses a bad option with a usage line instead of starting", () => {
    const script = join(import.meta.dirname, "../../scripts/receiver.mjs");
    for (const args of [
      ["--delay", "soon"],
      ["--secret", "not-a-secret"],
      ["--fail", "--gone"],
      ["--port", "99999"],
      ["--forward-to", "http://127.0.0.1:3000/hooks"],
      ["--poll", "wh_1", "--token", "whpoll_x", "--forward-to", "http://127.0.0.1:3000/hooks"],
    ]) {
      const run = spawnSync(process.execPath, [script, ...args], { encoding: "utf8", timeout: 10_000 });
      expect(run.status).toBe(2);
      expect(run.stderr).toMatch(/^receiver: .+\nusage: npm run receiver/);
    }
  });
});
