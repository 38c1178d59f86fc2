// Runs `scripts/receiver.mjs` as its own process, the way `npm run receiver` does, and collects the lines it prints.
import { spawn, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";

const SCRIPT = resolve(import.meta.dirname, "../../scripts/receiver.mjs");

export interface ReceiverProcess {
  url: string;
  lines: () => string[];
  /** Resolves with the first printed line that matches, waiting up to `timeoutMs` for it. */
  waitForLine: (match: RegExp, timeoutMs?: number) => Promise<string>;
  stop: () => Promise<void>;
}

export async function startReceiverProcess(args: string[], env: Record<string, string> = {}): Promise<ReceiverProcess> {
  const child: ChildProcess = spawn(process.execPath, [SCRIPT, "--port", "0", ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  const lines = () => output.split("\n").filter(Boolean);
  const waitForLine = async (match: RegExp, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = lines().find((l) => match.test(l));
      if (line) return line;
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`receiver printed no line matching ${match}:\n${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const stop = async () => {
    if (child.exitCode === null) child.kill("SIGTERM");
    await exited;
  };
  const ready = await waitForLine(/^Receiver listening on (http:\/\/\S+?)\/? /).catch(async (err) => {
    await stop();
    throw err;
  });
  const url = /listening on (http:\/\/[^/\s]+)/.exec(ready)![1]!;
  return { url, lines, waitForLine, stop };
}
