// A real HTTP receiver on 127.0.0.1 for the tests: each bucket is one endpoint that can succeed, fail,
// hang, or drop the connection on command, records what it got, and verifies the signature schemes
// independently of the Worker's code (the `standardwebhooks` package and node:crypto; `v1a` with the
// documented Node snippet, docs/snippets/verify-v1a-node.mjs, on request), and answers verification challenges
// with the library's own endpointVerificationResponse when told to.
import { createHmac } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { verifyV1a } from "../../../docs/snippets/verify-v1a-node.mjs";
import type { Behaviour, RecordedRequest } from "../receiver-types";

interface Bucket {
  script: Behaviour[];
  fallback: Behaviour;
  secrets: string[];
  requests: RecordedRequest[];
  open: number;
  peakOpen: number;
  /** A receiver that takes this many requests at once: one arriving while as many are being served gets a 503 at once. */
  capacity: number | null;
  serving: number;
}

function verifyStandard(secrets: string[], body: string, headers: Record<string, string>): boolean | null {
  if (secrets.length === 0) return null;
  return secrets.some((secret) => {
    try {
      new Webhook(secret).verify(body, headers);
      return true;
    } catch {
      return false;
    }
  });
}

function verifyRespondIo(secrets: string[], body: string, header: string | undefined): boolean | null {
  if (secrets.length === 0) return null;
  return secrets.some((secret) => createHmac("sha256", secret).update(body).digest("base64") === header);
}

/** The library's own answer to a `webhook-challenge`, when the behaviour asks for one and the request has one. */
function challengeAnswer(
  behaviour: { answerChallenge?: boolean | { secret: string } },
  secrets: string[],
  headers: Record<string, string>,
) {
  const challenge = headers["webhook-challenge"];
  const secret = typeof behaviour.answerChallenge === "object" ? behaviour.answerChallenge.secret : secrets[0];
  if (!behaviour.answerChallenge || !challenge || !secret) return {};
  return { "webhook-challenge-response": new Webhook(secret).endpointVerificationResponse(challenge) };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function json(res: ServerResponse, status: number, value: unknown) {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
}

/** On a free port, or on `port` (the release fixture's stored URLs name a fixed one). */
export async function startReceiver(options: { port?: number } = {}): Promise<{ url: string; close: () => Promise<void> }> {
  const buckets = new Map<string, Bucket>();
  const hanging = new Set<ServerResponse>();
  const bucket = (name: string) => {
    let b = buckets.get(name);
    if (!b)
      buckets.set(
        name,
        (b = { script: [], fallback: { status: 200 }, secrets: [], requests: [], open: 0, peakOpen: 0, capacity: null, serving: 0 }),
      );
    return b;
  };

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const [, kind, name] = url.pathname.split("/");
    const body = await readBody(req);
    if (kind === "_control" && name) {
      if (req.method === "PUT") {
        const { script = [], fallback = { status: 200 }, secrets = [], capacity = null } = JSON.parse(body || "{}");
        Object.assign(bucket(name), { script, fallback, secrets, capacity });
        return json(res, 200, { ok: true });
      }
      // The capacity alone, changed during a run.
      if (req.method === "PATCH") {
        bucket(name).capacity = JSON.parse(body).capacity ?? null;
        return json(res, 200, { ok: true });
      }
      if (req.method === "GET") return json(res, 200, { requests: bucket(name).requests, peakOpen: bucket(name).peakOpen });
      // Checks `v1a` with Node's crypto and the JWKS given, on what arrived (or on the requests given, e.g. tampered
      // ones); no clock tolerance, so requests stamped under a test's moved clock are judged by signature alone.
      if (req.method === "POST") {
        const { jwks, requests = bucket(name).requests } = JSON.parse(body);
        return json(res, 200, {
          valid: requests.map((r: { headers: Record<string, string>; body: string }) => verifyV1a(jwks, r.headers, r.body, Infinity)),
        });
      }
      return json(res, 405, {});
    }
    if (kind !== "hooks" || !name) return json(res, 404, {});

    const b = bucket(name);
    const overloaded = b.capacity !== null && b.serving >= b.capacity;
    const behaviour: Behaviour = overloaded ? { status: 503, body: "over capacity" } : (b.script.shift() ?? b.fallback);
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : (v ?? "")]));
    const record: RecordedRequest = {
      at: Date.now(),
      method: req.method ?? "",
      path: url.pathname + url.search,
      headers,
      body,
      standardValid: verifyStandard(b.secrets, body, headers),
      respondIoValid: verifyRespondIo(b.secrets, body, headers["x-webhook-signature"]),
      outcome: "hang" in behaviour ? "hang" : "close" in behaviour ? "close" : behaviour.status,
      arrivedHr: performance.timeOrigin + performance.now(),
      answeredHr: null,
    };
    b.requests.push(record);
    b.open++;
    b.peakOpen = Math.max(b.peakOpen, b.open);
    if (!overloaded) b.serving++;
    res.on("close", () => {
      if (!overloaded) b.serving--;
      b.open--;
      record.answeredHr ??= performance.timeOrigin + performance.now();
    });
    if ("hang" in behaviour) {
      hanging.add(res);
      res.on("close", () => hanging.delete(res));
      return;
    }
    if ("close" in behaviour) {
      req.socket.destroy();
      return;
    }
    const [min, max] = behaviour.randomDelayMs ?? [behaviour.delayMs ?? 0, behaviour.delayMs ?? 0];
    const delay = min + Math.random() * (max - min);
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    record.answeredHr = performance.timeOrigin + performance.now();
    res
      .writeHead(behaviour.status, {
        "content-type": "text/plain",
        ...challengeAnswer(behaviour, b.secrets, headers),
        ...behaviour.headers,
      })
      .end(behaviour.echo ? body : (behaviour.body ?? "ok"));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.socket?.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
