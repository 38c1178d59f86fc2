// Whether a request's URL has a percent-escape that does not decode (`%ZZ`, a lone `%`, bytes that are not UTF-8):
// such a URL is refused with 400 before any route sees it, so no handler meets a string it cannot decode.

/** The escape that does not decode in `url`'s path or query, or undefined when every one does. */
export function malformedEscape(url: string): string | undefined {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start === -1) return undefined;
  const hash = url.indexOf("#", start);
  const rest = hash === -1 ? url.slice(start) : url.slice(start, hash);
  if (!rest.includes("%")) return undefined;
  try {
    decodeURIComponent(rest);
    return undefined;
  } catch {
    // Name the first escape that fails on its own, or else the first escape (a UTF-8 sequence cut short).
    const escapes = rest.match(/%[0-9A-Fa-f]{2}(?:%[0-9A-Fa-f]{2})*|%.{0,2}/g) ?? [];
    for (const sequence of escapes) {
      try {
        decodeURIComponent(sequence);
      } catch {
        return sequence.slice(0, 12);
      }
    }
    return escapes[0] ?? "%";
  }
}
