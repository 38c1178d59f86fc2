import type { JwkSet } from "./verify-v1a.d.mts";
export function verifyV1a(jwks: JwkSet, headers: Record<string, string | undefined>, body: string, toleranceSeconds?: number): boolean;
