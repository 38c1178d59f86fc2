import type { JwkSet } from "./verify-v1a.d.mts";
export function verifyV1a(jwks: JwkSet, headers: Headers, body: string, toleranceSeconds?: number): Promise<boolean>;
