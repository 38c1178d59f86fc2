// The upgrade test: today's code started on a copy of the storage a 1.0.0 service left behind
// (test/fixtures/release-1.0.0, made by `npm run release-fixture`), migrations first as docs/deploy.md says, and
// nothing lost: settings, logs, stats, the quota window, dead letters and the poll cursor read as before, the
// secrets still sign, and every event still owed is delivered, in order.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allDeliveries, client, FIXTURE_DIR, RECEIVER_PORT, ROOT, startService, until } from "../../scripts/release-service.mjs";
import { startReceiver } from "../support/node/receiver";
import type { RecordedRequest } from "../support/receiver-types";

const MANIFEST = join(FIXTURE_DIR, "manifest.json");
const present = existsSync(MANIFEST);
const m: any = present ? JSON.parse(readFileSync(MANIFEST, "utf8")) : {};
if (!present) console.warn(`upgrade.test.ts skipped: ${MANIFEST} is missing; \`npm run release-fixture\` makes it`);
const RECEIVER = `http://127.0.0.1:${RECEIVER_PORT}`;
/**
 * A retry due within this is left to the lane (it fires on its own, a test waits for it); one due later is checked
 * still waiting, and a user's recover sends it, well before the lane would. Long enough for a loaded machine to get
 * from the first check to the recover, short enough to wait for.
 */
const DUE_MARGIN_MS = 2 * 60_000;

const control = async (bucket: string, secrets: string[]) => {
  const res = await fetch(`${RECEIVER}/_control/${bucket}`, {
    method: "PUT",
    body: JSON.stringify({ fallback: { status: 200 }, secrets }),
  });
  expect(res.status).toBe(200);
};
const received = async (bucket: string): Promise<RecordedRequest[]> =>
  (await (await fetch(`${RECEIVER}/_control/${bucket}`)).json()).requests;
const eventIdOf = (r: RecordedRequest) => JSON.parse(r.body).event_id as string;

/** What GET …/stats?period=7d must say about a log: its attempts (test events aside) and drops inside the window. */
function expectedStats(log: any[], now: number) {
  const size = 6 * 3600_000;
  const start = (Math.floor(now / size) + 1) * size - 28 * size;
  const line = log.filter((d) => !d.test);
  const attempts = line.flatMap((d) => d.attempts).filter((a) => Date.parse(a.at) >= start);
  const ok = attempts.filter((a) => a.statusCode >= 200 && a.statusCode < 300 && !a.error).length;
  const dropped = line.filter((d) => d.status === "dropped" && Date.parse(d.attempts.at(-1).at) >= start).length;
  return { attempts: attempts.length, delivered: ok, failed: attempts.length - ok, dropped };
}

describe.skipIf(!present)(
  `upgrade from the 1.0.0 fixture${present ? "" : " (skipped: no test/fixtures/release-1.0.0; npm run release-fixture makes it)"}`,
  // A loaded machine: the lanes' work is polled for, with room to spare.
  { timeout: 240_000 },
  () => {
    let persist = "";
    let service: Awaited<ReturnType<typeof startService>>;
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    const api = (workspace: "alerting" | "limited") => client(service.url, m.workspaces[workspace].apiKey);
    const apiOf = (name: string) => api(m.webhooks[name].workspace);
    const retryingDue = () => Date.parse(m.retrying.dueAt) - Date.now() < DUE_MARGIN_MS;
    /** Set when the retrying webhook was turned off and on: enabling it forgets its failures in the quota window. */
    let reEnabled = false;

    beforeAll(async () => {
      // The fixture is read-only: the run writes to a copy (SQLite side files included, if any).
      persist = mkdtempSync(join(tmpdir(), "edge-webhooks-upgrade-"));
      cpSync(join(FIXTURE_DIR, "state"), persist, { recursive: true });
      // Migrations first, then the code (docs/deploy.md "Upgrading a deployment").
      const migrate = spawnSync(
        process.execPath,
        [join(ROOT, "node_modules/wrangler/bin/wrangler.js"), "d1", "migrations", "apply", "DB", "--local", "--persist-to", persist],
        {
          cwd: ROOT,
          encoding: "utf8",
          env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", CI: "true" },
        },
      );
      expect(migrate.status, `${migrate.stdout}\n${migrate.stderr}`).toBe(0);
      receiver = await startReceiver({ port: RECEIVER_PORT }).catch((err) => {
        throw new Error(`the receiver needs 127.0.0.1:${RECEIVER_PORT}, where the fixture's webhook URLs point: ${err.message}`);
      });
      for (const name of ["signed", "keyed", "retrying", "manual", "parallel"]) await control(name, [m.secrets[name]]);
      await control("alerts", [m.workspaces.alerting.alertSecret]);
      service = await startService({ persist, vars: m.upgradeVars });
    }, 300_000);

    afterAll(async () => {
      await service?.stop();
      await receiver?.close();
      if (persist) rmSync(persist, { recursive: true, force: true });
    });

    /** Fields a webhook object gained after 1.0.0, with the value one stored by 1.0.0 reads as (CHANGELOG.md). */
    const WEBHOOK_FIELDS_SINCE_1_0_0 = { concurrency: "fixed", batch: null };

    it("keeps every setting: workspaces (limits, alertUrl) and webhooks, field for field", async () => {
      for (const name of ["alerting", "limited"] as const)
        expect(await api(name).ok("GET", "/v1/workspace")).toEqual(m.workspaces[name].object);
      for (const [name, webhook] of Object.entries<{ id: string; object: { previousSecretExpiresAt: string | null } }>(m.webhooks)) {
        // The one field that changes with time alone: a rotation's 24 h grace ends, and the object stops naming it.
        const grace = webhook.object.previousSecretExpiresAt;
        const expected = {
          ...webhook.object,
          ...WEBHOOK_FIELDS_SINCE_1_0_0,
          previousSecretExpiresAt: grace && Date.parse(grace) > Date.now() ? grace : null,
        };
        expect(await apiOf(name).ok("GET", `/v1/webhooks/${webhook.id}`), name).toEqual(expected);
      }
    });

    it("reads the delivery logs, stats, quota window, alerts and dead letters as before", async () => {
      const now = Date.now();
      for (const [name, webhook] of Object.entries<{ id: string; deliveries: unknown[] }>(m.webhooks)) {
        const log = await allDeliveries(apiOf(name), webhook.id);
        // A retry that fell due since the fixture was made may already be under way: its first failure must be kept.
        if (name === "retrying" && retryingDue()) expect(log[0].attempts[0]).toEqual(m.webhooks.retrying.deliveries[0].attempts[0]);
        else expect(log, name).toEqual(webhook.deliveries);
        const stats = await apiOf(name).ok("GET", `/v1/webhooks/${webhook.id}/stats?period=7d`);
        if (name !== "retrying") expect(stats, name).toMatchObject(expectedStats(webhook.deliveries, now));
      }
      // The manifest's states, as the logs tell them (a retry already due may have moved its event on).
      const status = new Map<string, { status: string; attempts: unknown[] }>();
      for (const [name, webhook] of Object.entries<{ id: string }>(m.webhooks))
        for (const d of await allDeliveries(apiOf(name), webhook.id)) status.set(d.eventId, d);
      for (const id of m.states.delivered) expect(status.get(id)?.status, id).toBe("delivered");
      for (const id of m.states.dropped) expect(status.get(id)?.status, id).toBe("dropped");
      for (const id of m.states.skipped) expect(status.get(id)?.status, id).toBe("skipped");
      for (const id of [...m.states.retrying, ...m.states.pendingNeverAttempted]) {
        if (retryingDue() && m.events.retrying.includes(id)) continue;
        expect(status.get(id)?.status, id).toBe("pending");
        if (m.states.pendingNeverAttempted.includes(id)) expect(status.get(id)?.attempts, id).toEqual([]);
      }
      for (const id of m.states.notStored) expect(status.has(id), id).toBe(false);
      const quota = await api("alerting").ok("GET", "/v1/quota");
      expect(quota.failures).toBe(m.quota.alerting.failures);
      expect(quota.failures).toBeGreaterThan(0);
      expect((await api("limited").ok("GET", "/v1/quota")).failures).toBe(m.quota.limited.failures);
      expect(await api("alerting").ok("GET", "/v1/workspace/alerts")).toEqual(m.alerts);
      const letters = await api("limited").ok("GET", "/v1/dead-letters");
      expect(letters.data).toEqual(
        m.deadLetters.map(({ workspace: _, ...d }: Record<string, string>) =>
          expect.objectContaining({ ...d, replayable: true, replayedAt: null }),
        ),
      );
    });

    it("still signs with the secrets it gave out: v1 and respond.io's with the rotated secret, v1a with the same key, alerts too", async () => {
      const a = api("alerting");
      const b = api("limited");
      // Sent first, left out by the signed webhook's filter: nothing of it may arrive before the next one.
      await a.ok("POST", "/v1/events", { type: "message.received", data: { message: { traffic: "internal" } } });
      const signed = (await a.ok("POST", "/v1/events", { type: "message.received", data: { message: { traffic: "outgoing" } } })).id;
      const parallel = (await b.ok("POST", "/v1/events", { type: "message.sent", data: { message: { id: 100 } } })).id;
      // The receiver is new: everything in its buckets arrived after the upgrade.
      for (const [bucket, id] of [
        ["signed", signed],
        ["parallel", parallel],
      ] as const) {
        const fresh = await until(`${bucket}'s new delivery`, async () => {
          const got = await received(bucket);
          return got.length > 0 && got;
        });
        expect(fresh.map(eventIdOf)).toEqual([id]);
        expect(fresh[0]).toMatchObject({ standardValid: true, respondIoValid: true });
        const jwks = await (await fetch(`${service.url}/v1/webhooks/${m.webhooks[bucket].id}/jwks.json`)).json();
        const x = Buffer.from(m.webhooks[bucket].object.publicKey.slice("whpk_".length), "base64").toString("base64url");
        expect(jwks.keys.map((k: { x: string }) => k.x)).toContain(x);
        const v1a = await (
          await fetch(`${RECEIVER}/_control/${bucket}`, { method: "POST", body: JSON.stringify({ jwks, requests: fresh }) })
        ).json();
        expect(v1a.valid).toEqual([true]);
      }
      expect((await received("signed")).at(-1)!.headers).toMatchObject({ authorization: "Bearer receiver-token", "x-tenant": "acme" });
      await a.ok("POST", "/v1/workspace/alerts/test");
      expect((await received("alerts")).at(-1)).toMatchObject({ standardValid: true });
    });

    it("resumes the poll stream at its cursor, and acknowledges the rest", async () => {
      const { id } = m.webhooks.poll;
      const poll = client(service.url, m.poll.token);
      const ids = (page: { data: { event_id: string }[] }) => page.data.map((e) => e.event_id);
      expect(ids(await poll.ok("GET", `/v1/webhooks/${id}/poll?limit=250`))).toEqual(m.poll.unacknowledged);
      const page = await poll.ok("GET", `/v1/webhooks/${id}/poll?limit=250&cursor=${encodeURIComponent(m.poll.cursor)}`);
      expect(ids(page)).toEqual(m.poll.unacknowledged);
      await poll.ok("GET", `/v1/webhooks/${id}/poll?limit=250&cursor=${encodeURIComponent(page.nextCursor)}`);
      const log = await allDeliveries(api("alerting"), id);
      expect(log.map((d) => [d.eventId, d.status])).toEqual(m.events.poll.map((e: string) => [e, "delivered"]));
    });

    it(
      "delivers the retrying event and the ones it held, in order, with the first attempt kept",
      async () => {
        const a = api("alerting");
        const { id, deliveries } = m.webhooks.retrying;
        if (!retryingDue()) {
          // Its retry is still ahead: a user who does not want to wait turns the webhook off and on and recovers.
          await a.ok("POST", `/v1/webhooks/${id}/disable`);
          await a.ok("POST", `/v1/webhooks/${id}/enable`);
          reEnabled = true;
          await a.ok("POST", `/v1/webhooks/${id}/recover`, { since: deliveries[0].createdAt });
        }
        const log = await until(
          "the retrying webhook's three deliveries",
          async () => {
            const now = await allDeliveries(a, id);
            return now.every((d) => d.status === "delivered") && now;
          },
          DUE_MARGIN_MS + 180_000,
        );
        expect(log.map((d) => d.eventId)).toEqual(m.events.retrying);
        expect(log[0].attempts[0]).toEqual(deliveries[0].attempts[0]);
        const got = await received("retrying");
        expect(got.map(eventIdOf)).toEqual(m.events.retrying);
        expect(got.every((r) => r.standardValid && r.respondIoValid)).toBe(true);
      },
      DUE_MARGIN_MS + 240_000,
    );

    it("delivers what was dropped or skipped when a user retries or recovers it", async () => {
      const a = api("alerting");
      const keyed = m.webhooks.keyed;
      await a.ok("POST", `/v1/webhooks/${keyed.id}/deliveries/${m.events.keyed[0]}/retry`);
      const manual = m.webhooks.manual;
      await a.ok("POST", `/v1/webhooks/${manual.id}/enable`);
      await a.ok("POST", `/v1/webhooks/${manual.id}/recover`, { since: manual.deliveries[0].createdAt });
      await until("the retried and recovered deliveries", async () => {
        const [k, s] = [await allDeliveries(a, keyed.id), await allDeliveries(a, manual.id)];
        return k[0].status === "delivered" && k[1].status === "dropped" && s.every((d) => d.status === "delivered");
      });
      expect((await received("keyed")).map(eventIdOf)).toEqual([m.events.keyed[0]]);
      expect((await received("manual")).map(eventIdOf).sort()).toEqual([...m.events.manual].sort());
      // Nothing delivered above failed: the quota window holds the fixture's failures still, less the retrying
      // webhook's first one if it was turned off and on (an enabled webhook starts with a clean slate).
      const forgotten = reEnabled ? m.webhooks.retrying.deliveries[0].attempts.length : 0;
      expect((await a.ok("GET", "/v1/quota")).failures).toBe(m.quota.alerting.failures - forgotten);
    });

    it("replays a dead letter to the webhooks of its workspace", async () => {
      const [letter] = m.deadLetters;
      const replayed = await api("limited").ok("POST", `/v1/dead-letters/${letter.eventId}/replay`);
      expect(replayed.replayedAt).not.toBeNull();
      const arrived = await until("the replayed dead letter", async () =>
        (await received("parallel")).find((r) => eventIdOf(r) === letter.eventId),
      );
      expect(arrived).toMatchObject({ standardValid: true, respondIoValid: true });
    });
  },
);
