// Which endpoint URLs a webhook may point at: pure, so the rule is tested without the runtime. The API checks it
// when a webhook is written, the lane before every attempt.
import ipaddr from "ipaddr.js";

export const MAX_URL_LENGTH = 2048;

/** The API error codes a refusal answers with (each is in the API's ERROR_CODES). */
export type UrlRefusalCode =
  | "invalid_url"
  | "url_too_long"
  | "url_scheme_not_allowed"
  | "url_credentials_not_allowed"
  | "private_url_not_allowed";

export type UrlVerdict = { ok: true; url: string } | { ok: false; code: UrlRefusalCode; message: string };

const BLOCKED_HOSTNAMES = ["localhost", "metadata.google.internal", "metadata"];
/** Suffixes that are never delegated publicly (RFC 6761/6762/8375, ICANN's .internal, Kubernetes' cluster names, common LAN habits). */
const PRIVATE_SUFFIXES = [
  "localhost",
  "local",
  "internal",
  "home.arpa",
  "svc",
  "lan",
  "home",
  "corp",
  "localdomain",
  "intranet",
  "private",
];

/**
 * Checks an endpoint URL. With `allowPrivate` (local development), plain http and
 * loopback/private addresses are accepted; otherwise only https to public hosts.
 * White space, control characters and a `#fragment` are refused whatever `allowPrivate` says:
 * what is stored must be exactly what was sent, and a fragment is never sent to a server.
 */
export function checkEndpointUrl(input: string, { allowPrivate }: { allowPrivate: boolean }): UrlVerdict {
  if (input.length > MAX_URL_LENGTH) {
    return refuse("url_too_long", `url must be at most ${MAX_URL_LENGTH} characters, got ${input.length}`);
  }
  if (/[\s\x00-\x1f\x7f]/.test(input)) {
    return refuse("invalid_url", "url must not contain white space or control characters (none before, after or inside it)");
  }
  if (input.includes("#")) {
    return refuse("invalid_url", "url must not contain a #fragment: it is never sent to the endpoint");
  }
  const url = URL.parse(input);
  if (!url || !/^[a-z][a-z0-9+.-]*:\/\//i.test(input)) {
    return refuse("invalid_url", "url must be an absolute URL such as https://example.com/webhooks");
  }
  if (url.protocol !== "https:" && !(allowPrivate && url.protocol === "http:")) {
    return refuse(
      "url_scheme_not_allowed",
      allowPrivate ? "url must use https or http" : `url must use https, got ${url.protocol.slice(0, -1)}`,
    );
  }
  if (url.username || url.password) {
    return refuse(
      "url_credentials_not_allowed",
      "url must not contain a username or password; use a secret path or header-free auth such as the signature",
    );
  }
  if (!allowPrivate && isPrivateHost(url.hostname)) {
    return refuse(
      "private_url_not_allowed",
      `url points at a loopback, private, link-local or metadata address, or a name that only resolves inside a private network (${url.hostname}); only public hosts can receive webhooks`,
    );
  }
  return { ok: true, url: url.href };
}

function refuse(code: UrlRefusalCode, message: string): UrlVerdict {
  return { ok: false, code, message };
}

/**
 * The IPv4 address an IPv6 one carries, for the forms that route to it: IPv4-compatible (::a.b.c.d, deprecated),
 * IPv4-mapped (::ffff:a.b.c.d), IPv4-translated (::ffff:0:a.b.c.d), NAT64 (64:ff9b::a.b.c.d) and 6to4 (2002:aabb:ccdd::).
 */
function embeddedIPv4(v6: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const p = v6.parts;
  const v4 = (hi: number, lo: number) => new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
  const zeros = (from: number, to: number) => p.slice(from, to).every((x) => x === 0);
  if (zeros(0, 5) && (p[5] === 0 || p[5] === 0xffff)) return v4(p[6]!, p[7]!);
  if (zeros(0, 4) && p[4] === 0xffff && p[5] === 0) return v4(p[6]!, p[7]!);
  if (p[0] === 0x64 && p[1] === 0xff9b && zeros(2, 6)) return v4(p[6]!, p[7]!);
  if (p[0] === 0x2002) return v4(p[1]!, p[2]!);
  return undefined;
}

/** True for names and literal addresses that are not public unicast destinations. */
export function isPrivateHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  if (BLOCKED_HOSTNAMES.includes(host) || PRIVATE_SUFFIXES.some((suffix) => host.endsWith(`.${suffix}`))) return true;
  const literal = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  // A name without a dot (instance-data, kubernetes) only resolves through a private network's search domains.
  if (!ipaddr.isValid(literal)) return !host.includes(".");
  // The URL parser's spelling of an IPv6 literal (::7f00:1 for ::127.0.0.1): ipaddr.js reads the dotted tail of ::a.b.c.d as mapped.
  const address = ipaddr.parse(literal.includes(":") ? (URL.parse(`http://[${literal}]/`)?.hostname.slice(1, -1) ?? literal) : literal);
  if (address.kind() === "ipv4") return address.range() !== "unicast";
  const v6 = address as ipaddr.IPv6;
  const v4 = embeddedIPv4(v6);
  if (!v4) return v6.range() !== "unicast";
  // IPv4-compatible addresses (::/96) are deprecated and have no public use: refused whatever they carry.
  if (v6.parts.slice(0, 6).every((x) => x === 0)) return true;
  // Otherwise judged by the IPv4 address they lead to; only the mapped form of a public one is accepted, as before.
  return v4.range() !== "unicast" || v6.range() !== "ipv4Mapped";
}
