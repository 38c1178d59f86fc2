// Plain wording for the pages: status labels, times and durations, event names. Pure, so it is tested alone.
import type { DisabledReason } from "../db/schema";
import type { Ordering } from "../delivery/ordering";
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

/** One attempt in a sentence's words: `HTTP 503 in 212 ms`, `HTTP 302 (redirect to … not followed) in 40 ms`. */
export function attemptSummary(attempt: { statusCode: number | null; error: string | null; durationMs: number } | undefined): string {
  if (!attempt) return "no attempt was made";
  const what = attempt.statusCode === null ? (attempt.error ?? "no response") : `HTTP ${attempt.statusCode}`;
  // "endpoint answered HTTP 401" only says the status again.
  const adds = attempt.statusCode !== null && attempt.error && attempt.error !== `endpoint answered HTTP ${attempt.statusCode}`;
  return `${what}${adds ? ` (${attempt.error})` : ""} in ${formatDuration(attempt.durationMs)}`;
}

/** `17:04:12 UTC`: a time of today's log, to the second. */
export function formatClock(iso: string): string {
  return `${new Date(iso).toISOString().slice(11, 19)} UTC`;
}

/** What a waiting delivery needs to know of the others on its page. */
type Waiting = { eventId: string; status: string; createdAt: string; nextAttemptAt: string | null; attempts: readonly unknown[] };

/**
 * Why a pending delivery has not gone out yet, in words: its own retry is scheduled, or it waits. Under the default
 * ordering (one request in flight, in order of acceptance) it waits behind an earlier event of the same webhook that
 * is being retried, or for its place in line; `page` is the log page it is shown in, and the event it waits behind
 * may be older than the page, then it is not named. Under `key` the log does not say which key an event has, so an
 * earlier event is not named: it waits for the earlier events of its own key and a free request slot. Under `none`
 * it waits for nothing but a free slot (docs/ordering.md).
 */
export function waitingReason(delivery: Waiting, page: readonly Waiting[], ordering: Ordering = "endpoint"): string | undefined {
  if (delivery.status !== "pending") return undefined;
  if (delivery.attempts.length > 0) {
    return delivery.nextAttemptAt ? `scheduled retry at ${formatClock(delivery.nextAttemptAt)}` : "retrying";
  }
  if (ordering === "none") return "sent as soon as a request slot is free (no order kept)";
  if (ordering === "key") return "waiting for the earlier events of its ordering key, then a free request slot";
  const accepted = Date.parse(delivery.createdAt);
  const retrying = page
    .filter((d) => d.status === "pending" && d.attempts.length > 0 && Date.parse(d.createdAt) <= accepted && d.eventId !== delivery.eventId)
    .toSorted((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt))[0];
  if (retrying) {
    const at = retrying.nextAttemptAt ? ` (retry at ${formatClock(retrying.nextAttemptAt)})` : "";
    return `waiting behind ${retrying.eventId}${at}`;
  }
  const ahead = page.filter((d) => d.status === "pending" && Date.parse(d.createdAt) < accepted).length;
  return ahead === 0 ? "next in line" : `in line behind ${ahead} earlier event${ahead === 1 ? "" : "s"}`;
}

/** How a webhook is named on the pages: its URL, or for a polling webhook (no URL) its id. */
export function webhookLabel(webhook: { id: string; url: string | null }): string {
  return webhook.url ?? `${webhook.id} (polled)`;
}
