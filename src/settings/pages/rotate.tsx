/** @jsxImportSource hono/jsx */
// Rotating asks first, on its own page: a rotation ends the grace of the one before, so two clicks would end the
// secret the receiver still holds without a word.
import type { FC } from "hono/jsx";
import { RotateConfirmForm, webhookPath } from "../components";
import { formatTime, webhookLabel } from "../format";
import { Layout, webhookCrumbs } from "../layout";
import type { Webhook } from "../model";

export const RotateSecretPage: FC<{ workspaceName: string; webhook: Webhook; back: string }> = ({ workspaceName, webhook, back }) => (
  <Layout
    title="Rotate signing secret"
    workspaceName={workspaceName}
    crumbs={webhookCrumbs({ label: webhookLabel(webhook), href: webhookPath(webhook.id) }, { label: "Rotate secret" })}
  >
    <section class="card narrow" aria-labelledby="rotate-title">
      <h1 id="rotate-title">Rotate the signing secret?</h1>
      <p>
        <code>{webhookLabel(webhook)}</code>
      </p>
      <p>
        A new secret is made and shown once. The current one keeps signing beside it for 24 hours, so you can update your receiver without
        losing a delivery.
      </p>
      {webhook.previousSecretExpiresAt && (
        <p class="warning" role="alert">
          A rotation is already under way: the secret before the current one still signs until{" "}
          <time datetime={webhook.previousSecretExpiresAt}>{formatTime(webhook.previousSecretExpiresAt)}</time>. Rotating again ends that
          now: a receiver that still holds it stops verifying at once.
        </p>
      )}
      <RotateConfirmForm action={`${webhookPath(webhook.id)}/rotate-secret`} cancel={back} back={back} />
    </section>
  </Layout>
);
