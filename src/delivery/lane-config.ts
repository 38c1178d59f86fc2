// What a lane needs to know about its webhook, versioned by the webhook's updatedAt.
import type { DisabledReason, WebhookRow } from "../db/schema";

export interface LaneConfig {
  webhookId: string;
  workspaceId: string;
  url: string;
  secret: string;
  /** The secret before the last rotation, which signs too until `previousSecretExpiresAt` (unix ms). */
  previousSecret: string | null;
  previousSecretExpiresAt: number | null;
  enabled: boolean;
  disabledReason: DisabledReason | null;
  /** The webhook's updatedAt (unix ms): a lane ignores a config older than the one it holds. */
  version: number;
}

export function laneConfigOf(row: WebhookRow): LaneConfig {
  return {
    webhookId: row.id,
    workspaceId: row.workspaceId,
    url: row.url,
    secret: row.secret,
    previousSecret: row.previousSecret ?? null,
    previousSecretExpiresAt: row.previousSecretExpiresAt?.getTime() ?? null,
    enabled: row.enabled,
    disabledReason: row.disabledReason ?? null,
    version: row.updatedAt.getTime(),
  };
}

/** Whether the previous secret of a rotation still signs at `now` (unix ms). */
export function inRotationGrace(previousSecretExpiresAt: number | null, now: number): previousSecretExpiresAt is number {
  return previousSecretExpiresAt !== null && now < previousSecretExpiresAt;
}

/** The secrets that sign at `now`: the current one, and the previous one while its rotation grace lasts. */
export function signingSecrets(
  lane: { secret: string; previousSecret: string | null; previousSecretExpiresAt: number | null },
  now: number,
): string[] {
  const { secret, previousSecret, previousSecretExpiresAt } = lane;
  return previousSecret && inRotationGrace(previousSecretExpiresAt, now) ? [secret, previousSecret] : [secret];
}

export function laneOf(namespace: DurableObjectNamespace<import("./endpoint-lane").EndpointLane>, webhookId: string) {
  return namespace.get(namespace.idFromName(webhookId));
}
