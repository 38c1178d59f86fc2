// `npm run receiver -- --poll <webhook id>`: a polling webhook's consumer (docs/polling.md). It reads the stream
// with long polls, prints one line per event (or hands each to forward.mjs), and passes each page's nextCursor back,
// which acknowledges it, only once the page was handled.
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
 * @typedef {{ webhookId: string, api: string, token?: string, tokenFile?: string, limit: number, wait: number }} PollOptions
 * @typedef {{ data: Record<string, unknown>[], nextCursor: string | null, done: boolean }} PollPage
 */

/**
 * The stream's pages, in order. The next read passes this page's nextCursor, which acknowledges it: it happens only
 * when the caller asks for the next page, so a page is acknowledged once the caller is done with it.
 * @param {PollOptions} options @returns {AsyncGenerator<PollPage>}
 */
export async function* pollPages(options) {
  let cursor = null;
  let failures = 0;
  const credential = () => options.token ?? (options.tokenFile && tokenInFile(options.tokenFile));
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
    yield body;
    cursor = body.nextCursor ?? cursor;
    if (body.done && body.data.length > 0) console.log(`${new Date().toISOString()}  caught up; waiting for new events`);
  }
}

/** Prints one line per event. @param {PollOptions} options */
export async function consume(options) {
  console.log(`Polling ${options.api}/v1/webhooks/${options.webhookId}/poll (pages of ${options.limit}, long poll ${options.wait} s)`);
  for await (const page of pollPages(options)) {
    for (const event of page.data) {
      console.log([new Date().toISOString(), "POLL", String(event.event_type), String(event.event_id)].join("  "));
    }
  }
}
