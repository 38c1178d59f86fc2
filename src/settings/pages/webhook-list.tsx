/** @jsxImportSource hono/jsx */
// Workspace Settings > Integrations > Webhooks: the empty state with "Connect", or the list with its Action column.
import type { FC } from "hono/jsx";
import { AutoDisabledBanner, QuotaMeter, WebhookActions, WebhookStatus, webhookPath } from "../components";
import { eventName, webhookLabel } from "../format";
import { DeadLettersBanner } from "../dead-letters-banner";
import { ALERTS, Layout, WEBHOOKS, webhookCrumbs } from "../layout";
import type { DeadLetterPage, Quota, Stats, Webhook, Workspace } from "../model";
import type { Flash } from "../session";

/**
 * Failures the quota counts that no listed webhook's last 24 hours accounts for: they came from a webhook deleted
 * since. 0 when that cannot be told (a webhook's figures are missing, or the window is longer than a day).
 */
export function failuresFromDeleted(quota: Quota | undefined, webhooks: Webhook[], health: Map<string, Stats> | undefined): number {
  if (!quota || !health || quota.windowSeconds > 24 * 3600 || webhooks.some((w) => !health.has(w.id))) return 0;
  const listed = webhooks.reduce((sum, w) => sum + health.get(w.id)!.failed, 0);
  return Math.max(0, quota.failures - listed);
}
import { HealthCell } from "./health";

/**
 * "Add Webhook" (or the empty state's "Connect"), or, once the workspace has as many webhooks as its limit allows, the
 * same button turned off with the reason beside it (docs/limits.md).
 */
const AddWebhook: FC<{ count: number; limit: number; label: string }> = ({ count, limit, label }) =>
  count < limit ? (
    <a class="button primary" href={`${WEBHOOKS}/new`}>
      {label}
    </a>
  ) : (
    <span class="row">
      <button type="button" class="primary" disabled aria-describedby="webhook-limit">
        {label}
      </button>
      <span class="hint" id="webhook-limit">
        {limit === 0
          ? "This workspace may not have webhooks (its limit is 0); ask your platform's operator."
          : `This workspace has ${count} webhooks, its limit of ${limit}. Delete one to add another, or ask your platform's operator to raise the limit.`}
      </span>
    </span>
  );

export const WebhookListPage: FC<{
  workspace: Workspace;
  webhooks: Webhook[];
  quota: Quota | undefined;
  deadLetters?: DeadLetterPage | undefined;
  /** Each webhook's last 24 hours, by id (missing when it could not be read). */
  health?: Map<string, Stats> | undefined;
  flash?: Flash | undefined;
}> = ({ workspace, webhooks, quota, deadLetters, health, flash }) => (
  <Layout title="Webhooks" workspaceName={workspace.name} crumbs={webhookCrumbs()} flash={flash} wide>
    <div class="row spread page-head">
      <h1>Webhooks</h1>
      <div class="row">
        <a class="button" href={ALERTS}>
          Alerts
        </a>
        {webhooks.length > 0 && <AddWebhook count={webhooks.length} limit={workspace.limits.webhooks} label="Add Webhook" />}
      </div>
    </div>
    <AutoDisabledBanner webhooks={webhooks} quota={quota} workspace={workspace} back={WEBHOOKS} />
    <DeadLettersBanner page={deadLetters} back={WEBHOOKS} />
    <QuotaMeter quota={quota} fromDeleted={failuresFromDeleted(quota, webhooks, health)} />
    {webhooks.length === 0 ? (
      <section class="card empty" aria-labelledby="empty-title">
        <h2 id="empty-title">Connect your systems with webhooks</h2>
        <p class="muted">
          Send this workspace's events — new messages, contacts, conversations, comments — to your own endpoint as they happen, signed, in
          order, and retried when your endpoint is down.
        </p>
        <AddWebhook count={0} limit={workspace.limits.webhooks} label="Connect" />
      </section>
    ) : (
      <table class="webhooks">
        <caption class="visually-hidden">Webhooks of this workspace</caption>
        <thead>
          <tr>
            <th scope="col">URL</th>
            <th scope="col">Events</th>
            <th scope="col">Status</th>
            <th scope="col">Health (24 h)</th>
            <th scope="col">Action</th>
          </tr>
        </thead>
        <tbody>
          {webhooks.map((webhook) => (
            <tr data-webhook-id={webhook.id}>
              <td class="url" data-label="URL">
                <a href={webhookPath(webhook.id)} class="one-line" title={webhookLabel(webhook)} aria-label={webhookLabel(webhook)}>
                  {/* https is the rule, so it is left out where space is short; the tooltip and the link's name say it all. */}
                  <code>{webhookLabel(webhook).replace(/^https:\/\//, "")}</code>
                </a>
                {webhook.description && (
                  <div class="muted one-line" title={webhook.description}>
                    {webhook.description}
                  </div>
                )}
              </td>
              <td data-label="Events" class="events">
                <span class="one-line" title={webhook.events.join(", ")}>
                  {webhook.events.map((type, i) => (
                    <>
                      {i > 0 && ", "}
                      <span>{eventName(type)}</span>
                    </>
                  ))}
                </span>
              </td>
              <td data-label="Status">
                <WebhookStatus webhook={webhook} compact />
              </td>
              <td data-label="Health (24 h)">
                <HealthCell stats={health?.get(webhook.id)} />
              </td>
              <td data-label="Action">
                <WebhookActions webhook={webhook} back={WEBHOOKS} compact />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    )}
  </Layout>
);
