/** @jsxImportSource hono/jsx */
// Workspace Settings > Integrations > Webhooks: the empty state with "Connect", or the list with its Action column.
import type { FC } from "hono/jsx";
import { AutoDisabledBanner, QuotaMeter, WebhookActions, WebhookStatus, webhookPath } from "../components";
import { eventName, webhookLabel } from "../format";
import { DeadLettersBanner } from "../dead-letters-banner";
import { ALERTS, Layout, WEBHOOKS, webhookCrumbs } from "../layout";
import type { DeadLetterPage, Quota, Stats, Webhook, Workspace } from "../model";
import type { Flash } from "../session";
import { HealthCell } from "./health";

export const WebhookListPage: FC<{
  workspace: Workspace;
  webhooks: Webhook[];
  quota: Quota | undefined;
  deadLetters?: DeadLetterPage | undefined;
  /** Each webhook's last 24 hours, by id (missing when it could not be read). */
  health?: Map<string, Stats> | undefined;
  flash?: Flash | undefined;
}> = ({ workspace, webhooks, quota, deadLetters, health, flash }) => (
  <Layout title="Webhooks" workspaceName={workspace.name} crumbs={webhookCrumbs()} flash={flash}>
    <div class="row spread">
      <h1>Webhooks</h1>
      <div class="row">
        <a class="button" href={ALERTS}>
          Alerts
        </a>
        {webhooks.length > 0 && (
          <a class="button primary" href={`${WEBHOOKS}/new`}>
            Add Webhook
          </a>
        )}
      </div>
    </div>
    <AutoDisabledBanner webhooks={webhooks} quota={quota} workspace={workspace} back={WEBHOOKS} />
    <DeadLettersBanner page={deadLetters} back={WEBHOOKS} />
    <QuotaMeter quota={quota} />
    {webhooks.length === 0 ? (
      <section class="card empty" aria-labelledby="empty-title">
        <h2 id="empty-title">Connect your systems with webhooks</h2>
        <p class="muted">
          Send this workspace's events — new messages, contacts, conversations, comments — to your own endpoint as they happen, signed, in order, and
          retried when your endpoint is down.
        </p>
        <a class="button primary" href={`${WEBHOOKS}/new`}>
          Connect
        </a>
      </section>
    ) : (
      <table class="webhooks">
        <caption class="visually-hidden">Webhooks of this workspace</caption>
        <thead>
          <tr>
            <th scope="col">URL</th>
            <th scope="col">Events</th>
            <th scope="col">Status</th>
            <th scope="col">Health</th>
            <th scope="col">Action</th>
          </tr>
        </thead>
        <tbody>
          {webhooks.map((webhook) => (
            <tr data-webhook-id={webhook.id}>
              <td class="url" data-label="URL">
                <a href={webhookPath(webhook.id)}>
                  <code>{webhookLabel(webhook)}</code>
                </a>
                {webhook.description && <div class="muted">{webhook.description}</div>}
              </td>
              <td data-label="Events">
                <ul class="plain events">
                  {webhook.events.map((type) => (
                    <li title={type}>{eventName(type)}</li>
                  ))}
                </ul>
              </td>
              <td data-label="Status">
                <WebhookStatus webhook={webhook} />
              </td>
              <td data-label="Health">
                <HealthCell stats={health?.get(webhook.id)} />
              </td>
              <td data-label="Action">
                <WebhookActions webhook={webhook} back={WEBHOOKS} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    )}
  </Layout>
);
