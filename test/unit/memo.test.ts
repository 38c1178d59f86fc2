// The per-isolate memo behind the URL verdict and HMAC key caches: worked out once per key, never more than
// `max` entries held, and worked out again once emptied.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { memoized } from "../../src/lib/memo";

describe("memoized", () => {
  it("works a key out once while it is held, holds at most max entries, and gives what compute gives", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 200 }), fc.integer({ min: 1, max: 8 }), (keys, max) => {
        const cache = new Map<string, string>();
        const computed: string[] = [];
        for (const k of keys) {
          const key = `k${k}`;
          const held = cache.has(key);
          const before = computed.length;
          expect(memoized(cache, key, () => (computed.push(key), `v${k}`), max)).toBe(`v${k}`);
          // Worked out exactly when it was not held.
          expect(computed.length - before).toBe(held ? 0 : 1);
          expect(cache.get(key)).toBe(`v${k}`);
          expect(cache.size).toBeLessThanOrEqual(max);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("empties the whole cache when full, then works keys out again", () => {
    const cache = new Map<string, number>();
    let calls = 0;
    for (let i = 0; i < 3; i++) memoized(cache, `k${i}`, () => ++calls, 3);
    expect(cache.size).toBe(3);
    expect(memoized(cache, "k0", () => ++calls, 3)).toBe(1);
    expect(calls).toBe(3);
    memoized(cache, "k3", () => ++calls, 3);
    expect([...cache.keys()]).toEqual(["k3"]);
    expect(memoized(cache, "k0", () => ++calls, 3)).toBe(5);
  });
});
