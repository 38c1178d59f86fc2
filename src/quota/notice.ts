// The auto-disable email: what it says, as a pure function of the facts.

export interface DisableNoticeInput {
  workspaceName: string;
  webhook: { id: string; url: string; description: string };
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

export function disableNotice(input: DisableNoticeInput): { subject: string; text: string } {
  const { webhook, limit, windowSeconds } = input;
  const lines = [
    `Your webhook ${webhook.url} (${webhook.id}${webhook.description ? `, "${webhook.description}"` : ""}) in workspace "${input.workspaceName}" was disabled at ${new Date(input.disabledAt).toISOString()}.`,
    "",
    `Why: the webhooks of this workspace had more than ${limit} failed delivery attempts within ${duration(windowSeconds)} ` +
      `(${input.failuresInWindow} failures), and this webhook's attempt was the one that went over the limit. ` +
      "A failed attempt is any answer other than 2xx within the timeout, a timeout, a connection error or a redirect.",
    "",
    "Its most recent failed attempts:",
    ...input.recentFailures.map(
      (f) => `  ${new Date(f.at).toISOString()}  ${f.eventId}  ${f.statusCode ?? "no response"}  ${f.error ?? ""}`.trimEnd(),
    ),
    "",
    "While it is disabled it receives nothing; its events are kept as \"skipped\", not lost.",
    "",
    "To re-enable it once the endpoint works again (its past failures then stop counting):",
    `  POST /v1/webhooks/${webhook.id}/enable`,
    "",
    "Then, to deliver the skipped and dropped events, in their original order (here: all since the start of the failure window):",
    `  POST /v1/webhooks/${webhook.id}/recover  {"since": "${new Date(input.disabledAt - windowSeconds * 1000).toISOString()}"}`,
    ...(input.publicUrl
      ? ["", "Or in the settings pages (Enable, then Recover since …):", `  ${input.publicUrl}/settings/integrations/webhooks/${encodeURIComponent(webhook.id)}`]
      : []),
  ];
  return { subject: `Webhook disabled after repeated failures: ${webhook.url}`, text: lines.join("\n") };
}
