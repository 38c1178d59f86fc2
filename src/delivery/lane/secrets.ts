// A lane's secrets and headers opened for use (src/lib/encryption.ts): once per config, in memory only. Storage
// keeps them sealed as D1 handed them over; nothing opened here is written anywhere.
import type { Env } from "../../env";
import { assertEncryptionKeys, open, openHeaders, openNullable } from "../../lib/encryption";
import type { SigningKeys } from "../../lib/rotation";
import { requestHeaders, type RequestHeaders } from "../attempt";
import type { LaneRow } from "./schema";

export interface OpenedLane {
  /** The clear secrets and private keys, for signing and for judging a challenge's answer. */
  keys: SigningKeys;
  /** The webhook's own headers and the service's, as every attempt sends them. */
  headers: RequestHeaders;
}

async function openLane(env: Env, lane: LaneRow): Promise<OpenedLane> {
  // Checked first even when every value opens without a key (written before sealing existed): an attempt's headers
  // are sealed after it is sent, and a lane that could not seal them would send it again and again.
  assertEncryptionKeys(env);
  const [secret, previousSecret, signingKey, previousSigningKey, own] = await Promise.all([
    open(env, lane.secret),
    openNullable(env, lane.previous_secret),
    openNullable(env, lane.signing_key),
    openNullable(env, lane.previous_signing_key),
    openHeaders(env, lane.headers),
  ]);
  const headers = requestHeaders(own);
  if (headers.ok && headers.withheld.length > 0) {
    console.warn(`lane ${lane.webhook_id}: stored header(s) ${headers.withheld.join(", ")} are reserved now and are not sent`);
  }
  return {
    keys: { secret, previousSecret, previousSecretExpiresAt: lane.previous_secret_expires_at, signingKey, previousSigningKey },
    headers,
  };
}

export class LaneSecrets {
  /** The lane row is a new object after each config, so one opening serves exactly the attempts of that config. */
  private cached: { lane: LaneRow; opened: Promise<OpenedLane> } | undefined;

  constructor(private readonly envOf: () => Env) {}

  of(lane: LaneRow): Promise<OpenedLane> {
    if (this.cached?.lane !== lane) {
      const opened = openLane(this.envOf(), lane);
      const entry = { lane, opened };
      this.cached = entry;
      // A failure (a retired key) is not kept: the next attempt tries again, with whatever ENCRYPTION_KEYS is then.
      opened.catch(() => {
        if (this.cached === entry) this.cached = undefined;
      });
    }
    return this.cached.opened;
  }
}
