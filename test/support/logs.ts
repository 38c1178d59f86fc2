// What the code under test logs on purpose (console.error and console.warn), captured so the test can assert it
// and a passing run stays quiet: a line that shows up in the output is then one nobody expected.
import { afterEach, beforeEach, vi } from "vitest";

export interface Logs {
  /** console.error lines of the current test, each its arguments joined by spaces (an Error as "Name: message"). */
  error: string[];
  warn: string[];
}

/** Call once at the top of a test file (or describe block): each test then starts with empty logs. */
export function captureLogs(): Logs {
  const logs: Logs = { error: [], warn: [] };
  const line = (args: unknown[]) => args.map((arg) => (typeof arg === "string" ? arg : String(arg))).join(" ");
  beforeEach(() => {
    logs.error = [];
    logs.warn = [];
    vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => void logs.error.push(line(args)));
    vi.spyOn(console, "warn").mockImplementation((...args: unknown[]) => void logs.warn.push(line(args)));
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
  return logs;
}
