// The sealing of stored secrets (src/lib/encryption.ts): any value comes back exactly, under any of several keys;
// an altered value, a retired key or a malformed ENCRYPTION_KEYS is refused, and the message never repeats a key.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config";
import { keyIdOf, open, parseKeys, reseal, seal, underCurrentKey } from "../../src/lib/encryption";

const keyOf = (id: string) => `${id}:${crypto.getRandomValues(new Uint8Array(32)).toBase64()}`;
const envOf = (...keys: string[]) => ({ ENCRYPTION_KEYS: keys.join(",") });
const [K1, K2, K3] = [keyOf("k1"), keyOf("k2"), keyOf("k_3")];

describe("sealing", () => {
  it("gives back any value exactly, sealed each time with a fresh IV under the first key", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: "binary", maxLength: 300 }), async (value) => {
        const env = envOf(K1, K2);
        const [a, b] = [await seal(env, value), await seal(env, value)];
        expect(a).not.toBe(b);
        expect(keyIdOf(a)).toBe("k1");
        if (value.length >= 8) expect(a).not.toContain(value);
        expect(await open(env, a)).toBe(value);
        expect(await open(env, b)).toBe(value);
      }),
      { numRuns: 200 },
    );
  });

  it("opens a value sealed under any key still listed, in any order, and under none other", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 64 }), fc.shuffledSubarray([K1, K2, K3], { minLength: 1 }), async (value, others) => {
        const sealed = await seal(envOf(K2), value);
        if (others.includes(K2)) expect(await open(envOf(...others), sealed)).toBe(value);
        else await expect(open(envOf(...others), sealed)).rejects.toThrow(/sealed with key "k2", which ENCRYPTION_KEYS no longer lists/);
      }),
      { numRuns: 60 },
    );
  });

  it("detects any change to a sealed value: one flipped bit of IV, ciphertext or tag, or another key id", async () => {
    const env = envOf(K1, K2);
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 100 }), fc.nat(), fc.integer({ min: 0, max: 7 }), async (value, at, bit) => {
        const sealed = await seal(env, value);
        const head = "enc:v1:k1:";
        const bytes = Uint8Array.fromBase64(sealed.slice(head.length));
        bytes[at % bytes.length]! ^= 1 << bit;
        await expect(open(env, head + bytes.toBase64())).rejects.toThrow();
        // The key id is authenticated too: the same bytes under another listed key's name do not open.
        await expect(open(env, `enc:v1:k2:${sealed.slice(head.length)}`)).rejects.toThrow();
      }),
      { numRuns: 100 },
    );
  });

  it("reads a value stored before sealing existed as it is, and counts it as not under the current key", async () => {
    const env = envOf(K1);
    expect(await open(env, "whsec_clear")).toBe("whsec_clear");
    expect(underCurrentKey(env, "whsec_clear")).toBe(false);
    const resealed = await reseal(env, "whsec_clear");
    expect(keyIdOf(resealed)).toBe("k1");
    expect(await open(env, resealed)).toBe("whsec_clear");
  });

  it("seals again under a new first key, and leaves a value already under it as it is", async () => {
    const old = await seal(envOf(K1), "whsec_rotate_me");
    const rotated = envOf(K2, K1);
    const again = await reseal(rotated, old);
    expect(keyIdOf(again)).toBe("k2");
    expect(await reseal(rotated, again)).toBe(again);
    expect(await open(envOf(K2), again)).toBe("whsec_rotate_me");
  });
});

describe("ENCRYPTION_KEYS", () => {
  it("is required, and its absence says how to make one", () => {
    for (const raw of [undefined, "", "  "]) {
      expect(() => parseKeys(raw)).toThrow(ConfigError);
      expect(() => parseKeys(raw)).toThrow(/ENCRYPTION_KEYS is not set.*randomBytes\(32\).*wrangler secret put ENCRYPTION_KEYS/);
    }
  });

  it("refuses any malformed entry without repeating it", () => {
    const bytes = (n: number) => crypto.getRandomValues(new Uint8Array(n)).toBase64();
    const bad = [
      `k1:${bytes(16)}`,
      `k1:${bytes(33)}`,
      `:${bytes(32)}`,
      bytes(32),
      `k 1:${bytes(32)}`,
      `k1:${bytes(32)}:x`,
      "k1:not base64!",
    ];
    for (const entry of bad) {
      const attempt = () => parseKeys(`${K1},${entry}`);
      expect(attempt).toThrow(ConfigError);
      expect(attempt).toThrow(/ENCRYPTION_KEYS entry 2 must be <key id>:<base64 of 32 random bytes>/);
      try {
        attempt();
      } catch (err) {
        expect((err as Error).message).not.toContain(entry.split(":").at(-1)!);
        expect((err as Error).message).not.toContain(K1.slice(3));
      }
    }
    expect(() => parseKeys(`${K1},${keyOf("k1")}`)).toThrow(/names key id "k1" twice/);
  });

  it("takes ids and keys with spaces around the commas, the first one current", () => {
    expect(parseKeys(` ${K2} , ${K1} `).map((k) => k.id)).toEqual(["k2", "k1"]);
  });
});
