/** @jsxImportSource hono/jsx */
// One webhook: its settings and actions, its health, an event found by id with what was sent, its delivery log
// (filters, pages, attempts, Retry), "Recover since …", and the workspace's notification email.
import type { FC } from "hono/jsx";
import { EVENT_CATALOG } from "../../events/catalog";
import type { ApiProblem } from "../api-client";
import {
  AutoDisabledBanner,
  ErrorSummary,
  FieldError,
  fieldOf,
  invalidIf,
  QuotaMeter,
  WebhookActions,
  WebhookStatus,
  webhookPath,
} from "../components";
import { eventName, formatTime, webhookLabel } from "../format";
import { Layout, webhookCrumbs } from "../layout";
import type { DeliveryPage, DeliveryWithPayload, Quota, Stats, Webhook, Workspace } from "../model";
import { DeliveryLog, FoundDelivery, logHref, type LogFilters } from "./delivery-log";
import { HealthSection } from "./health";
import { SigningKeysSection } from "./signing-keys";
import type { Flash } from "../session";

export type { LogFilters } from "./delivery-log";

export interface DetailForms {
  /** A refused "Recover since" or notification email, with what was typed. */
  error?: ApiProblem | undefined;
  since?: string | undefined;
  notificationEmail?: string | undefined;
}

/**
 * How a push webhook delivers, in one line: its ordering and requests at once, batches, rate limit and retry
 * schedule (what the form's Advanced section sets; only what differs from the defaults besides the ordering).
 */
export function deliverySummary(webhook: Webhook): string {
  const parts = [
    webhook.ordering === "endpoint"
      ? "in order, one request at a time"
      : `${webhook.ordering === "key" ? `in order per ${webhook.orderingKey ?? "key"}` : "in no particular order"}, ${
          webhook.concurrency === "adaptive"
            ? `up to ${webhook.maxInFlight} requests at once, adaptive`
            : `up to ${webhook.maxInFlight} requests at once`
        }`,
  ];
  if (webhook.batch)
    parts.push(
      `batches of up to ${webhook.batch.maxEvents} events${webhook.batch.maxWaitMs > 0 ? `, waiting up to ${webhook.batch.maxWaitMs} ms to fill` : ""}`,
    );
  if (webhook.rateLimitPerSecond !== null) parts.push(`at most ${webhook.rateLimitPerSecond} per second`);
  if (webhook.retryDelaysSeconds !== null) parts.push(`retries after ${webhook.retryDelaysSeconds.map((d) => `${d} s`).join(", ")}`);
  return parts.join("; ");
}

/** A polling webhook has no attempts: where its consumer is instead. */
const PollSection: FC<{ webhookId: string; stats: Stats | undefined }> = ({ webhookId, stats }) => {
  const position = stats?.position;
  return (
    <section class="card" aria-labelledby="poll-title" id="health">
      <h2 id="poll-title">Polling</h2>
      <p>
        Its consumer reads <code>GET /v1/webhooks/{webhookId}/poll</code>; nothing is pushed.
      </p>
      {position ? (
        <dl>
          <dt>Last acknowledged</dt>
          <dd>
            {position.acknowledgedAt
              ? `${formatTime(position.acknowledgedAt)}${position.acknowledgedEventId ? ` (${position.acknowledgedEventId})` : ""}`
              : "never"}
          </dd>
          <dt>Waiting</dt>
          <dd>{position.waiting === 1 ? "1 event" : `${position.waiting} events`}</dd>
        </dl>
      ) : (
        <p class="muted">Its position could not be read just now.</p>
      )}
    </section>
  );
};

export const WebhookDetailPage: FC<{
  workspace: Workspace;
  webhook: Webhook;
  quota: Quota | undefined;
  log: DeliveryPage | ApiProblem;
  stats: Stats | undefined;
  period: string;
  /** An event id looked up with the search box, and what was found. */
  search?: { eventId: string; delivery: DeliveryWithPayload | undefined } | undefined;
  filters: LogFilters;
  forms: DetailForms;
  defaultSince: string;
  flash?: Flash | undefined;
  /** REQUIRE_ENDPOINT_VERIFICATION: whether the page shows the endpoint's verification and the Verify button. */
  verificationRequired?: boolean;
}> = ({ workspace, webhook, quota, log, stats, period, search, filters, forms, defaultSince, flash, verificationRequired = false }) => {
  const back = logHref(webhookPath(webhook.id), filters).replace(/#log$/, "");
  const error = forms.error;
  const invalid = (field: string) => invalidIf(error, field);
  // While something is on its way, the page looks again by itself (no script); a search or a refused form stays put.
  const pending = !("code" in log) && log.data.some((d) => d.status === "pending");
  const refresh = pending && !search && !error ? 15 : undefined;
  return (
    <Layout
      title={webhookLabel(webhook)}
      workspaceName={workspace.name}
      crumbs={webhookCrumbs({ label: webhookLabel(webhook) })}
      flash={flash}
      refreshSeconds={refresh}
    >
      <h1>
        <code>{webhookLabel(webhook)}</code>
      </h1>
      <ErrorSummary
        error={error}
        title={error && fieldOf(error) === "since" ? "Nothing was recovered" : "Nothing was saved"}
        fields={{
          since: { target: "since", label: "Recover since (UTC)" },
          notificationEmail: { target: "notificationEmail", label: "Notification email" },
        }}
      />
      <AutoDisabledBanner webhooks={[webhook]} quota={quota} workspace={workspace} back={back} />
      <section class="card" aria-labelledby="about-title">
        <h2 id="about-title" class="visually-hidden">
          Settings
        </h2>
        <p>
          <WebhookStatus webhook={webhook} />
        </p>
        {webhook.description && <p>{webhook.description}</p>}
        {webhook.delivery !== "poll" && <p>Delivery: {deliverySummary(webhook)}</p>}
        <p>
          Events:{" "}
          {webhook.events.map((t, i) => (
            <>
              {i > 0 && ", "}
              <span title={t}>{eventName(t)}</span>
            </>
          ))}
        </p>
        <WebhookActions webhook={webhook} back={back} test={false} />
        <form method="post" action={`${webhookPath(webhook.id)}/test`} class="row gap-top test-event">
          <input type="hidden" name="back" value={back} />
          {webhook.events.length > 1 ? (
            <>
              <label for="test-type">Test event</label>
              <select id="test-type" name="type">
                {webhook.events.map((t) => (
                  <option value={t}>{eventName(t)}</option>
                ))}
              </select>
            </>
          ) : (
            <input type="hidden" name="type" value={webhook.events[0] ?? ""} />
          )}
          <button type="submit" class="button">
            Send test event
          </button>
        </form>
      </section>

      {webhook.delivery === "poll" ? (
        <PollSection webhookId={webhook.id} stats={stats} />
      ) : (
        <>
          <SigningKeysSection webhook={webhook} verificationRequired={verificationRequired} back={back} />

          <HealthSection stats={stats} period={period} hrefFor={(p) => `${webhookPath(webhook.id)}?period=${p}#health`} />
        </>
      )}

      <form method="get" action={`${webhookPath(webhook.id)}#found`} class="row card search" role="search">
        <label for="event-search">Find an event by its id</label>
        <input
          id="event-search"
          name="event"
          type="search"
          placeholder="evt_01jd8x6m3q7v9c2k4n5p6r7s8t"
          value={search?.eventId ?? ""}
          spellcheck={false}
          autocomplete="off"
        />
        <button type="submit" class="button">
          Find
        </button>
      </form>
      {search && <FoundDelivery basePath={webhookPath(webhook.id)} search={search} back={back} />}

      <DeliveryLog
        basePath={webhookPath(webhook.id)}
        types={EVENT_CATALOG}
        log={log}
        filters={filters}
        back={back}
        ordering={webhook.ordering}
      />

      <section class="card" aria-labelledby="recover-title" id="recover">
        <h2 id="recover-title">Recover dropped and skipped events</h2>
        <p class="muted" id="since-hint">
          Sends every event that was dropped (all attempts failed) or skipped (the webhook was off) since this time again, in the order they
          were accepted. The webhook must be enabled. The time is in UTC, 24-hour, written like the log's times:{" "}
          <code>YYYY-MM-DD HH:MM</code>.
        </p>
        <form method="post" action={`${webhookPath(webhook.id)}/recover`} novalidate class="row">
          <input type="hidden" name="back" value={back} />
          <label for="since">Recover since (UTC)</label>
          <input
            id="since"
            name="since"
            type="text"
            inputmode="numeric"
            autocomplete="off"
            spellcheck={false}
            placeholder="2026-11-21 09:30"
            value={forms.since ?? defaultSince}
            aria-describedby={invalid("since") ? "since-hint since-error" : "since-hint"}
            aria-invalid={invalid("since")}
          />
          <button type="submit" class="button">
            Recover
          </button>
        </form>
        <FieldError id="since-error" error={error} field="since" />
      </section>

      <section class="card" aria-labelledby="email-title">
        <h2 id="email-title">Notification email</h2>
        <form method="post" action={`${webhookPath(webhook.id)}/notification-email`} novalidate>
          <input type="hidden" name="back" value={back} />
          <div class="field">
            <label for="notificationEmail">Email for auto-disable notices (whole workspace)</label>
            <p class="hint" id="notificationEmail-hint">
              Told when a webhook of this workspace is disabled automatically. Leave empty for no email. A new address is sent one
              confirmation message and receives nothing else until its owner confirms it.
            </p>
            <input
              id="notificationEmail"
              name="notificationEmail"
              type="email"
              autocomplete="email"
              value={forms.notificationEmail ?? workspace.notificationEmail ?? ""}
              aria-describedby={invalid("notificationEmail") ? "notificationEmail-hint notificationEmail-error" : "notificationEmail-hint"}
              aria-invalid={invalid("notificationEmail")}
            />
            <FieldError id="notificationEmail-error" error={error} field="notificationEmail" />
          </div>
          <button type="submit" class="button">
            Save email
          </button>
        </form>
        <EmailStatus workspace={workspace} back={back} action={`${webhookPath(webhook.id)}/notification-email/resend`} />
      </section>
      <QuotaMeter quota={quota} />
    </Layout>
  );
};

/** Whether the address receives notices yet, and (while it has not confirmed) a way to send the confirmation again. */
const EmailStatus: FC<{ workspace: Workspace; back: string; action: string }> = ({ workspace, back, action }) => {
  if (workspace.notificationEmailStatus === "none") return null;
  if (workspace.notificationEmailStatus === "confirmed") {
    return (
      <p class="hint" id="notificationEmail-status">
        Status: <strong>confirmed</strong>: notices go to {workspace.notificationEmail}.
      </p>
    );
  }
  return (
    <form method="post" action={action} class="row">
      <input type="hidden" name="back" value={back} />
      <p class="hint" id="notificationEmail-status">
        Status: <strong>waiting for confirmation</strong>: nothing but the confirmation message goes to {workspace.notificationEmail} until
        its owner follows that message's link.
      </p>
      <button type="submit" class="button">
        Resend confirmation
      </button>
    </form>
  );
};
