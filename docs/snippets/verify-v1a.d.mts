// Types of the two verification snippets (verify-v1a-node.mjs, verify-v1a-webcrypto.mjs) for the TypeScript tests.
export interface JwkSet {
  keys: JsonWebKey[];
}
