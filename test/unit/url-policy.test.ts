// The endpoint URL rule as a pure function.
import { describe, expect, it } from "vitest";
import { checkEndpointUrl, isPrivateHost } from "../../src/lib/url-policy";

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

  it.each([
    ["[::127.0.0.1]", "IPv4-compatible loopback"],
    ["[::7f00:1]", "the same, as the URL parser writes it"],
    ["[::8.8.8.8]", "IPv4-compatible, even of a public address (deprecated, no public use)"],
    ["[::ffff:0:10.0.0.1]", "IPv4-translated private"],
    ["[64:ff9b::127.0.0.1]", "NAT64 of loopback"],
    ["[64:ff9b::a9fe:a9fe]", "NAT64 of the metadata address"],
    ["[2002:7f00:1::]", "6to4 of loopback"],
    ["[2002:c0a8:101::1]", "6to4 of 192.168.1.1"],
    ["[::ffff:169.254.169.254]", "IPv4-mapped metadata address"],
    ["instance-data", "a name without a dot"],
    ["kubernetes", "a name without a dot"],
    ["instance-data.", "a name without a dot, with the root dot"],
  ])("treats %s as private (%s)", (host) => {
    expect(isPrivateHost(host)).toBe(true);
    expect(checkEndpointUrl(`https://${host}/hook`, { allowPrivate: false })).toMatchObject({ ok: false, code: "private_url_not_allowed" });
    expect(checkEndpointUrl(`https://${host}/hook`, { allowPrivate: true }).ok).toBe(true);
  });

  it("still accepts public names and the IPv4-mapped form of a public address", () => {
    for (const url of ["https://kubernetes.default.svc.example.com/", "https://[::ffff:8.8.8.8]/", "https://[2606:4700::1111]/"]) {
      expect(checkEndpointUrl(url, { allowPrivate: false })).toMatchObject({ ok: true });
    }
  });

  it.each([
    "kubernetes.default.svc",
    "api.cluster.local",
    "printer.local",
    "db.internal",
    "nas.home.arpa",
    "router.lan",
    "x.corp",
    "box.localdomain",
  ])("treats %s (a private-use suffix that only resolves inside a private network) as private", (host) => {
    expect(checkEndpointUrl(`https://${host}/`, { allowPrivate: false })).toMatchObject({ ok: false, code: "private_url_not_allowed" });
  });

  it.each([
    [" https://example.com/hooks"],
    ["https://example.com/hooks "],
    ["\thttps://example.com/hooks"],
    ["https://example.com/ho\noks"],
    ["https://example.com/hooks#section"],
    ["https://example.com/hooks#"],
  ])("refuses %j as invalid_url, also where private URLs are allowed", (input) => {
    for (const allowPrivate of [false, true]) {
      expect(checkEndpointUrl(input, { allowPrivate })).toMatchObject({ ok: false, code: "invalid_url" });
    }
  });

  it("refuses non-web schemes even when private URLs are allowed", () => {
    for (const url of ["javascript:alert(1)", "file:///etc/passwd", "ws://127.0.0.1/"]) {
      expect(checkEndpointUrl(url, { allowPrivate: true }).ok).toBe(false);
    }
  });
});
