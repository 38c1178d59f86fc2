// What one workspace may create, store and send (docs/limits.md): every limit, its default and its meaning in one
// list, the overrides an operator sets per workspace, and the pure checks of a webhook's configuration against them.

/** Every per-workspace limit: its default and what it bounds (one list for the API, the pages and the docs). */
export const LIMITS = {
  webhooks: { default: 100, min: 0, max: 1_000, unit: "webhooks", meaning: "webhooks per workspace, push and poll together" },
  webhookConfigBytes: {
    default: 16 * 1024,
    min: 1024,
    max: 64 * 1024,
    unit: "bytes",
    meaning: "bytes of one webhook's configuration (url, description, events, filter and headers, as JSON)",
  },
  filterValueLength: { default: 256, min: 1, max: 4096, unit: "characters", meaning: "characters of one string in a webhook's filter" },
  testEventsPerMinute: { default: 10, min: 0, max: 1000, unit: "test events", meaning: "test events per webhook per minute" },
} as const;

export type LimitName = keyof typeof LIMITS;
export const LIMIT_NAMES = Object.keys(LIMITS) as LimitName[];
export type WorkspaceLimits = Record<LimitName, number>;
/** What D1 keeps per workspace: only the limits an operator changed; the rest follow the defaults. */
export type LimitOverrides = Partial<WorkspaceLimits>;

export const DEFAULT_LIMITS: Readonly<WorkspaceLimits> = Object.freeze(
  Object.fromEntries(LIMIT_NAMES.map((name) => [name, LIMITS[name].default])) as WorkspaceLimits,
);

/** A workspace's limits in force: its overrides over the defaults (an unknown or broken stored value is ignored). */
export function limitsOf(overrides: LimitOverrides | null | undefined): WorkspaceLimits {
  const limits = { ...DEFAULT_LIMITS };
  for (const name of LIMIT_NAMES) {
    const value = overrides?.[name];
    if (Number.isInteger(value)) limits[name] = value!;
  }
  return limits;
}

/** The overrides after a change: a number sets a limit, null returns it to the default. */
export function mergeOverrides(
  current: LimitOverrides | null | undefined,
  change: Partial<Record<LimitName, number | null>>,
): LimitOverrides {
  const next: LimitOverrides = { ...(current ?? {}) };
  for (const [name, value] of Object.entries(change) as [LimitName, number | null | undefined][]) {
    if (value === undefined) continue;
    if (value === null || value === LIMITS[name].default) delete next[name];
    else next[name] = value;
  }
  return next;
}

/** The fields whose JSON together is a webhook's configuration size. */
export interface SizedConfig {
  url: string;
  description: string;
  events: readonly string[];
  filter: Record<string, unknown>;
  headers: Record<string, string>;
}

const encoder = new TextEncoder();
const jsonBytes = (value: unknown) => encoder.encode(JSON.stringify(value)).byteLength;

export interface LimitProblem {
  limit: LimitName;
  /** The request field at fault (for a size: the largest field; for a filter value: `filter.<path>`). */
  param: string;
  message: string;
}

/** Whether a webhook's configuration fits `limits` (size as a whole, then each filter string); null when it does. */
export function configProblem(config: SizedConfig, limits: WorkspaceLimits): LimitProblem | null {
  const fields = {
    url: config.url,
    description: config.description,
    events: config.events,
    filter: config.filter,
    headers: config.headers,
  };
  const total = jsonBytes(fields);
  if (total > limits.webhookConfigBytes) {
    const [largest] = Object.entries(fields)
      .map(([field, value]) => [field, jsonBytes(value)] as const)
      .sort((a, b) => b[1] - a[1]);
    return {
      limit: "webhookConfigBytes",
      param: largest![0],
      message:
        `the webhook's configuration is ${total} bytes as JSON, over this workspace's limit of ${limits.webhookConfigBytes} ` +
        `(webhookConfigBytes); its largest field is ${largest![0]} (${largest![1]} bytes)`,
    };
  }
  for (const [path, value] of Object.entries(config.filter)) {
    for (const choice of Array.isArray(value) ? value : [value]) {
      if (typeof choice === "string" && choice.length > limits.filterValueLength) {
        return {
          limit: "filterValueLength",
          param: `filter.${path}`,
          message: `filter.${path}: a value of ${choice.length} characters is over this workspace's limit of ${limits.filterValueLength} (filterValueLength)`,
        };
      }
    }
  }
  return null;
}
