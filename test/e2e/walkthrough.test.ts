// docs/walkthrough.md, run as a reader pastes it: its marked blocks in order, `npm run dev` and `npm run receiver`
// in the background, the curl blocks in bash. Only the ports, the state folder and a shorter retry schedule differ.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnCollecting } from "../support/node/process";
import { freePorts } from "../support/node/worker";

const ROOT = resolve(import.meta.dirname, "../..");
const KEY = "whk_dev_local_key_do_not_use_in_production";

interface Block {
  role: "dev" | "receiver" | "shell";
  /** A line the current receiver must have printed before this block runs. */
  after?: RegExp;
  code: string;
}

function walkthroughBlocks(): Block[] {
  const page = readFileSync(join(ROOT, "docs", "walkthrough.md"), "utf8");
  const marked = /<!-- walkthrough: (dev|receiver|shell)(?: after="([^"]+)")? -->\n```sh\n([\s\S]*?)```/g;
  return [...page.matchAll(marked)].map(([, role, after, code]) => ({
    role: role as Block["role"],
    after: after ? new RegExp(after) : undefined,
    code: code!,
  }));
}

interface Background {
  output: () => string;
  waitFor: (match: RegExp, timeoutMs?: number) => Promise<unknown>;
  stop: () => Promise<void>;
}

/** Runs a block in bash in its own process group, as a terminal would, so stopping it (Ctrl-C) ends npm and what npm started. */
function background(code: string, cwd: string): Background {
  const bash = spawnCollecting("bash", ["-c", code], { cwd, group: true });
  return {
    output: bash.output,
    waitFor: (match, timeoutMs = 90_000) => bash.waitFor((output) => match.test(output), timeoutMs, `no ${match} in`),
    stop: () => bash.stop("SIGINT"),
  };
}

/** Terminal 3: one bash that runs block after block, so variables set in one block are there in the next. */
function terminal(cwd: string) {
  const child = spawn("bash", [], { cwd, env: process.env, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  let n = 0;
  return {
    /** Pastes a block; resolves with what it printed once bash reaches the end of it. */
    async run(code: string) {
      const done = `__walkthrough_block_${++n}_done__`;
      const [outFrom, errFrom] = [stdout.length, stderr.length];
      child.stdin.write(`${code}\necho "${done} $?"\n`);
      const end = new RegExp(`${done} (\\d+)\\n`);
      while (!end.test(stdout)) {
        if (child.exitCode !== null) throw new Error(`bash exited:\n${stdout}\n${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const status = Number(end.exec(stdout)![1]);
      return { status, stdout: stdout.slice(outFrom).replace(end, ""), stderr: stderr.slice(errFrom) };
    },
    close: () => child.stdin.end(),
  };
}

/** The walkthrough's own prerequisites (docs/walkthrough.md: "needs curl and jq"); without them a reader could not follow it either. */
const missing = ["curl", "jq"].filter((tool) => spawnSync(tool, ["--version"]).status !== 0);
if (missing.length)
  console.warn(`walkthrough test skipped: it needs ${missing.join(" and ")} (Debian/Ubuntu: apt-get install -y ${missing.join(" ")})`);

let dir: string;
let dev: Background | undefined;
const receivers: Background[] = [];
/** What terminal 3 printed, block by block. */
const transcript: string[] = [];
let devPort: number;
let shell: ReturnType<typeof terminal> | undefined;

describe.skipIf(missing.length > 0)("the walkthrough, pasted", () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "edge-webhooks-walkthrough-"));
    const [api, inspector, receiver] = await freePorts(3);
    devPort = api!;
    // The reader's terminal is the checkout; this one is a scratch folder (for wh.json), so npm is pointed back.
    const adapt = (code: string) =>
      code
        .replaceAll("127.0.0.1:8787", `127.0.0.1:${api}`)
        .replaceAll("127.0.0.1:8788", `127.0.0.1:${receiver}`)
        .replace(
          /^npm run dev$/m,
          `npm --prefix ${ROOT} run dev -- --port ${api} --inspector-port ${inspector} --persist-to ${join(dir, "state")} --var RETRY_DELAYS_SECONDS:1,4,8`,
        )
        .replace(/^npm run receiver -- /m, `npm --prefix ${ROOT} run receiver -- --port ${receiver} `);

    shell = terminal(dir);
    const blocks = walkthroughBlocks();
    expect(blocks.map((b) => b.role)).toEqual(["dev", "receiver", "shell", "receiver", "shell", "receiver", "shell"]);
    for (const block of blocks) {
      const current = receivers.at(-1);
      if (block.after) {
        await current!.waitFor(block.after, 30_000).catch((err: Error) => {
          throw new Error(`${err.message}\nterminal 3 so far:\n${transcript.join("\n")}\nnpm run dev:\n${dev?.output()}`);
        });
      }
      const code = adapt(block.code);
      if (block.role === "dev") {
        dev = background(code, dir);
        await dev.waitFor(/Dev API key/, 120_000);
      } else if (block.role === "receiver") {
        await current?.stop();
        const started = background(code, dir);
        receivers.push(started);
        await started.waitFor(/Receiver listening on/);
      } else {
        const run = await shell.run(code);
        transcript.push(run.stdout);
        expect(run.stderr, `a walkthrough block wrote to stderr:\n${code}`).toBe("");
        expect(run.status).toBe(0);
      }
    }
  }, 240_000);

  afterAll(async () => {
    shell?.close();
    for (const r of receivers) await r.stop();
    await dev?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("npm run dev's first screen is the banner: API, docs, settings pages, dev key, admin token, the receiver", () => {
    const output = dev!.output();
    const [before] = output.split("Edge Webhooks is running locally");
    // Only npm's own "> edge-webhooks@… dev" header comes before it: no migration tables, no bindings table.
    expect(before!.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("> "))).toEqual([]);
    const url = `http://127.0.0.1:${devPort}`;
    for (const shown of [
      `API              ${url}`,
      `${url}/docs`,
      `${url}/settings`,
      KEY,
      "dev-admin-token-not-for-production-use",
      "npm run receiver",
    ]) {
      expect(output).toContain(shown);
    }
    expect(output).not.toMatch(/Your Worker has access to the following bindings|ENOTFOUND|Migrations to be applied/);
  });

  it("the receiver printed every event sent, each with valid signatures, and the retry as attempt 2", () => {
    const [first, failing, healed] = receivers.map((r) =>
      r
        .output()
        .split("\n")
        .filter((l) => / attempt \d+ /.test(l)),
    );
    const event = /^event (evt_\w+)$/m.exec(transcript[0]!)![1]!;
    // The message, the batch's contact and conversation, and the test event (sent at once, so maybe before the
    // batch), then the retry of the message, behind them.
    const seen = first!.map((l) => l.split("  ").slice(2, 5).join(" "));
    expect(seen).toHaveLength(5);
    expect(
      seen
        .slice(0, 4)
        .map((s) => s.replace(/ evt_\w+ /, " "))
        .sort(),
    ).toEqual([
      "contact.created attempt 1",
      "conversation.closed attempt 1",
      "conversation.closed attempt 1",
      "message.received attempt 1",
    ]);
    expect(seen).toContain(`message.received ${event} attempt 1`);
    expect(seen[4]).toBe(`message.received ${event} attempt 2`);
    // wh.json holds the publicKey too, so every line checked v1a (Ed25519) beside the two HMAC schemes.
    for (const line of [...first!, ...failing!, ...healed!]) expect(line).toContain("signature ok (v1, respond.io, v1a)");

    const failingId = /^event (evt_\w+)$/m.exec(transcript[1]!)![1]!;
    expect(failing!.slice(0, 2)).toEqual([
      expect.stringMatching(new RegExp(`message\\.received  ${failingId}  attempt 1  signature ok \\(v1, respond\\.io, v1a\\)  → 500$`)),
      expect.stringMatching(new RegExp(`message\\.received  ${failingId}  attempt 2  signature ok \\(v1, respond\\.io, v1a\\)  → 500$`)),
    ]);
    // The restarted receiver got the next retry, then (after the rotation) the test event signed with the new secret.
    expect(healed![0]).toMatch(new RegExp(`${failingId}  attempt 1  signature ok \\(v1, respond\\.io, v1a\\)  → 200$`));
    expect(healed!.at(-1)).toMatch(/message\.received {2}evt_\w+ {2}attempt 1 {2}signature ok \(v1, respond\.io, v1a\) {2}→ 200$/);
  });

  it("the API answered each step as the walkthrough says, and the webhook was deleted only at the end", () => {
    const [main, failing, last] = transcript;
    expect(main).toMatch(/^webhook wh_\w+$/m);
    expect(main).toContain('"status": "delivered"');
    // How many failures the quota shows after 3 s depends on the machine's speed; the receiver's lines show them.
    expect(failing).toMatch(/\{"limit":30,"windowSeconds":1800,"failures":\d+\}/);
    expect(last).toMatch(/"previousSecretExpiresAt": "\d{4}-/);
    expect(last).toContain('"code": "invalid_cursor"');
    expect(last).toMatch(/"enabled": false,\s+"disabledReason": "manual"/);
    expect(last).toMatch(/^204$/m);
    expect(last).toMatch(/^workspace ws_\w+$/m);
    // Nothing else was refused along the way.
    expect((transcript.join("\n").match(/"error":\s*\{/g) ?? []).length).toBe(1);
  });

  it("a URL that reaches the Worker with a malformed %-escape answers the API's JSON error", async () => {
    const headers = { authorization: `Bearer ${KEY}` };
    const url = `http://127.0.0.1:${devPort}`;
    // Through wrangler dev's proxy too (docs/api.md "Errors"): 400 malformed_url, in the query as in the path.
    for (const path of ["/v1/webhooks/wh_x/deliveries?cursor=%E0%A4%A&limit=%zz", "/v1/webhooks/%E0%A4%A/deliveries"]) {
      const res = await fetch(`${url}${path}`, { headers });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: "malformed_url", message: expect.any(String) } });
    }
  });
});
