// Runs `scripts/receiver.mjs` as its own process, the way `npm run receiver` does, and collects the lines it prints.
import { resolve } from "node:path";
import { spawnCollecting } from "./process";

const SCRIPT = resolve(import.meta.dirname, "../../../scripts/receiver.mjs");

export interface ReceiverProcess {
  url: string;
  lines: () => string[];
  /** Resolves with the first printed line that matches, waiting up to `timeoutMs` for it. */
  waitForLine: (match: RegExp, timeoutMs?: number) => Promise<string>;
  stop: () => Promise<void>;
}

export async function startReceiverProcess(args: string[], env: Record<string, string> = {}): Promise<ReceiverProcess> {
  const receiver = spawnCollecting(process.execPath, [SCRIPT, "--port", "0", ...args], { env: { ...process.env, ...env } });
  const lines = () => receiver.output().split("\n").filter(Boolean);
  const waitForLine = (match: RegExp, timeoutMs = 10_000) =>
    receiver.waitFor(() => lines().find((l) => match.test(l)), timeoutMs, `receiver printed no line matching ${match}`);
  const stop = () => receiver.stop();
  const ready = await waitForLine(/^Receiver listening on (http:\/\/\S+?)\/? /).catch(async (err) => {
    await stop();
    throw err;
  });
  const url = /listening on (http:\/\/[^/\s]+)/.exec(ready)![1]!;
  return { url, lines, waitForLine, stop };
}
