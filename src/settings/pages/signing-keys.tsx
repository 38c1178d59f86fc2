/** @jsxImportSource hono/jsx */
// The "Signatures" card of a webhook's page and of the Alerts page: the public key and JWKS that check `v1a`, and, for a
// webhook with REQUIRE_ENDPOINT_VERIFICATION on, whether the endpoint is verified, with a Verify button (docs/signatures.md).
import type { Child, FC } from "hono/jsx";
import { ActionButton, webhookPath } from "../components";
import { formatTime } from "../format";
import type { Webhook } from "../model";

/** The card: `publicKey` and where its JWKS is, then anything the page adds. */
export const SignaturesCard: FC<{ publicKey: string; jwks: string; children?: Child }> = ({ publicKey, jwks, children }) => (
  <section class="card" aria-labelledby="signatures-title">
    <h2 id="signatures-title">Signatures</h2>
    <p>
      Public key (checks the <code>v1a</code> signature; safe to share): <code class="key">{publicKey}</code>
    </p>
    <p class="muted">
      Receivers can fetch the keys in force, during a rotation both, from{" "}
      <a class="key" href={jwks}>
        {jwks}
      </a>
      , with no key. Check <code>v1a</code> with the public key when the receiver should not hold a secret that could also sign (a CRM's
      settings, a shared config); check <code>v1</code> with the secret and a Standard Webhooks library when you keep it in a secret store.
    </p>
    {children}
  </section>
);

export const SigningKeysSection: FC<{ webhook: Webhook; verificationRequired: boolean; back: string }> = ({
  webhook,
  verificationRequired,
  back,
}) => {
  return (
    <SignaturesCard publicKey={webhook.publicKey} jwks={`/v1/webhooks/${encodeURIComponent(webhook.id)}/jwks.json`}>
      {verificationRequired &&
        (webhook.verifiedAt ? (
          <p>
            <span class="badge ok">Endpoint verified</span> <time datetime={webhook.verifiedAt}>{formatTime(webhook.verifiedAt)}</time>
          </p>
        ) : (
          <>
            <p>
              <span class="badge off">Endpoint not verified</span> It receives nothing but a signed challenge until it answers 2xx with the
              <code>webhook-challenge-response</code> header that Standard Webhooks computes from the secret; its events wait, in order.
            </p>
            <ActionButton
              action={`${webhookPath(webhook.id)}/verify`}
              back={back}
              label="Verify"
              class="button primary"
              accessibleLabel={`Verify the endpoint ${webhook.url}`}
            />
          </>
        ))}
    </SignaturesCard>
  );
};
