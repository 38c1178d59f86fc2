// A workspace's alertUrl under REQUIRE_ENDPOINT_VERIFICATION (this file's project, vitest.config.ts): verified the
// Standard Webhooks way with the alert secret before any alert goes there. The real receiver answers with the
// `standardwebhooks` library's own endpointVerificationResponse; one that echoes the body stays unverified.
import { createMessageBatch, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { alertLaneName } from "../../src/bindings";
import { toQueuedEvent } from "../../src/events/ingest";
import worker from "../../src/index";
import { call, createWorkspace, eventually } from "../support/helpers";
import { lane, settledLane } from "../support/lane";
import { captureLogs } from "../support/logs";
import { endpoint, type RecordedRequest } from "../support/receiver";

const logs = captureLogs();

const isChallenge = (r: RecordedRequest) => JSON.parse(r.body).event_type === "endpoint.verification";
const workspaceOf = async (key: string) => (await call("GET", "/v1/workspace", { key })).json;

/** A dead-lettered event: the workspace owes its alertUrl a dead_letter.created alert. */
async function deadLetter(workspaceId: string) {
  const event = await toQueuedEvent(workspaceId, { type: "comment.created", data: {} }, Date.now());
  await worker.queue(
    createMessageBatch("edge-webhooks-events-dlq", [{ id: `dlq-${crypto.randomUUID()}`, timestamp: new Date(), attempts: 1, body: event }]),
    env,
  );
  return event.id;
}

describe("alertUrl verification", () => {
  it("holds alerts until the alertUrl answers its challenge with the library's response; an echo verifies nothing", async () => {
    const ws = await createWorkspace();
    const alerts = endpoint();
    await alerts.program({ fallback: { status: 200, echo: true } });
    const set = await call("PATCH", "/v1/workspace", { key: ws.apiKey, body: { alertUrl: alerts.url } });
    expect(set.json.alertUrlVerifiedAt).toBeNull();
    const secret = set.json.alertSecret as string;
    const [challenge] = await alerts.waitFor(1);
    expect(isChallenge(challenge!)).toBe(true);
    expect(challenge!.headers["webhook-challenge"]).toBe(JSON.parse(challenge!.body).challenge);
    // Signed with the alert secret, like every alert.
    await alerts.program({ secrets: [secret], fallback: { status: 200, echo: true } });
    const alertLane = alertLaneName(ws.id);
    await settledLane(alertLane, (s) => s.events[0]?.attempt_count === 1);

    // The echo did not verify: an alert waits, and the test alert is refused.
    const deadId = await deadLetter(ws.id);
    expect(logs.warn).toEqual([expect.stringMatching(new RegExp(`^dead letter recorded: ${deadId} of ${ws.id} `))]);
    await settledLane(alertLane, (s) => s.events.some((e) => e.type === "dead_letter.created"));
    expect((await call("POST", "/v1/workspace/alerts/test", { key: ws.apiKey })).json.error.code).toBe("endpoint_unverified");
    expect((await workspaceOf(ws.apiKey)).alertUrlVerifiedAt).toBeNull();
    expect(await alerts.requests()).toHaveLength(1);

    // The retry is answered by the library with the alert secret: verified, and the held alert follows.
    await alerts.program({ secrets: [secret], fallback: { status: 200, answerChallenge: true } });
    await runDurableObjectAlarm(lane(alertLane));
    const got = await alerts.waitFor(3);
    expect(got.map(isChallenge)).toEqual([true, true, false]);
    expect(JSON.parse(got[2]!.body)).toMatchObject({ event_type: "dead_letter.created", eventId: deadId });
    expect(got[2]!.standardValid).toBe(true);
    const verified: string = await eventually(async () => (await workspaceOf(ws.apiKey)).alertUrlVerifiedAt ?? undefined);
    expect(Date.parse(verified)).toBeGreaterThanOrEqual(got[1]!.at - 1000);
    expect((await call("POST", "/v1/workspace/alerts/test", { key: ws.apiKey })).status).toBe(200);
  });

  it("a new alertUrl starts unverified and gets its own challenge; an answer made with another secret does not verify", async () => {
    const ws = await createWorkspace();
    const first = endpoint();
    const set = await call("PATCH", "/v1/workspace", { key: ws.apiKey, body: { alertUrl: first.url } });
    const secret = set.json.alertSecret as string;
    await first.waitFor(1);
    const second = endpoint();
    const other = "whsec_C2FtcGxlLXNlY3JldC1mb3ItdGVzdHMtb25seQ==";
    await second.program({ secrets: [secret], fallback: { status: 200, answerChallenge: { secret: other } } });
    const moved = await call("PATCH", "/v1/workspace", { key: ws.apiKey, body: { alertUrl: second.url } });
    expect(moved.json.alertUrlVerifiedAt).toBeNull();
    const [challenge] = await second.waitFor(1);
    expect(challenge!.standardValid).toBe(true);
    const [judged] = (
      await settledLane(alertLaneName(ws.id), (s) => s.events.some((e) => e.attempt_count === 1 && e.status === "pending"))
    ).events.filter((e) => e.status === "pending");
    expect(judged!.first_error).toBe("the response's webhook-challenge-response does not match the signing secret");
    expect((await workspaceOf(ws.apiKey)).alertUrlVerifiedAt).toBeNull();

    // Its retries fail too, then it is dropped; retrying it from the alerts log sends a new challenge, which verifies.
    const alertLane = alertLaneName(ws.id);
    for (let n = 2; n <= 4; n++) {
      await runDurableObjectAlarm(lane(alertLane));
      await second.waitFor(n);
    }
    await settledLane(alertLane, (s) => s.events.some((e) => e.id === judged!.id && e.status === "dropped"));
    await second.program({ secrets: [secret], fallback: { status: 200, answerChallenge: true } });
    const retried = await call("POST", `/v1/workspace/alerts/${judged!.id}/retry`, { key: ws.apiKey });
    expect(retried.status).toBe(202);
    expect(await eventually(async () => (await workspaceOf(ws.apiKey)).alertUrlVerifiedAt ?? undefined)).toEqual(expect.any(String));
    expect(isChallenge((await second.waitFor(5))[4]!)).toBe(true);
  });
});
