// How a lane sends one attempt: its headers and secrets (opened once per config, secrets.ts), the secrets that sign
// now, the next event's signatures computed while a request is out, where the request goes out (the lane itself, or
// a sender), and the headers as sent sealed before the store keeps them.
import { readConfig } from "../../config";
import type { Env } from "../../env";
import { senderOf } from "../../bindings";
import { attemptTraceHeaders } from "../../events/trace";
import { seal, type Sealed } from "../../lib/encryption";
import { signersAt, signersKey, type Signers } from "../../lib/rotation";
import { inSpan } from "../../lib/spans";
import { attemptDelivery, type AttemptResult } from "../attempt";
import { OutgoingLimit } from "../outgoing-limit";
import { signatureHeaders } from "../signing";
import { challengeHeaders } from "../verification";
import { LaneSecrets } from "./secrets";
import type { EventRow, LaneRow, LaneStore } from "./store";

/** The trace context an event keeps (its row's columns): what each attempt's trace headers are made from. */
export type StoredTrace = Pick<EventRow, "traceparent" | "tracestate">;

/** An attempt's result with its headers as sent sealed: what the store keeps of them (last_headers). */
export type SentAttempt = AttemptResult & { sealedHeaders: Sealed };

export class LaneSending {
  /** The lane's own requests out (slot 0): at most 6, counted for the tests. */
  readonly outgoing = new OutgoingLimit();
  /**
   * The next event's signatures, computed while this attempt's request is out (the thread would wait on the
   * endpoint otherwise): used only by that event's attempt within the same second and with the same secrets
   * in force (a rotation in between discards it), so what is sent is exactly what signing at the attempt's
   * start would give: a signature covers only the secrets, the id, the second and the body.
   */
  private presigned: { eventId: string; second: number; secrets: string; signatures: Promise<Record<string, string>> } | undefined;

  constructor(
    /** The lane's env, read at each use (a test swaps it on a live instance, as a restart with new vars would). */
    private readonly envOf: () => Env,
    private readonly store: LaneStore,
    /** The lane's secrets and headers opened for the config in force. */
    readonly secrets: LaneSecrets = new LaneSecrets(envOf),
  ) {}

  /** The headers as sent, sealed (an attempt's headers carry the webhook's own and its signatures). */
  private async sealed(result: AttemptResult): Promise<SentAttempt> {
    return { ...result, sealedHeaders: await seal(this.envOf(), JSON.stringify(result.headers)) };
  }

  /** The signature headers of `body` as event `eventId` by `signers`, timestamped with the second of `now`. */
  private sign(signers: Signers, eventId: string, body: string, now: number) {
    return signatureHeaders({ ...signers, id: eventId, timestampSeconds: Math.floor(now / 1000), body });
  }

  /**
   * Each attempt is its own span in the event's trace: a new span id, retries too, and the event's tracestate. A
   * verification challenge also carries its `webhook-challenge` header (verification.ts).
   */
  private traced(
    lane: LaneRow,
    eventId: string,
    body: string,
    stored: StoredTrace,
    signatures: Record<string, string>,
    send: (sent: Record<string, string>) => Promise<AttemptResult>,
  ) {
    const { trace, headers } = attemptTraceHeaders(stored);
    const sent = { ...signatures, ...headers, ...challengeHeaders(eventId, body) };
    return inSpan(
      "webhook attempt",
      {
        "webhooks.trace_id": trace.traceId,
        "webhooks.span_id": trace.spanId,
        "webhooks.event_id": eventId,
        "webhooks.webhook_id": lane.webhook_id,
      },
      () => send(sent),
    );
  }

  /**
   * One signed POST of `body` to the lane's endpoint, with its own headers and the secrets that sign now, from
   * the lane itself. `head`, for an attempt of the line's head under the default ordering: while its request is
   * out the lane does what can wait for no answer (LaneStore.whileOut) and signs the event after it.
   */
  async attempt(lane: LaneRow, eventId: string, body: string, trace: StoredTrace, head?: EventRow): Promise<SentAttempt> {
    const pre = this.presigned;
    this.presigned = undefined;
    const opened = await this.secrets.of(lane);
    const now = Date.now();
    const secrets = signersAt(opened.keys, now);
    const fresh = pre && pre.eventId === eventId && pre.second === Math.floor(now / 1000) && pre.secrets === signersKey(secrets);
    const signatures = await (fresh ? pre.signatures : this.sign(secrets, eventId, body, now));
    const { deliveryTimeoutMs, allowPrivateUrls } = readConfig(this.envOf());
    const sending = this.traced(lane, eventId, body, trace, signatures, (sent) =>
      this.outgoing.run(() => attemptDelivery(lane.url, body, opened.headers, sent, deliveryTimeoutMs, { allowPrivateUrls })),
    ).then((result) => this.sealed(result));
    if (head) {
      // A timer, not a microtask: it runs once the runtime has sent the request, while the answer is awaited.
      setTimeout(() => {
        try {
          this.store.whileOut(head);
          const next = this.store.nextAfterHead(head);
          if (!next) return;
          const at = Date.now();
          const nextSecrets = signersAt(opened.keys, at);
          const signing = this.sign(nextSecrets, next.id, next.body, at);
          signing.catch(() => {});
          this.presigned = { eventId: next.id, second: Math.floor(at / 1000), secrets: signersKey(nextSecrets), signatures: signing };
        } catch (err) {
          // Nothing here is owed: storage still holds what was not written (delivered again, as after a crash).
          console.error(`lane ${lane.webhook_id}: work while a request was out failed:`, err);
        }
      }, 0);
    }
    return sending;
  }

  /**
   * One attempt from slot `slot`: 0 is the lane itself, n > 0 the webhook's sender n (endpoint-sender.ts), which
   * gets the request ready to send. A sender that cannot be reached is the service's failure (serviceFailure), not
   * the endpoint's.
   */
  async attemptFrom(slot: number, lane: LaneRow, eventId: string, body: string, trace: StoredTrace): Promise<SentAttempt> {
    if (slot === 0) return this.attempt(lane, eventId, body, trace);
    const opened = await this.secrets.of(lane);
    const now = Date.now();
    const signatures = await this.sign(signersAt(opened.keys, now), eventId, body, now);
    const { deliveryTimeoutMs, allowPrivateUrls } = readConfig(this.envOf());
    const { headers } = opened;
    const result = await this.traced(lane, eventId, body, trace, signatures, async (sent) => {
      try {
        // In the lane's jurisdiction: the payload passes through no object outside it.
        return await senderOf(this.envOf().ENDPOINT_SENDER, lane.webhook_id, slot, lane.data_location).send({
          url: lane.url,
          body,
          headers,
          signatures: sent,
          timeoutMs: deliveryTimeoutMs,
          allowPrivateUrls,
        });
      } catch (err) {
        // The service's failure, not the endpoint's answer (outcomes.ts ofParallel): logged as such, counted nowhere.
        const error = `service: sender ${slot} unavailable: ${(err as Error).message}`;
        const all = headers.ok ? { ...headers.headers, ...sent } : {};
        return {
          at: now,
          durationMs: Date.now() - now,
          statusCode: null,
          error,
          responseBody: null,
          headers: all,
          delivered: false,
          retryAfterMs: null,
          serviceFailure: true,
        };
      }
    });
    return this.sealed(result);
  }
}
