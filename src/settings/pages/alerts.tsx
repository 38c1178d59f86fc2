/** @jsxImportSource hono/jsx */
// Workspace Settings > Integrations > Alerts: where the workspace's operational events go (alertUrl), a test alert,
// rotating the alert secret (asked first), and the alerts log, the same log a webhook has.
import type { FC } from "hono/jsx";
import { ALERT_DESCRIPTIONS, ALERT_TYPES } from "../../alerts/catalog";
import type { ApiProblem } from "../api-client";
import { ActionButton, FieldError, invalidIf, RotateConfirmForm, SecretField } from "../components";
import { formatTime } from "../format";
import { ALERTS, alertCrumbs, Layout } from "../layout";
import type { AlertSecret, DeliveryPage, DeliveryWithPayload, WorkspaceSettings } from "../model";
import type { Flash } from "../session";
import { DeliveryLog, FoundDelivery, logHref, type LogFilters } from "./delivery-log";
import { SignaturesCard } from "./signing-keys";

/** The alert types as the log's filter offers them. */
const ALERT_FILTER_TYPES = ALERT_TYPES.map((type) => ({ type, name: ALERT_DESCRIPTIONS[type].name }));

/** A webhook.disabled alert's body as delivered: the envelope's fields, then what the alert is about. */
const EXAMPLE_ALERT = JSON.stringify(
  {
    event_type: "webhook.disabled",
    event_id: "evt_5f1c2a9b7d3e4f60a1b2c3d4e5",
    timestamp: 1764867852000,
    webhookId: "wh_01kbmz3q7v9c2k4n5p6r7s8t9v",
    url: "https://crm.example.com/hooks/respond",
    reason: "failure_quota",
    disabledAt: "2025-12-04T17:04:12.000Z",
  },
  null,
  2,
);

export const AlertsPage: FC<{
  workspace: WorkspaceSettings;
  log: DeliveryPage | ApiProblem;
  filters: LogFilters;
  search?: { eventId: string; delivery: DeliveryWithPayload | undefined } | undefined;
  /** A refused alertUrl, with what was typed. */
  form?: { error: ApiProblem; alertUrl: string } | undefined;
  flash?: Flash | undefined;
}> = ({ workspace, log, filters, search, form, flash }) => {
  const back = logHref(ALERTS, filters).replace(/#log$/, "");
  const invalid = invalidIf(form?.error, "alertUrl");
  const pending = !("code" in log) && log.data.some((d) => d.status === "pending");
  return (
    <Layout
      title="Alerts"
      workspaceName={workspace.name}
      crumbs={alertCrumbs()}
      flash={flash}
      refreshSeconds={pending && !search && !form ? 15 : undefined}
    >
      <h1>Alerts</h1>
      <section class="card" aria-labelledby="alert-url-title">
        <h2 id="alert-url-title">Alert endpoint</h2>
        <p>
          Your own endpoint can hear about this workspace's webhooks before a person notices: each of these is sent to it as a signed event,
          in order, retried like a webhook's deliveries. Failed alerts never count against the failure quota.
        </p>
        <dl class="alert-types">
          {ALERT_TYPES.filter((t) => t !== "alert.test").map((type) => (
            <div>
              <dt>
                {ALERT_DESCRIPTIONS[type].name} <code class="muted">{type}</code>
              </dt>
              <dd>{ALERT_DESCRIPTIONS[type].text}</dd>
            </div>
          ))}
        </dl>
        <details class="example">
          <summary>Example: what your endpoint receives when a webhook is disabled</summary>
          <pre>
            <code>{EXAMPLE_ALERT}</code>
          </pre>
        </details>
        <form method="post" action={ALERTS} novalidate>
          <div class="field">
            <label for="alertUrl">Alert URL</label>
            <p class="hint" id="alertUrl-hint">
              An https URL. Leave empty and save to stop alerts (the secret is kept for when you set one again).
            </p>
            <input
              id="alertUrl"
              name="alertUrl"
              type="url"
              inputmode="url"
              placeholder="https://ops.example.com/hooks/alerts"
              value={form?.alertUrl ?? workspace.alertUrl ?? ""}
              spellcheck={false}
              aria-describedby={invalid ? "alertUrl-hint alertUrl-error" : "alertUrl-hint"}
              aria-invalid={invalid}
            />
            <FieldError id="alertUrl-error" error={form?.error} field="alertUrl" />
          </div>
          <button type="submit" class="button primary">
            Save alert URL
          </button>
        </form>
        {workspace.alertUrl && (
          <div class="row gap-top">
            <ActionButton action={`${ALERTS}/test`} back={back} label="Send a test alert" />
            <a class="button" href={`${ALERTS}/rotate-secret`}>
              Rotate alert secret
            </a>
          </div>
        )}
      </section>
      {workspace.alertPublicKey && (
        <SignaturesCard publicKey={workspace.alertPublicKey} jwks={`/v1/workspaces/${encodeURIComponent(workspace.id)}/alerts/jwks.json`} />
      )}

      <form method="get" action={`${ALERTS}#found`} class="row card" role="search">
        <label for="event-search">Find an alert by its event id</label>
        <input id="event-search" name="event" type="search" placeholder="evt_…" value={search?.eventId ?? ""} spellcheck={false} />
        <button type="submit" class="button">
          Find
        </button>
      </form>
      {search && (
        <FoundDelivery
          basePath={ALERTS}
          search={search}
          back={back}
          missing="This workspace sent no alert with that id (or it is past retention)."
        />
      )}

      <DeliveryLog
        basePath={ALERTS}
        types={ALERT_FILTER_TYPES}
        log={log}
        filters={filters}
        back={back}
        title="Alerts log"
        empty={
          workspace.alertUrl ? "No alerts yet. Send a test alert to see one here." : "No alerts yet. Set an alert URL to receive them."
        }
      />
    </Layout>
  );
};

/** The alert secret, shown once: after the alert URL was first set, and after a rotation. */
export const AlertSecretPage: FC<{ workspaceName: string; secret: string; rotated?: AlertSecret | undefined }> = ({
  workspaceName,
  secret,
  rotated,
}) => {
  const title = rotated ? "Alert secret rotated" : "Alert URL set";
  return (
    <Layout title={title} workspaceName={workspaceName} crumbs={alertCrumbs({ label: title })}>
      <h1>{title}</h1>
      <section class="card" aria-labelledby="secret-title">
        <h2 id="secret-title">Alert signing secret</h2>
        <p>
          <strong>Copy it now: it is shown only this once.</strong> Alerts are signed like webhook deliveries (Standard Webhooks headers and{" "}
          <code>x-webhook-signature</code>), with this secret.
          {rotated && (
            <>
              {" "}
              The previous secret keeps signing too until{" "}
              <time datetime={rotated.previousSecretExpiresAt}>{formatTime(rotated.previousSecretExpiresAt)}</time> (both signatures are
              sent).
            </>
          )}
        </p>
        <SecretField label="Alert signing secret" secret={secret} />
      </section>
      <a class="button primary" href={ALERTS}>
        Back to Alerts
      </a>
    </Layout>
  );
};

/** Rotating asks first: a rotation ends the grace of the one before it. */
export const RotateAlertSecretPage: FC<{ workspaceName: string }> = ({ workspaceName }) => (
  <Layout title="Rotate alert secret" workspaceName={workspaceName} crumbs={alertCrumbs({ label: "Rotate secret" })}>
    <section class="card narrow" aria-labelledby="rotate-title">
      <h1 id="rotate-title">Rotate the alert secret?</h1>
      <p>
        A new secret is made and shown once. The current one keeps signing beside it for 24 hours. If a rotation is already under way,
        rotating again ends the older secret's grace at once: a receiver that still holds it stops verifying.
      </p>
      <RotateConfirmForm action={`${ALERTS}/rotate-secret`} cancel={ALERTS} />
    </section>
  </Layout>
);
