// The ENCRYPTION_KEYS the tests run with (vitest.config.ts and the `wrangler dev` the Node-side tests start): a key
// made once for the tests, never used anywhere else.
/** @type {string} */
export const TEST_ENCRYPTION_KEYS = "test1:" + "dGVzdC1vbmx5LWtleS0zMi1ieXRlcy1sb25nLi4uLi4=";
