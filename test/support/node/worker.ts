// Runs the Worker the way an operator does locally: `wrangler d1 migrations apply` then `wrangler dev`, on a free
// port in 8900-8999 with its own temporary --persist-to folder, for the Node-side browser test.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { TEST_ENCRYPTION_KEYS } from "../encryption-key.mjs";
import { spawnCollecting } from "./process";

const ROOT = resolve(import.meta.dirname, "../../..");
const WRANGLER = join(ROOT, "node_modules/wrangler/bin/wrangler.js");
const PORTS = { first: 8900, last: 8999 };

function portIsFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once("error", () => done(false));
    server.listen(port, "127.0.0.1", () => server.close(() => done(true)));
  });
}

/** Free ports in 8900-8999, starting at a random one so parallel runs rarely collide. */
export async function freePorts(count: number): Promise<number[]> {
  const span = PORTS.last - PORTS.first + 1;
  const start = Math.floor(Math.random() * span);
  const found: number[] = [];
  for (let i = 0; i < span && found.length < count; i++) {
    const port = PORTS.first + ((start + i) % span);
    if (await portIsFree(port)) found.push(port);
  }
  if (found.length < count) throw new Error("no free port in 8900-8999");
  return found;
}

export interface RunningWorker {
  url: string;
  /** Its --persist-to folder (D1, each Durable Object's SQLite, traces), removed by stop(). */
  persistDir: string;
  /** Everything wrangler printed, to check what it did (and did not) log. */
  output: () => string;
  stop: () => Promise<void>;
}

export async function startWorker(vars: Record<string, string>): Promise<RunningWorker> {
  const persist = mkdtempSync(join(tmpdir(), "edge-webhooks-ui-"));
  const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", CI: "true", NO_COLOR: "1" };
  const migrate = spawnSync(process.execPath, [WRANGLER, "d1", "migrations", "apply", "DB", "--local", "--persist-to", persist], {
    cwd: ROOT,
    env,
    encoding: "utf8",
  });
  if (migrate.status !== 0) throw new Error(`migrations failed:\n${migrate.stdout}\n${migrate.stderr}`);

  const [port, inspectorPort] = await freePorts(2);
  const args = [WRANGLER, "dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspectorPort)];
  args.push("--persist-to", persist, "--show-interactive-dev-session=false");
  // Every deployment needs ENCRYPTION_KEYS (src/lib/encryption.ts); a test may give its own.
  for (const [name, value] of Object.entries({ ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS, ...vars })) args.push("--var", `${name}:${value}`);
  const wrangler = spawnCollecting(process.execPath, args, { cwd: ROOT, env, group: true });
  const { child, output } = wrangler;
  const stop = async () => {
    await wrangler.stop();
    rmSync(persist, { recursive: true, force: true });
  };

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited:\n${output()}`);
    try {
      const res = await fetch(`${url}/`);
      if (res.ok) break;
    } catch {}
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`wrangler dev did not start within 60 s:\n${output()}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, persistDir: persist, output, stop };
}
