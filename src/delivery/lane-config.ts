// What a lane needs to know about its webhook, versioned by the webhook's updatedAt.
import type { DataLocation } from "../bindings";
import type { DeliveryMode, DisabledReason, WebhookRow } from "../db/schema";
import type { SigningKeys } from "../lib/rotation";
import type { LaneKind } from "./lane/schema";

export interface LaneConfig extends SigningKeys {
  webhookId: string;
  workspaceId: string;
  url: string;
  enabled: boolean;
  disabledReason: DisabledReason | null;
  /** Endpoint controls the lane applies: attempts started per second, its own retry schedule, headers sent. */
  rateLimitPerSecond: number | null;
  retryDelaysSeconds: number[] | null;
  headers: Record<string, string>;
  /** When the endpoint at `url` was verified (docs/signatures.md); null while it is not. Absent: nothing to verify (alerts). */
  verifiedAt?: number | null;
  /** The webhook's updatedAt (unix ms): a lane ignores a config older than the one it holds. */
  version: number;
  /** What the lane delivers (schema.ts LaneKind); set when the lane is first written, default webhook. */
  kind?: LaneKind;
  /** The workspace's data location: the jurisdiction of the quota object the lane reports failures to. */
  dataLocation: DataLocation | null;
  /** push (default), or poll: the lane never attempts, its consumer reads the stream (poll.ts). */
  delivery?: DeliveryMode;
}

export function laneConfigOf(row: WebhookRow): LaneConfig {
  return {
    webhookId: row.id,
    workspaceId: row.workspaceId,
    url: row.url,
    secret: row.secret,
    previousSecret: row.previousSecret ?? null,
    previousSecretExpiresAt: row.previousSecretExpiresAt?.getTime() ?? null,
    signingKey: row.signingKey,
    previousSigningKey: row.previousSigningKey ?? null,
    verifiedAt: row.verifiedAt?.getTime() ?? null,
    enabled: row.enabled,
    disabledReason: row.disabledReason ?? null,
    rateLimitPerSecond: row.rateLimitPerSecond ?? null,
    retryDelaysSeconds: row.retryDelaysSeconds ?? null,
    headers: row.headers,
    version: row.updatedAt.getTime(),
    dataLocation: row.dataLocation ?? null,
    delivery: row.delivery,
  };
}
