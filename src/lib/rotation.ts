// Secret rotation, the one rule for API and lanes: a rotated-out secret keeps signing beside the new one
// for a grace period, and which secrets sign at a given time.
import { newSigningSecret } from "./secrets";

/** How long the secret before a rotation keeps signing beside the new one. */
export const ROTATION_GRACE_MS = 24 * 60 * 60 * 1000;

export interface SigningKeys {
  secret: string;
  /** The secret before the last rotation, which signs too until `previousSecretExpiresAt` (unix ms). */
  previousSecret: string | null;
  previousSecretExpiresAt: number | null;
}

/** A new secret for a webhook whose secret is `current`, which keeps signing until the grace ends. */
export function rotate(current: string, now: number): { secret: string; previousSecret: string; previousSecretExpiresAt: number } {
  return { secret: newSigningSecret(), previousSecret: current, previousSecretExpiresAt: now + ROTATION_GRACE_MS };
}

/** Whether the previous secret of a rotation still signs at `now` (unix ms). */
export function inRotationGrace(previousSecretExpiresAt: number | null, now: number): previousSecretExpiresAt is number {
  return previousSecretExpiresAt !== null && now < previousSecretExpiresAt;
}

/** The secrets that sign at `now`: the current one, and the previous one while its rotation grace lasts. */
export function signingSecrets({ secret, previousSecret, previousSecretExpiresAt }: SigningKeys, now: number): string[] {
  return previousSecret && inRotationGrace(previousSecretExpiresAt, now) ? [secret, previousSecret] : [secret];
}
