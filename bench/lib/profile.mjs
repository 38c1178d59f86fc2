// A CPU profile of the service's isolate over one stretch of a phase (BENCH_PROFILE=<file>.cpuprofile): sampled
// through the DevTools protocol on wrangler's inspector port, written as a .cpuprofile (open it in Chrome's
// DevTools), with its heaviest functions by self time printed. Under `wrangler dev` the Worker and its Durable
// Objects share one isolate, so the lane's work and the ingestion's are in the same profile.
import { writeFileSync } from "node:fs";

async function connect(inspectorPort) {
  const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json();
  const target = targets.find((t) => t.webSocketDebuggerUrl) ?? targets[0];
  // `ws` (wrangler's own dependency): wrangler's inspector proxy refuses Node's built-in WebSocket's upgrade.
  const { default: WebSocket } = await import("ws");
  const socket = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    socket.on("open", resolve);
    socket.on("error", reject);
  });
  let id = 0;
  const waiting = new Map();
  socket.on("message", (message) => {
    const data = JSON.parse(String(message));
    const w = waiting.get(data.id);
    if (!w) return;
    waiting.delete(data.id);
    if (data.error) w.reject(new Error(JSON.stringify(data.error)));
    else w.resolve(data.result);
  });
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const n = ++id;
      waiting.set(n, { resolve, reject });
      socket.send(JSON.stringify({ id: n, method, params }));
    });
  return { send, close: () => socket.close() };
}

/** Self time by function, heaviest first, as shares of the samples. */
export function heaviest(profile, top = 40) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const counts = new Map();
  for (const s of profile.samples) counts.set(s, (counts.get(s) ?? 0) + 1);
  for (const [nodeId, count] of counts) {
    const { callFrame: f } = byId.get(nodeId);
    const name = `${f.functionName || "(anonymous)"} ${f.url.split("/").slice(-2).join("/")}:${f.lineNumber + 1}`;
    self.set(name, (self.get(name) ?? 0) + count);
  }
  const total = profile.samples.length;
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, n]) => `${((100 * n) / total).toFixed(1).padStart(5)}%  ${name}`);
}

/** Profiles the isolate behind `inspectorPort` while `fn` runs; writes the profile to `file`. */
export async function profiled(inspectorPort, file, fn) {
  const inspector = await connect(inspectorPort);
  await inspector.send("Profiler.enable");
  await inspector.send("Profiler.setSamplingInterval", { interval: 200 });
  await inspector.send("Profiler.start");
  try {
    return await fn();
  } finally {
    const { profile } = await inspector.send("Profiler.stop");
    inspector.close();
    writeFileSync(file, JSON.stringify(profile));
    console.log(`profile of ${profile.samples.length} samples in ${file}; self time:\n${heaviest(profile).join("\n")}`);
  }
}
