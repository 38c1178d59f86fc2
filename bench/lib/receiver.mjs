// The benchmark's receiver: a bare Node HTTP server on 127.0.0.1 in its own process, so the load driver
// cannot slow it down. It answers every POST with an empty 200 (at once, or after `?delay=` ms: a slow
// endpoint) and records, per run ("phase", the first path segment after /p/), the arrival time and what the
// body says about the event. With `?capacity=<n>` it serves at most n requests at once and answers 503 at once to
// one arriving while n are open (counted as refused, not as an arrival): an endpoint that can take only so much.
//
//   POST /p/<phase>/<endpoint>[?delay=<ms>][&capacity=<n>]   body: {"event_id", "timestamp" (acceptance, unix ms), "seq"?, "round"?}
//
// A batch (body {"events": [...]}, docs/batches.md) counts each of its events as an arrival at the request's time,
// in its order; `requests` counts the requests.
//
// The parent talks to it over IPC: {id, cmd: "count"|"take", phase} -> {id, ...}.
import { createServer } from "node:http";

const port = Number(process.argv[2]);
/** @type {Map<string, {arrival: number[], accepted: number[], endpoint: number[], seq: number[], round: number[], ids: Set<string>, duplicates: number, refused: number, open: number, peakOpen: number}>} */
const phases = new Map();

function phaseRecord(name) {
  let record = phases.get(name);
  if (!record)
    phases.set(
      name,
      (record = {
        arrival: [],
        accepted: [],
        endpoint: [],
        seq: [],
        round: [],
        ids: new Set(),
        duplicates: 0,
        refused: 0,
        requests: 0,
        open: 0,
        peakOpen: 0,
      }),
    );
  return record;
}

const server = createServer({ keepAliveTimeout: 120_000 }, (req, res) => {
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    const arrival = performance.timeOrigin + performance.now();
    const [path, query = ""] = (req.url ?? "").split("?");
    const params = new URLSearchParams(query);
    const delay = Number(params.get("delay") ?? 0);
    const capacity = params.has("capacity") ? Number(params.get("capacity")) : Infinity;
    const [, p, phase = "?", endpoint = "0"] = path.split("/");
    const served = p === "p" ? phaseRecord(phase) : undefined;
    if (served && served.open >= capacity) {
      served.refused++;
      res.writeHead(503, { "content-length": "0" }).end();
      return;
    }
    if (served) {
      served.open++;
      served.peakOpen = Math.max(served.peakOpen, served.open);
      res.on("close", () => served.open--);
    }
    if (delay > 0) setTimeout(() => res.writeHead(200, { "content-length": "0" }).end(), delay);
    else res.writeHead(200, { "content-length": "0" }).end();
    if (p !== "p") return;
    let body = {};
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      // counted all the same; it has no timestamp
    }
    const record = phaseRecord(phase);
    record.requests++;
    for (const event of Array.isArray(body.events) ? body.events : [body]) {
      const id = String(event.event_id ?? "");
      if (record.ids.has(`${endpoint}/${id}`)) record.duplicates++;
      record.ids.add(`${endpoint}/${id}`);
      record.arrival.push(arrival);
      record.accepted.push(typeof event.timestamp === "number" ? event.timestamp : NaN);
      record.endpoint.push(Number(endpoint));
      record.seq.push(typeof event.seq === "number" ? event.seq : -1);
      record.round.push(typeof event.round === "number" ? event.round : -1);
    }
  });
});
server.keepAliveTimeout = 120_000;

process.on("message", (/** @type {{id: number, cmd: string, phase: string}} */ message) => {
  const record = phases.get(message.phase);
  if (message.cmd === "count") {
    process.send?.({ id: message.id, count: record?.arrival.length ?? 0 });
  } else if (message.cmd === "take") {
    phases.delete(message.phase);
    const {
      ids: _ids,
      open: _open,
      ...rest
    } = record ?? {
      ids: null,
      open: 0,
      arrival: [],
      accepted: [],
      endpoint: [],
      seq: [],
      round: [],
      duplicates: 0,
      refused: 0,
      requests: 0,
      peakOpen: 0,
    };
    process.send?.({ id: message.id, ...rest });
  }
});

server.listen(port, "127.0.0.1", () => process.send?.({ ready: true }));
process.on("disconnect", () => process.exit(0));
