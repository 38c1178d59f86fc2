// A per-isolate memo of a pure function's results, for values that are the same every time they are worked out
// (a URL's verdict under a policy, an imported HMAC key). Emptied whole once it holds `max` entries: memory
// stays bounded and a hit does no bookkeeping.

export const MEMO_MAX_ENTRIES = 1000;

/** `cache`'s value for `key`, worked out by `compute` (and kept) when it has none. */
export function memoized<V>(cache: Map<string, V>, key: string, compute: () => V, max = MEMO_MAX_ENTRIES): V {
  let value = cache.get(key);
  if (value === undefined) {
    if (cache.size >= max) cache.clear();
    value = compute();
    cache.set(key, value);
  }
  return value;
}
