// A child process of a Node-side test (wrangler dev, the receiver script, a pasted README block): started with
// its output collected, waited on for what it prints, and stopped. Started as a group leader (`group`), stopping it
// ends the whole group it leads, which is only what it started (npm, wrangler, workerd), so no test leaves one behind.
import { spawn, type ChildProcess } from "node:child_process";

export interface Spawned {
  child: ChildProcess;
  /** Everything it printed so far, stdout and stderr interleaved. */
  output: () => string;
  /** Resolves with the first truthy `found(output)`, polling up to `timeoutMs`; throws with the output if it exits first. */
  waitFor: <T>(found: (output: string) => T | null | undefined | false, timeoutMs: number, what: string) => Promise<T>;
  /** Signals it (its group, if it leads one), waits up to 5 s, then kills what is left of the group. */
  stop: (signal?: NodeJS.Signals) => Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function spawnCollecting(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; group?: boolean } = {},
): Spawned {
  const { cwd, env = process.env, group = false } = options;
  const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: group });
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  return {
    child,
    output: () => output,
    async waitFor(found, timeoutMs, what) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = found(output);
        if (hit) return hit;
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${what}:\n${output}`);
        await sleep(50);
      }
    },
    async stop(signal = "SIGTERM") {
      if (child.exitCode !== null || !child.pid) return;
      if (!group) {
        child.kill(signal);
        await exited;
        return;
      }
      try {
        process.kill(-child.pid, signal);
      } catch {}
      await Promise.race([exited, sleep(5000)]);
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {}
    },
  };
}
