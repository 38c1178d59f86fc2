#!/usr/bin/env node
// `npm run bundle-size`: bundles the Worker as `wrangler deploy` would (`--dry-run`: no login, no network), prints its
// size and gzip size, and fails above Cloudflare's Worker size limit on the Free plan (3 MB after compression).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

/** Workers Free: 3 MB compressed (Paid: 10 MB). https://developers.cloudflare.com/workers/platform/limits/ */
const LIMIT_GZIP_BYTES = 3 * 1000 * 1000;

const outdir = mkdtempSync(join(tmpdir(), "edge-webhooks-bundle-"));
try {
  const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
  const wrangler = join(import.meta.dirname, "../node_modules/wrangler/bin/wrangler.js");
  const run = spawnSync(process.execPath, [wrangler, "deploy", "--dry-run", "--outdir", outdir], { env, encoding: "utf8" });
  if (run.status !== 0) {
    throw new Error(`${run.stdout ?? ""}${run.stderr ?? ""}${run.error ?? ""}\nbundle-size: wrangler deploy --dry-run failed`);
  }
  // What would be uploaded: the modules, not the source map or wrangler's README.
  const modules = readdirSync(outdir).filter((name) => !name.endsWith(".map") && name !== "README.md");
  const contents = modules.map((name) => readFileSync(join(outdir, name)));
  const raw = contents.reduce((sum, c) => sum + c.byteLength, 0);
  const gzip = contents.reduce((sum, c) => sum + gzipSync(c).byteLength, 0);
  const kib = (/** @type {number} */ bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
  const share = ((gzip / LIMIT_GZIP_BYTES) * 100).toFixed(1);
  console.log(`Worker bundle (${modules.join(", ")}): ${kib(raw)}, gzip ${kib(gzip)}: ${share}% of the 3 MB limit (Workers Free)`);
  if (gzip > LIMIT_GZIP_BYTES) {
    console.error(`bundle-size: the Worker is over Cloudflare's 3 MB compressed limit for Workers Free`);
    process.exitCode = 1;
  }
} finally {
  // process.exit() would skip this.
  rmSync(outdir, { recursive: true, force: true });
}
