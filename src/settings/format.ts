// Plain wording for the pages: status labels, times and durations, event names. Pure, so it is tested alone.
import type { DisabledReason } from "../db/schema";
import { EVENT_CATALOG } from "../events/catalog";

const REASONS: Record<DisabledReason, string> = {
  failure_quota: "too many failures",
  gone: "endpoint answered 410",
  manual: "turned off",
};

export function disabledReasonLabel(reason: DisabledReason | null): string {
  return reason ? REASONS[reason] : "turned off";
}

/** `2026-11-21 19:14:03 UTC`: one unambiguous zone for everyone reading the same log. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** `30 minutes`, `1 hour`, `45 seconds`: the quota window as people say it. */
export function formatWindow(seconds: number): string {
  const unit = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  if (seconds % 3600 === 0) return unit(seconds / 3600, "hour");
  if (seconds % 60 === 0) return unit(seconds / 60, "minute");
  return unit(seconds, "second");
}

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

const NAMES = new Map(EVENT_CATALOG.map((e) => [e.type as string, e.name]));

/** respond.io's name for an event type, or the type itself when unknown. */
export function eventName(type: string): string {
  return NAMES.get(type) ?? type;
}

/**
 * The Recover field's text, a UTC time as the pages write times (`2026-11-21 10:00`, also with seconds, a `T`, or a
 * trailing `UTC`/`Z`), as the ISO 8601 the API takes; other text passes through for the API to judge.
 */
export function utcInputToIso(value: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2})(:\d{2}(?:\.\d+)?)?(?: ?UTC|Z)?$/i.exec(value.trim());
  return m ? `${m[1]}T${m[2]}${m[3] ?? ":00"}Z` : value;
}

/** The other way: an ISO time as the Recover field shows it, in UTC to the minute (`2026-11-21 10:00`). */
export function isoToUtcInput(iso: string): string {
  return new Date(iso).toISOString().slice(0, 16).replace("T", " ");
}

/** One attempt in a sentence's words: `HTTP 503 (…) in 212 ms`. */
export function attemptSummary(attempt: { statusCode: number | null; error: string | null; durationMs: number } | undefined): string {
  if (!attempt) return "no attempt was made";
  const what = attempt.statusCode === null ? (attempt.error ?? "no response") : `HTTP ${attempt.statusCode}`;
  const why = attempt.statusCode !== null && attempt.error ? ` (${attempt.error})` : "";
  return `${what}${why} in ${formatDuration(attempt.durationMs)}`;
}

/** How a webhook is named on the pages: its URL, or for a polling webhook (no URL) its id. */
export function webhookLabel(webhook: { id: string; url: string | null }): string {
  return webhook.url ?? `${webhook.id} (polled)`;
}
