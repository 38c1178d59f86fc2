/** @jsxImportSource hono/jsx */
// Deleting asks first, on its own page, so the confirmation works without script and with any input device.
import { webhookLabel } from "../format";
import type { FC } from "hono/jsx";
import { webhookPath } from "../components";
import { Layout, webhookCrumbs } from "../layout";
import type { Webhook } from "../model";

export const DeleteWebhookPage: FC<{ workspaceName: string; webhook: Webhook }> = ({ workspaceName, webhook }) => (
  <Layout
    title="Delete webhook"
    workspaceName={workspaceName}
    crumbs={webhookCrumbs({ label: webhookLabel(webhook), href: webhookPath(webhook.id) }, { label: "Delete" })}
  >
    <section class="card narrow" aria-labelledby="delete-title">
      <h1 id="delete-title">Delete this webhook?</h1>
      <p>
        <code>{webhookLabel(webhook)}</code>
      </p>
      <p>It stops receiving events at once, and its delivery log and undelivered events are deleted with it. This cannot be undone.</p>
      <form method="post" action={`${webhookPath(webhook.id)}/delete`} class="row">
        <button type="submit" class="button danger">
          Delete webhook
        </button>
        <a class="button" href={webhookPath(webhook.id)} autofocus>
          Cancel
        </a>
      </form>
    </section>
  </Layout>
);
