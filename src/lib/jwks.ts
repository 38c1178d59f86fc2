// A webhook's public keys as a JWK Set (RFC 7517, Ed25519 per RFC 8037), each with a stable `kid`.

export interface Ed25519Jwk {
  kty: "OKP";
  crv: "Ed25519";
  /** The raw 32-byte public key, base64url without padding. */
  x: string;
  /** The key's RFC 7638 thumbprint: the same key always has the same kid. */
  kid: string;
  use: "sig";
  alg: "EdDSA";
}

/** The JWK of a `whpk_…` public key. */
export async function jwkOf(publicKey: string): Promise<Ed25519Jwk> {
  const x = Uint8Array.fromBase64(publicKey.replace(/^whpk_/, "")).toBase64({ alphabet: "base64url", omitPadding: true });
  // RFC 7638: SHA-256 of the required members, in lexicographic order, without whitespace.
  const thumbprint = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`{"crv":"Ed25519","kty":"OKP","x":"${x}"}`));
  return {
    kty: "OKP",
    crv: "Ed25519",
    x,
    kid: new Uint8Array(thumbprint).toBase64({ alphabet: "base64url", omitPadding: true }),
    use: "sig",
    alg: "EdDSA",
  };
}

/** The JWK Set of the given public keys, current first. */
export async function jwksOf(publicKeys: readonly string[]): Promise<{ keys: Ed25519Jwk[] }> {
  return { keys: await Promise.all(publicKeys.map(jwkOf)) };
}
