// How deeply a JSON value nests, measured without recursion, so no input can overflow the stack measuring it.

/**
 * Whether `value` nests objects and arrays (together) more than `max` levels deep: `{}` and `[]` are one level,
 * `{"a": [1]}` two. Walks with an explicit stack and stops at the first container past `max`.
 */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [node, depth] = item;
    if (node === null || typeof node !== "object") continue;
    if (depth > max) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (child !== null && typeof child === "object") stack.push([child, depth + 1]);
    }
  }
  return false;
}
