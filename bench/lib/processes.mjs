// Starting and stopping what the benchmark runs (wrangler dev twice, the receiver), and reading how much
// CPU each of them used from /proc, which is how the report says what limited a figure.
import { fork, spawn, spawnSync } from "node:child_process";
import { openSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** @type {{name: string, pid: number}[]} */
const started = [];

const root = new URL("../..", import.meta.url).pathname;
const wranglerJs = join(root, "node_modules", "wrangler", "bin", "wrangler.js");

/** Runs a wrangler command to completion (migrations, seed), its output into the log. */
export function wranglerSync(args, logFile) {
  const log = openSync(logFile, "a");
  const result = spawnSync(process.execPath, [wranglerJs, ...args], { cwd: root, stdio: ["ignore", log, log], env: process.env });
  if (result.status !== 0) throw new Error(`wrangler ${args.join(" ")} failed (exit ${result.status}); see ${logFile}`);
}

/** Starts `wrangler dev` in its own process group (so it and its workerd can be stopped together). */
export function startWranglerDev(name, args, logFile) {
  const log = openSync(logFile, "a");
  const child = spawn(process.execPath, [wranglerJs, "dev", ...args], {
    cwd: root,
    stdio: ["ignore", log, log],
    env: process.env,
    detached: true,
  });
  started.push({ name, pid: child.pid });
  return child;
}

/** Starts the receiver in its own Node process; resolves with a small IPC client once it listens. */
export async function startReceiver(port) {
  const child = fork(join(root, "bench", "lib", "receiver.mjs"), [String(port)], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    detached: true,
  });
  started.push({ name: "receiver", pid: child.pid });
  let next = 1;
  /** @type {Map<number, (value: any) => void>} */
  const waiting = new Map();
  await new Promise((resolve, reject) => {
    child.once("error", reject);
    // A receiver that dies before it listens (its port taken, say) must fail the run, not leave it waiting on nothing.
    child.once("exit", (code) => reject(new Error(`the bench receiver exited (code ${code}) before listening on 127.0.0.1:${port}`)));
    child.on("message", (message) => {
      if (message.ready) resolve(undefined);
      else waiting.get(message.id)?.(message), waiting.delete(message.id);
    });
  });
  /** @param {string} cmd @param {string} phase */
  const ask = (cmd, phase) =>
    new Promise((resolve) => {
      const id = next++;
      waiting.set(id, resolve);
      child.send({ id, cmd, phase });
    });
  return {
    pid: child.pid,
    /** @returns {Promise<number>} */
    count: async (phase) => (await ask("count", phase)).count,
    /** @returns {Promise<{arrival: number[], accepted: number[], endpoint: number[], seq: number[], round: number[], duplicates: number}>} */
    take: (phase) => ask("take", phase),
  };
}

/** Polls until the URL answers 200 (wrangler dev is up). */
export async function waitForHttp(url, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  throw new Error(`${url} did not come up within ${timeoutMs / 1000} s`);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Stops everything this run started: SIGTERM to each process group, SIGKILL to what is left. */
export async function stopAll() {
  for (const { pid } of started) {
    try {
      process.kill(-pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
  await sleep(1500);
  for (const { pid } of started.splice(0)) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

// ---------- CPU accounting from /proc ----------

const CLOCK_TICKS = 100;

function statFields(pid) {
  const text = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name may hold spaces; fields start after the closing parenthesis.
  return text.slice(text.lastIndexOf(")") + 2).split(" ");
}

/** Every process under pid (itself included). */
function descendants(pid) {
  const children = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = Number(statFields(entry)[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  const all = [];
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.pop();
    all.push(p);
    queue.push(...(children.get(p) ?? []));
  }
  return all;
}

/** CPU seconds used so far by a process tree, by command name (node, workerd, ...). */
export function treeCpuSeconds(pid) {
  /** @type {Record<string, number>} */
  const byCommand = {};
  for (const p of descendants(pid)) {
    try {
      const text = readFileSync(`/proc/${p}/stat`, "utf8");
      const command = text.slice(text.indexOf("(") + 1, text.lastIndexOf(")"));
      const f = statFields(p);
      // utime and stime are fields 14 and 15 (1-based), i.e. 11 and 12 after the command
      byCommand[command] = (byCommand[command] ?? 0) + (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
    } catch {
      // exited meanwhile
    }
  }
  return byCommand;
}

/** Busy and total CPU seconds of the whole machine so far. */
export function machineCpuSeconds() {
  const [, ...values] = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/);
  const n = values.map(Number);
  const idle = n[3] + n[4];
  const total = n.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: (total - idle) / CLOCK_TICKS, total: total / CLOCK_TICKS };
}
