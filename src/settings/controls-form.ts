// The Advanced section of the webhook form: endpoint controls as text fields, and back to the API's shapes.
// Only the text is read here; every rule is the API's (its messages show next to the fields).
import { defaultMaxInFlight, type Ordering } from "../delivery/ordering";
import type { ApiProblem } from "./api-client";
import type { Webhook } from "./model";

export interface ControlsFormValues {
  rateLimitPerSecond: string;
  retryDelaysSeconds: string;
  /** One `Name: value` per line. */
  headers: string;
  /** A JSON object. */
  filter: string;
  /** "" for the default ("endpoint"), "key" or "none". */
  ordering: string;
  orderingKey: string;
  /** "" for the ordering's default. */
  maxInFlight: string;
  /** "" for the default ("fixed"), or "adaptive". */
  concurrency: string;
  /** Events per request; "" (and an empty wait) for no batches. */
  batchMaxEvents: string;
  /** "" for the default, 0 ms. */
  batchMaxWaitMs: string;
}

export const NO_CONTROLS: ControlsFormValues = {
  rateLimitPerSecond: "",
  retryDelaysSeconds: "",
  headers: "",
  filter: "",
  ordering: "",
  orderingKey: "",
  maxInFlight: "",
  concurrency: "",
  batchMaxEvents: "",
  batchMaxWaitMs: "",
};

export function controlsToForm(
  webhook: Pick<
    Webhook,
    | "rateLimitPerSecond"
    | "retryDelaysSeconds"
    | "headers"
    | "filter"
    | "ordering"
    | "orderingKey"
    | "maxInFlight"
    | "concurrency"
    | "batch"
  >,
): ControlsFormValues {
  return {
    ordering: webhook.ordering === "endpoint" ? "" : webhook.ordering,
    orderingKey: webhook.orderingKey ?? "",
    maxInFlight: webhook.maxInFlight === defaultMaxInFlight(webhook.ordering) ? "" : String(webhook.maxInFlight),
    concurrency: webhook.concurrency === "fixed" ? "" : webhook.concurrency,
    rateLimitPerSecond: webhook.rateLimitPerSecond === null ? "" : String(webhook.rateLimitPerSecond),
    retryDelaysSeconds: webhook.retryDelaysSeconds?.join(", ") ?? "",
    headers: Object.entries(webhook.headers)
      .map(([name, value]) => `${name}: ${value}`)
      .join("\n"),
    filter: Object.keys(webhook.filter).length === 0 ? "" : JSON.stringify(webhook.filter, null, 2),
    batchMaxEvents: webhook.batch ? String(webhook.batch.maxEvents) : "",
    batchMaxWaitMs: webhook.batch?.maxWaitMs ? String(webhook.batch.maxWaitMs) : "",
  };
}

/** A number where the text is one, else the text itself, so the API names what is wrong with it. */
const numberOrText = (text: string) => (/^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text);

/** Both empty: no batches. Otherwise what was typed, a left-out part absent, so the API names it (or its default applies). */
function batchOf(maxEvents: string, maxWaitMs: string): Record<string, unknown> | null {
  if (maxEvents === "" && maxWaitMs === "") return null;
  return {
    ...(maxEvents === "" ? {} : { maxEvents: numberOrText(maxEvents) }),
    ...(maxWaitMs === "" ? {} : { maxWaitMs: numberOrText(maxWaitMs) }),
  };
}

/**
 * The API body for the controls (empty fields reset them), and the problems of text that has no API shape: those
 * fields are left out of the body, every other field is in it, so the API can still judge them.
 */
export function formToControls(values: ControlsFormValues): { body: Record<string, unknown>; errors: ApiProblem[] } {
  const rate = values.rateLimitPerSecond.trim();
  const delays = values.retryDelaysSeconds.trim();
  const errors: ApiProblem[] = [];
  // An empty ordering is the default; an empty maxInFlight the chosen ordering's default; the key is sent only with "key".
  const ordering = (values.ordering.trim() || "endpoint") as Ordering;
  const inFlight = values.maxInFlight.trim();
  const body: Record<string, unknown> = {
    rateLimitPerSecond: rate === "" ? null : numberOrText(rate),
    retryDelaysSeconds:
      delays === ""
        ? null
        : delays
            .split(/[\s,]+/)
            .filter(Boolean)
            .map(numberOrText),
    ordering,
    orderingKey: ordering === "key" ? values.orderingKey.trim() || null : null,
    maxInFlight: inFlight === "" ? defaultMaxInFlight(ordering) : numberOrText(inFlight),
    // Sent as chosen: the API says when the ordering has no use for it.
    concurrency: values.concurrency.trim() || "fixed",
    batch: batchOf(values.batchMaxEvents.trim(), values.batchMaxWaitMs.trim()),
  };
  const lines: [string, string][] = [];
  for (const [i, line] of values.headers.split(/\r?\n/).entries()) {
    if (line.trim() === "") continue;
    const colon = line.indexOf(":");
    if (colon < 0) {
      errors.push({ code: "invalid_header", message: `line ${i + 1} needs the form Name: value`, param: "headers" });
      break;
    }
    lines.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  // fromEntries keeps every name an own key (even __proto__), so the API judges exactly what was typed.
  if (errors.length === 0) body.headers = Object.fromEntries(lines);
  if (values.filter.trim() === "") body.filter = {};
  else {
    try {
      body.filter = JSON.parse(values.filter);
    } catch {
      errors.push({ code: "invalid_filter", message: 'must be a JSON object such as {"message.traffic": "incoming"}', param: "filter" });
    }
  }
  return { body, errors };
}
