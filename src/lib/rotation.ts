// Secret rotation, the one rule for API and lanes: a rotated-out secret (and Ed25519 key pair) keeps signing
// beside the new one for a grace period, and which of them sign at a given time.
import { newSigningKeyPair, newSigningSecret } from "./secrets";

/** How long the secret before a rotation keeps signing beside the new one. */
export const ROTATION_GRACE_MS = 24 * 60 * 60 * 1000;

export interface SigningKeys {
  secret: string;
  /** The secret before the last rotation, which signs too until `previousSecretExpiresAt` (unix ms). */
  previousSecret: string | null;
  previousSecretExpiresAt: number | null;
  /** The Ed25519 private key (`whsk_…`, secrets.ts) that signs `v1a`; null where there is none. */
  signingKey?: string | null;
  /** The private key before the last rotation: signs beside the new one for the same grace as previousSecret. */
  previousSigningKey?: string | null;
}

/** What signs at a given time: HMAC secrets and Ed25519 private keys, current first. */
export interface Signers {
  secrets: string[];
  signingKeys: string[];
}

/**
 * A new secret for a webhook whose secret is `current`, which keeps signing until the grace ends. The current one
 * moves over as it is stored (sealed, src/lib/encryption.ts); the new one comes clear, for its owner to seal.
 */
export function rotate<S extends string>(current: S, now: number): { secret: string; previousSecret: S; previousSecretExpiresAt: number } {
  return { secret: newSigningSecret(), previousSecret: current, previousSecretExpiresAt: now + ROTATION_GRACE_MS };
}

/** rotate, and a new key pair whose predecessor keeps signing `v1a` (and stays published) for the same grace. */
export async function rotateWithKeyPair<S extends string>(current: { secret: S; signingKey: S; publicKey: string }, now: number) {
  return {
    ...rotate(current.secret, now),
    ...(await newSigningKeyPair()),
    previousSigningKey: current.signingKey,
    previousPublicKey: current.publicKey,
  };
}

/** The public keys (`whpk_…`) published at `now`: the current one, and the previous one during a rotation's grace. */
export function publicKeysInForce(
  keys: { publicKey: string; previousPublicKey: string | null; previousSecretExpiresAt: number | null },
  now = Date.now(),
): string[] {
  return keys.previousPublicKey && inRotationGrace(keys.previousSecretExpiresAt, now)
    ? [keys.publicKey, keys.previousPublicKey]
    : [keys.publicKey];
}

/** Whether the previous secret of a rotation still signs at `now` (unix ms). */
export function inRotationGrace(previousSecretExpiresAt: number | null, now: number): previousSecretExpiresAt is number {
  return previousSecretExpiresAt !== null && now < previousSecretExpiresAt;
}

/** The secrets that sign at `now`: the current one, and the previous one while its rotation grace lasts. */
export function signingSecrets({ secret, previousSecret, previousSecretExpiresAt }: SigningKeys, now: number): string[] {
  return previousSecret && inRotationGrace(previousSecretExpiresAt, now) ? [secret, previousSecret] : [secret];
}

/** Everything that signs at `now`: the secrets (signingSecrets) and, by the same rule, the Ed25519 keys. */
export function signersAt(keys: SigningKeys, now: number): Signers {
  const grace = inRotationGrace(keys.previousSecretExpiresAt, now);
  const signingKeys = [keys.signingKey, grace ? keys.previousSigningKey : null].filter((k): k is string => !!k);
  return { secrets: signingSecrets(keys, now), signingKeys };
}

/** One string per set of signers, to tell whether two sets are the same. */
export function signersKey({ secrets, signingKeys }: Signers): string {
  return `${secrets.join(" ")}|${signingKeys.join(" ")}`;
}
