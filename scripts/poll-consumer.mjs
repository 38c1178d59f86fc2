// `npm run receiver -- --poll <webhook id>`: a polling webhook's consumer (docs/polling.md). It reads the stream
// with long polls, prints one line per event, and passes each page's nextCursor back, which acknowledges it.
import { readFileSync } from "node:fs";

/** The poll token (`whpoll_…`) in a file holding a create or rotate-secret response, or the token as text. */
function tokenInFile(/** @type {string} */ file) {
  const text = readFileSync(file, "utf8");
  try {
    const json = JSON.parse(text);
    if (typeof json?.pollToken === "string") return json.pollToken;
  } catch {}
  return text.match(/whpoll_[A-Za-z0-9_-]+/)?.[0];
}

/**
 * @param {{ webhookId: string, api: string, token?: string, tokenFile?: string, limit: number, wait: number }} options
 */
export async function consume(options) {
  let cursor = null;
  let failures = 0;
  const credential = () => options.token ?? (options.tokenFile && tokenInFile(options.tokenFile));
  console.log(`Polling ${options.api}/v1/webhooks/${options.webhookId}/poll (pages of ${options.limit}, long poll ${options.wait} s)`);
  for (;;) {
    const query = new URLSearchParams({ limit: String(options.limit), wait: String(options.wait) });
    if (cursor) query.set("cursor", cursor);
    let res;
    try {
      res = await fetch(`${options.api}/v1/webhooks/${encodeURIComponent(options.webhookId)}/poll?${query}`, {
        headers: { authorization: `Bearer ${credential() ?? ""}` },
      });
    } catch (err) {
      failures++;
      console.error(`${new Date().toISOString()}  poll failed (${/** @type {Error} */ (err).message}); trying again`);
      await new Promise((done) => setTimeout(done, Math.min(30_000, 500 * 2 ** failures)));
      continue;
    }
    const body = await res.json().catch(() => ({}));
    if (!res.ok) {
      console.error(`${new Date().toISOString()}  ${res.status} ${body?.error?.code ?? ""}: ${body?.error?.message ?? ""}`);
      // Credentials or the webhook are wrong: nothing to wait for.
      if ([401, 403, 404].includes(res.status)) process.exit(1);
      failures++;
      await new Promise((done) => setTimeout(done, Math.min(30_000, 500 * 2 ** failures)));
      continue;
    }
    failures = 0;
    for (const event of body.data) {
      console.log([new Date().toISOString(), "POLL", String(event.event_type), String(event.event_id)].join("  "));
    }
    // The next read acknowledges this page; a consumer that must not lose events saves the cursor after processing.
    cursor = body.nextCursor ?? cursor;
    if (body.done && body.data.length > 0) console.log(`${new Date().toISOString()}  caught up; waiting for new events`);
  }
}
