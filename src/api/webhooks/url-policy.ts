// Which endpoint URLs a webhook may point at: pure, so the rule is tested without the runtime.
import ipaddr from "ipaddr.js";
import type { ErrorCode } from "../errors";

export const MAX_URL_LENGTH = 2048;

export type UrlVerdict = { ok: true; url: string } | { ok: false; code: ErrorCode; message: string };

const BLOCKED_HOSTNAMES = ["localhost", "metadata.google.internal", "metadata"];

/**
 * Checks an endpoint URL. With `allowPrivate` (local development), plain http and
 * loopback/private addresses are accepted; otherwise only https to public hosts.
 */
export function checkEndpointUrl(input: string, { allowPrivate }: { allowPrivate: boolean }): UrlVerdict {
  if (input.length > MAX_URL_LENGTH) {
    return refuse("url_too_long", `url must be at most ${MAX_URL_LENGTH} characters, got ${input.length}`);
  }
  const url = URL.parse(input);
  if (!url || !/^[a-z][a-z0-9+.-]*:\/\//i.test(input.trim())) {
    return refuse("invalid_url", "url must be an absolute URL such as https://example.com/webhooks");
  }
  if (url.protocol !== "https:" && !(allowPrivate && url.protocol === "http:")) {
    return refuse(
      "url_scheme_not_allowed",
      allowPrivate ? "url must use https or http" : `url must use https, got ${url.protocol.slice(0, -1)}`,
    );
  }
  if (url.username || url.password) {
    return refuse("url_credentials_not_allowed", "url must not contain a username or password; use a secret path or header-free auth such as the signature");
  }
  if (!allowPrivate && isPrivateHost(url.hostname)) {
    return refuse(
      "private_url_not_allowed",
      `url points at a loopback, private, link-local or metadata address (${url.hostname}); only public hosts can receive webhooks`,
    );
  }
  return { ok: true, url: url.href };
}

function refuse(code: ErrorCode, message: string): UrlVerdict {
  return { ok: false, code, message };
}

/** True for names and literal addresses that are not public unicast destinations. */
export function isPrivateHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  if (BLOCKED_HOSTNAMES.includes(host) || host.endsWith(".localhost")) return true;
  const literal = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  if (!ipaddr.isValid(literal)) return false;
  let address = ipaddr.parse(literal);
  if (address.kind() === "ipv6") {
    const v6 = address as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) address = v6.toIPv4Address();
  }
  return address.range() !== "unicast";
}
