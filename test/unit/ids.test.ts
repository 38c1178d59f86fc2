// Ids draw their randomness from a pool (src/lib/ids.ts): still valid ULIDs, unique, and uniform.
import { isValid } from "ulidx";
import { describe, expect, it } from "vitest";
import { derivedEventId, newId, pooledRandom } from "../../src/lib/ids";

describe("ids", () => {
  it("are valid, distinct ULIDs across many pool refills", () => {
    const ids = Array.from({ length: 5_000 }, () => newId("evt"));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(isValid(id.slice(4).toUpperCase()), id).toBe(true);
  });

  it("draws values in [0, 1), spread evenly over 32 buckets", () => {
    const buckets = new Array<number>(32).fill(0);
    const n = 64_000;
    for (let i = 0; i < n; i++) {
      const x = pooledRandom();
      expect(x >= 0 && x < 1).toBe(true);
      buckets[Math.floor(x * 32)]!++;
    }
    // Chi-square with 31 degrees of freedom: above 70 happens by chance far less than once in 10,000 runs.
    const expected = n / 32;
    const chi = buckets.reduce((sum, b) => sum + (b - expected) ** 2 / expected, 0);
    expect(chi).toBeLessThan(70);
  });

  it("derives the same event id from the same parts, and another from other parts", async () => {
    const id = await derivedEventId("ws_1", "key");
    expect(id).toMatch(/^evt_[0-9a-f]{26}$/);
    expect(await derivedEventId("ws_1", "key")).toBe(id);
    expect(await derivedEventId("ws_1", "key2")).not.toBe(id);
  });
});
