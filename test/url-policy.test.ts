// The endpoint URL rule as a pure function.
import { describe, expect, it } from "vitest";
import { checkEndpointUrl, isPrivateHost } from "../src/api/webhooks/url-policy";

describe("endpoint URL policy", () => {
  it("normalises an accepted URL", () => {
    expect(checkEndpointUrl("https://Hooks.Example.com:443/in?x=1", { allowPrivate: false })).toEqual({
      ok: true,
      url: "https://hooks.example.com/in?x=1",
    });
  });

  it.each([
    ["127.0.0.1", true],
    ["10.0.0.1", true],
    ["172.15.255.255", false],
    ["172.16.0.0", true],
    ["172.32.0.0", false],
    ["192.168.0.1", true],
    ["169.254.169.254", true],
    ["100.64.0.1", true],
    ["0.0.0.0", true],
    ["8.8.8.8", false],
    ["[::1]", true],
    ["[fe80::1]", true],
    ["[fc00::]", true],
    ["[fdff:ffff::1]", true],
    ["[2606:4700::1111]", false],
    ["[::ffff:a00:1]", true],
    ["localhost", true],
    ["LOCALHOST.", true],
    ["x.localhost", true],
    ["metadata.google.internal", true],
    ["example.com", false],
    ["localhost.example.com", false],
  ])("treats %s as private: %s", (host, expected) => {
    expect(isPrivateHost(host)).toBe(expected);
  });

  it("sees through numeric IPv4 spellings by parsing like a browser", () => {
    for (const url of ["https://0x7f.1/", "https://017700000001/", "https://127.1/"]) {
      expect(checkEndpointUrl(url, { allowPrivate: false })).toMatchObject({ ok: false, code: "private_url_not_allowed" });
    }
  });

  it("allows exactly 2048 characters", () => {
    const base = "https://example.com/";
    expect(checkEndpointUrl(base + "a".repeat(2048 - base.length), { allowPrivate: false }).ok).toBe(true);
    expect(checkEndpointUrl(base + "a".repeat(2049 - base.length), { allowPrivate: false })).toMatchObject({ code: "url_too_long" });
  });

  it("refuses non-web schemes even when private URLs are allowed", () => {
    for (const url of ["javascript:alert(1)", "file:///etc/passwd", "ws://127.0.0.1/"]) {
      expect(checkEndpointUrl(url, { allowPrivate: true }).ok).toBe(false);
    }
  });
});
