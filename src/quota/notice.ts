// The notification emails (the early warning, the auto-disable): what they say, as pure functions of the facts.
// They go to an address the workspace chose, from the operator's domain, so they carry no text the workspace wrote
// (no name, no description, no endpoint's words): ids, counts, times and the service's own sentences, and the
// webhook's URL only once, quoted and marked as the workspace's.

/** The facts a notice is made of: no workspace name or webhook description, so no caller can put the workspace's words in one. */
export interface DisableNoticeInput {
  webhook: { id: string; url: string };
  limit: number;
  windowSeconds: number;
  failuresInWindow: number;
  recentFailures: { at: number; eventId: string; statusCode: number | null; error: string | null }[];
  disabledAt: number;
  /** PUBLIC_URL: when set, the email links to the webhook's settings page. */
  publicUrl?: string | null;
}

function duration(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600} hour${seconds === 3600 ? "" : "s"}`;
  if (seconds % 60 === 0) return `${seconds / 60} minute${seconds === 60 ? "" : "s"}`;
  return `${seconds} seconds`;
}

/**
 * What went wrong in an attempt, in the service's words only: an attempt's error may quote the endpoint (a
 * redirect's Location) or the URL, which are the workspace's text.
 */
export function failureKind(statusCode: number | null, error: string | null): string {
  if (error?.startsWith("timeout")) return "timeout";
  if (error?.startsWith("connection failed")) return "connection failed";
  if (error?.startsWith("url_not_allowed")) return "URL refused by the policy";
  if (error?.startsWith("redirect")) return `redirect (HTTP ${statusCode}) not followed`;
  if (error?.startsWith("reserved_header") || error?.startsWith("invalid request headers")) return "headers could not be sent";
  if (statusCode !== null) return `HTTP ${statusCode}`;
  return error === null ? "" : "failed";
}

/** The workspace's own text, quoted as data: JSON string syntax, so no line break or quote of its own survives. */
const quoted = (text: string) => JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text);

export function disableNotice(input: DisableNoticeInput): { subject: string; text: string } {
  const { webhook, limit, windowSeconds } = input;
  const lines = [
    `Your webhook ${webhook.id} was disabled at ${new Date(input.disabledAt).toISOString()}.`,
    `Its endpoint URL, as set by the workspace (quoted, not written by us): ${quoted(webhook.url)}`,
    "",
    `Why: the webhooks of this workspace had more than ${limit} failed delivery attempts within ${duration(windowSeconds)} ` +
      `(${input.failuresInWindow} failures), and this webhook's attempt was the one that went over the limit. ` +
      "A failed attempt is any answer other than 2xx within the timeout, a timeout, a connection error or a redirect.",
    "",
    "Its most recent failed attempts:",
    ...input.recentFailures.map((f) =>
      `  ${new Date(f.at).toISOString()}  ${f.eventId}  ${f.statusCode ?? "no response"}  ${failureKind(f.statusCode, f.error)}`.trimEnd(),
    ),
    "",
    'While it is disabled it receives nothing; its events are kept as "skipped", not lost.',
    "",
    "To re-enable it once the endpoint works again (its past failures then stop counting):",
    `  POST /v1/webhooks/${webhook.id}/enable`,
    "",
    "Then, to deliver the skipped and dropped events, in their original order (here: all since the start of the failure window):",
    `  POST /v1/webhooks/${webhook.id}/recover  {"since": "${new Date(input.disabledAt - windowSeconds * 1000).toISOString()}"}`,
    ...(input.publicUrl
      ? [
          "",
          "Or in the settings pages (Enable, then Recover since …):",
          `  ${input.publicUrl}/settings/integrations/webhooks/${encodeURIComponent(webhook.id)}`,
        ]
      : []),
  ];
  return { subject: `Webhook ${webhook.id} disabled after repeated failures`, text: lines.join("\n") };
}

export interface WarningNoticeInput {
  failures: number;
  limit: number;
  windowSeconds: number;
  at: number;
  publicUrl?: string | null;
}

/** The early warning: the window has reached 80% of the limit, before anything is disabled. */
export function warningNotice(input: WarningNoticeInput): { subject: string; text: string } {
  const lines = [
    `The webhooks of your workspace had ${input.failures} failed delivery attempts within ${duration(input.windowSeconds)} ` +
      `(as of ${new Date(input.at).toISOString()}).`,
    "",
    `Nothing is disabled yet. Past ${input.limit} failures in that time, the webhook whose failure goes over the limit is disabled ` +
      "automatically (its events are kept for recover). Check the endpoints that fail, or turn one off until it is fixed.",
    "",
    "The window: GET /v1/quota. A webhook's delivery log: GET /v1/webhooks/{id}/deliveries?status=pending",
    ...(input.publicUrl ? ["", "In the settings pages:", `  ${input.publicUrl}/settings/integrations/webhooks`] : []),
    "",
    "This warning is sent at most once per window.",
  ];
  return {
    subject: `Webhooks failing: ${input.failures} of ${input.limit} failed attempts allowed in ${duration(input.windowSeconds)}`,
    text: lines.join("\n"),
  };
}
