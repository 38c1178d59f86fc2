/** @jsxImportSource hono/jsx */
// One webhook: its settings and actions, its health, an event found by id with what was sent, its delivery log
// (filters, pages, attempts, Retry), "Recover since …", and the workspace's notification email.
import type { FC } from "hono/jsx";
import { EVENT_CATALOG } from "../../events/catalog";
import type { ApiError } from "../api-client";
import { ActionButton, AutoDisabledBanner, FieldError, fieldOf, QuotaMeter, WebhookActions, WebhookStatus, webhookPath } from "../components";
import { eventName, formatDuration, formatTime } from "../format";
import { Layout, webhookCrumbs } from "../layout";
import { DELIVERY_STATUSES, type Delivery, type DeliveryPage, type DeliveryWithPayload, type Quota, type Stats, type Webhook, type Workspace } from "../model";
import { HealthSection } from "./health";
import type { Flash } from "../session";

export interface LogFilters {
  status?: string | undefined;
  type?: string | undefined;
  cursor?: string | undefined;
}

export interface DetailForms {
  /** A refused "Recover since" or notification email, with what was typed. */
  error?: ApiError | undefined;
  since?: string | undefined;
  notificationEmail?: string | undefined;
}

function logHref(webhookId: string, filters: LogFilters): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(filters)) if (v) params.set(k, v);
  const qs = params.toString();
  return `${webhookPath(webhookId)}${qs ? `?${qs}` : ""}#log`;
}

const DeliveryItem: FC<{ webhook: Webhook; delivery: Delivery; back: string; open?: boolean }> = ({ webhook, delivery, back, open }) => {
  const last = delivery.attempts.at(-1);
  return (
    <details class="delivery" data-event-id={delivery.eventId} open={open}>
      <summary>
        <span class={`badge ${delivery.status}`}>{delivery.status}</span>
        <strong>{eventName(delivery.type)}</strong>
        {delivery.test && <span class="badge test">test</span>}
        <code class="muted">{delivery.eventId}</code>
        <span class="muted">
          <time datetime={delivery.createdAt}>{formatTime(delivery.createdAt)}</time>
        </span>
        <span class="muted">
          {delivery.attempts.length} attempt{delivery.attempts.length === 1 ? "" : "s"}
          {last && ` · last: ${last.statusCode === null ? "no response" : `HTTP ${last.statusCode}`}, ${formatDuration(last.durationMs)}`}
        </span>
      </summary>
      <div>
        <p class="muted meta">
          Type <code>{delivery.type}</code>
          {delivery.deliveredAt && (
            <>
              {" "}
              · delivered <time datetime={delivery.deliveredAt}>{formatTime(delivery.deliveredAt)}</time>
            </>
          )}
          {delivery.nextAttemptAt && (
            <>
              {" "}
              · next attempt <time datetime={delivery.nextAttemptAt}>{formatTime(delivery.nextAttemptAt)}</time>
            </>
          )}
        </p>
        {delivery.attempts.length === 0 ? (
          <p>No attempt yet.</p>
        ) : (
          <table class="attempts">
            <caption class="visually-hidden">Attempts of {delivery.eventId}</caption>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Time</th>
                <th scope="col">Status code</th>
                <th scope="col">Duration</th>
                <th scope="col">Error</th>
                <th scope="col">Response</th>
              </tr>
            </thead>
            <tbody>
              {delivery.attempts.map((attempt, i) => (
                <tr>
                  <td data-label="#">{i + 1}</td>
                  <td data-label="Time">
                    <time datetime={attempt.at}>{formatTime(attempt.at)}</time>
                  </td>
                  <td data-label="Status code">{attempt.statusCode ?? "—"}</td>
                  <td data-label="Duration">{formatDuration(attempt.durationMs)}</td>
                  <td data-label="Error">{attempt.error ?? "—"}</td>
                  <td data-label="Response">{attempt.responseBody ? <pre>{attempt.responseBody}</pre> : "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <p>
          <a href={`${webhookPath(webhook.id)}?event=${encodeURIComponent(delivery.eventId)}#found`}>What was sent</a>
        </p>
        {delivery.status !== "pending" && (
          <div class="row gap-top">
            <ActionButton
              action={`${webhookPath(webhook.id)}/deliveries/${encodeURIComponent(delivery.eventId)}/retry`}
              back={back}
              label="Retry"
              accessibleLabel={`Retry ${delivery.eventId}`}
            />
          </div>
        )}
      </div>
    </details>
  );
};

const DeliveryLog: FC<{ webhook: Webhook; log: DeliveryPage | ApiError; filters: LogFilters; back: string }> = ({ webhook, log, filters, back }) => (
  <section aria-labelledby="log-title" id="log">
    <h2 id="log-title">Delivery log</h2>
    <form method="get" action={`${webhookPath(webhook.id)}#log`} class="filters card">
      <div class="field">
        <label for="filter-status">Status</label>
        <select id="filter-status" name="status">
          <option value="">All</option>
          {DELIVERY_STATUSES.map((s) => (
            <option value={s} selected={filters.status === s}>
              {s}
            </option>
          ))}
        </select>
      </div>
      <div class="field">
        <label for="filter-type">Event type</label>
        <select id="filter-type" name="type">
          <option value="">All</option>
          {EVENT_CATALOG.map((e) => (
            <option value={e.type} selected={filters.type === e.type}>
              {e.name}
            </option>
          ))}
        </select>
      </div>
      <button type="submit" class="button">
        Filter
      </button>
      {(filters.status || filters.type) && (
        <a class="button" href={logHref(webhook.id, {})}>
          Clear
        </a>
      )}
    </form>
    {"code" in log ? (
      <p class="flash error" role="alert">
        The delivery log could not be read: {log.message}
      </p>
    ) : log.data.length === 0 ? (
      <p class="card muted">
        {filters.status || filters.type || filters.cursor ? "No deliveries match." : "No deliveries yet. Send a test event to see one here."}
      </p>
    ) : (
      <>
        <div class="log">
          {log.data.map((delivery) => (
            <DeliveryItem webhook={webhook} delivery={delivery} back={back} />
          ))}
        </div>
        <nav class="pager" aria-label="Delivery log pages">
          {filters.cursor && <a href={logHref(webhook.id, { status: filters.status, type: filters.type })}>Newest</a>}
          {log.nextCursor && (
            <a href={logHref(webhook.id, { status: filters.status, type: filters.type, cursor: log.nextCursor })} rel="next">
              Older deliveries
            </a>
          )}
        </nav>
      </>
    )}
  </section>
);

/** One delivery found by its event id: its attempts, and exactly what the endpoint got (body and headers of the last attempt). */
const FoundDelivery: FC<{ webhook: Webhook; search: { eventId: string; delivery: DeliveryWithPayload | undefined }; back: string }> = ({
  webhook,
  search,
  back,
}) => (
  <section class="card" aria-labelledby="found-title" id="found">
    <h2 id="found-title">
      Event <code>{search.eventId}</code>
    </h2>
    {!search.delivery ? (
      <p>This webhook has no delivery of that event (it may be another webhook's, filtered out, or past retention).</p>
    ) : (
      <>
        <DeliveryItem webhook={webhook} delivery={search.delivery} back={back} open />
        <details open>
          <summary>Body sent</summary>
          <pre class="payload">{JSON.stringify(search.delivery.payload, null, 2)}</pre>
        </details>
        <details>
          <summary>Headers of the last attempt</summary>
          {search.delivery.headers ? (
            <table class="headers">
              <caption class="visually-hidden">Headers sent with the last attempt of {search.delivery.eventId}</caption>
              <tbody>
                {Object.entries(search.delivery.headers).map(([name, value]) => (
                  <tr>
                    <th scope="row">
                      <code>{name}</code>
                    </th>
                    <td>
                      <code>{value}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p>No attempt yet.</p>
          )}
        </details>
      </>
    )}
  </section>
);

export const WebhookDetailPage: FC<{
  workspace: Workspace;
  webhook: Webhook;
  quota: Quota | undefined;
  log: DeliveryPage | ApiError;
  stats: Stats | undefined;
  period: string;
  /** An event id looked up with the search box, and what was found. */
  search?: { eventId: string; delivery: DeliveryWithPayload | undefined } | undefined;
  filters: LogFilters;
  forms: DetailForms;
  defaultSince: string;
  flash?: Flash | undefined;
}> = ({ workspace, webhook, quota, log, stats, period, search, filters, forms, defaultSince, flash }) => {
  const back = logHref(webhook.id, filters).replace(/#log$/, "");
  const error = forms.error;
  const invalid = (field: string) => (error && fieldOf(error) === field ? "true" : undefined);
  // While something is on its way, the page looks again by itself (no script); a search or a refused form stays put.
  const pending = !("code" in log) && log.data.some((d) => d.status === "pending");
  const refresh = pending && !search && !error ? 15 : undefined;
  return (
    <Layout title={webhook.url} workspaceName={workspace.name} crumbs={webhookCrumbs({ label: webhook.url })} flash={flash} refreshSeconds={refresh}>
      <h1>
        <code>{webhook.url}</code>
      </h1>
      <AutoDisabledBanner webhooks={[webhook]} quota={quota} workspace={workspace} back={back} />
      <section class="card" aria-labelledby="about-title">
        <h2 id="about-title" class="visually-hidden">
          Settings
        </h2>
        <p>
          <WebhookStatus webhook={webhook} />
        </p>
        {webhook.description && <p>{webhook.description}</p>}
        <p>
          Events:{" "}
          {webhook.events.map((t, i) => (
            <>
              {i > 0 && ", "}
              <span title={t}>{eventName(t)}</span>
            </>
          ))}
        </p>
        <WebhookActions webhook={webhook} back={back} />
        <form method="post" action={`${webhookPath(webhook.id)}/test`} class="row gap-top">
          <input type="hidden" name="back" value={back} />
          <label for="test-type">Test event type</label>
          <select id="test-type" name="type">
            {webhook.events.map((t) => (
              <option value={t}>{eventName(t)}</option>
            ))}
          </select>
          <button type="submit" class="button">
            Send this test event
          </button>
        </form>
      </section>

      <HealthSection stats={stats} period={period} hrefFor={(p) => `${webhookPath(webhook.id)}?period=${p}#health`} />

      <form method="get" action={`${webhookPath(webhook.id)}#found`} class="row card" role="search">
        <label for="event-search">Find an event by its id</label>
        <input id="event-search" name="event" type="search" placeholder="evt_…" value={search?.eventId ?? ""} spellcheck={false} />
        <button type="submit" class="button">
          Find
        </button>
      </form>
      {search && <FoundDelivery webhook={webhook} search={search} back={back} />}

      <DeliveryLog webhook={webhook} log={log} filters={filters} back={back} />

      <section class="card" aria-labelledby="recover-title">
        <h2 id="recover-title">Recover dropped and skipped events</h2>
        <p class="muted" id="since-hint">
          Sends every event that was dropped (all attempts failed) or skipped (the webhook was off) since this time again, in the order they were
          accepted. The webhook must be enabled. Time in UTC.
        </p>
        <form method="post" action={`${webhookPath(webhook.id)}/recover`} novalidate class="row">
          <input type="hidden" name="back" value={back} />
          <label for="since">Recover since</label>
          <input
            id="since"
            name="since"
            type="datetime-local"
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
              Told when a webhook of this workspace is disabled automatically. Leave empty for no email.
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
      </section>
      <QuotaMeter quota={quota} />
    </Layout>
  );
};
