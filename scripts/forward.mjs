// `npm run receiver -- --poll <webhook id> --forward-to <url>`: hands a polling webhook's stream to a local app as
// push deliveries would arrive (docs/polling.md), so a receiver can be developed behind NAT: the same body bytes,
// `webhook-id`, a fresh `webhook-timestamp` and `webhook-signature` made with the webhook's secret by the
// `standardwebhooks` library (and respond.io's `x-webhook-signature`), one event at a time, in order. A page is
// acknowledged (the next read passes its cursor) only once every event in it got a 2xx; a failed answer is retried
// with a short backoff and shown. One line per attempt, like `stripe listen`.
import { createHmac } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { pollPages } from "./poll-consumer.mjs";

/** What a push attempt waits for an answer by default (DELIVERY_TIMEOUT_MS). */
const TIMEOUT_MS = 5_000;
/** Backoff between attempts of one event: short, since the app is the developer's own. */
const BACKOFF_MS = { first: 250, max: 5_000 };
/** The push attempts' user-agent (src/delivery/attempt.ts USER_AGENT). */
const USER_AGENT = "EdgeWebhooks/1.0 (+https://github.com/edge-webhooks)";

/**
 * The headers of one attempt of `body` as event `id`, signed at `at` by `secrets` (current first; during a rotation
 * both, as the service signs), as a push delivery carries them.
 * @param {string[]} secrets @param {string} id @param {string} body @param {Date} at
 */
export function pushHeaders(secrets, id, body, at) {
  return {
    "content-type": "application/json",
    "user-agent": USER_AGENT,
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": secrets.map((secret) => new Webhook(secret).sign(id, at, body)).join(" "),
    "x-webhook-signature": createHmac("sha256", secrets[0] ?? "")
      .update(body)
      .digest("base64"),
  };
}

/** One POST to the app; never throws: a status, or why there is none. @param {string} url @param {Record<string, string>} headers @param {string} body */
async function post(url, headers, body) {
  const started = performance.now();
  try {
    const res = await fetch(url, { method: "POST", headers, body, redirect: "manual", signal: AbortSignal.timeout(TIMEOUT_MS) });
    await res.arrayBuffer().catch(() => {});
    return { status: res.status, error: null, ms: Math.round(performance.now() - started) };
  } catch (err) {
    const error = /** @type {Error & { cause?: { message?: string } }} */ (err);
    // fetch says "fetch failed"; its cause says why (a refused connection, the other side closing it).
    const why = error.name === "TimeoutError" ? `no answer within ${TIMEOUT_MS} ms` : (error.cause?.message ?? error.message);
    return { status: null, error: why, ms: Math.round(performance.now() - started) };
  }
}

/**
 * @param {import("./poll-consumer.mjs").PollOptions & { forwardTo: string, secrets: () => string[] }} options
 *   `secrets` is asked before each attempt (a --secret-file is re-read, so a rotation is picked up).
 */
export async function forward(options) {
  console.log(
    `Forwarding ${options.api}/v1/webhooks/${options.webhookId}/poll to ${options.forwardTo} (pages of ${options.limit}, long poll ${options.wait} s)`,
  );
  for await (const page of pollPages(options)) {
    for (const event of page.data) {
      // The poll answer holds each body as JSON; serialised again it is byte for byte what a push sends (JSON.stringify).
      const body = JSON.stringify(event);
      const id = String(event.event_id);
      for (let attempt = 1; ; attempt++) {
        const secrets = options.secrets();
        if (secrets.length === 0) {
          console.error("receiver: --forward-to needs the webhook's secret: --secret whsec_… or --secret-file wh.json");
          process.exit(2);
        }
        const answer = await post(options.forwardTo, pushHeaders(secrets, id, body, new Date()), body);
        const ok = answer.status !== null && answer.status >= 200 && answer.status < 300;
        const wait = Math.min(BACKOFF_MS.max, BACKOFF_MS.first * 2 ** (attempt - 1));
        const outcome = answer.status === null ? answer.error : String(answer.status);
        console.log(
          [
            new Date().toISOString(),
            String(event.event_type),
            id,
            `→ POST ${options.forwardTo}`,
            `${outcome} (${answer.ms} ms)${attempt > 1 ? ` attempt ${attempt}` : ""}${ok ? "" : `; retrying in ${wait} ms`}`,
          ].join("  "),
        );
        if (ok) break;
        await new Promise((done) => setTimeout(done, wait));
      }
    }
  }
}
