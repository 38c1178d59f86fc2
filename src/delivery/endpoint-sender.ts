// A stateless helper of a lane whose webhook has more requests in flight than one object may keep out (6):
// it makes one attempt as the lane prepared it (URL, body, headers, signatures) and returns what happened.
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { attemptDelivery, type AttemptResult, type RequestHeaders } from "./attempt";
import { OutgoingLimit } from "./outgoing-limit";

/** One attempt, prepared by the lane: everything the sender needs, nothing it must look up. */
export interface SendRequest {
  url: string;
  body: string;
  headers: RequestHeaders;
  signatures: Record<string, string>;
  timeoutMs: number;
  allowPrivateUrls: boolean;
}

export class EndpointSender extends DurableObject<Env> {
  /** Its own bound, whatever a lane believes: a restarted lane cannot know what its previous instance left out. */
  readonly outgoing = new OutgoingLimit();

  /** One attempt (attempt.ts: never throws, applies the URL policy in force). */
  async send(request: SendRequest): Promise<AttemptResult> {
    const { url, body, headers, signatures, timeoutMs, allowPrivateUrls } = request;
    return this.outgoing.run(() => attemptDelivery(url, body, headers, signatures, timeoutMs, { allowPrivateUrls }));
  }

  /** The most requests this sender ever had out at once, and how many are out now: for the tests. */
  async outgoingCount(): Promise<{ current: number; peak: number }> {
    return { current: this.outgoing.current, peak: this.outgoing.peak };
  }
}
