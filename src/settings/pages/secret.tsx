/** @jsxImportSource hono/jsx */
// The signing secret, shown once: after "Add Webhook" and after "Rotate secret". Never stored by the pages.
import type { FC } from "hono/jsx";
import { SecretField, webhookPath } from "../components";
import { formatTime, webhookLabel } from "../format";
import { Layout, WEBHOOKS, webhookCrumbs } from "../layout";
import type { Webhook } from "../model";

// The README's snippet (Verifying a delivery): plain node:http, nothing to install but standardwebhooks.
const VERIFY_SNIPPET = `import { createServer } from "node:http";
import { Webhook } from "standardwebhooks";

// The secret shown above, kept in your receiver's environment.
const wh = new Webhook(process.env.WEBHOOK_SECRET);

createServer((req, res) => {
  let raw = "";
  req.on("data", (chunk) => (raw += chunk));
  req.on("end", () => {
    try {
      // Checks webhook-signature against webhook-id, webhook-timestamp and the raw body.
      const event = wh.verify(raw, req.headers);
      console.log(event.event_type, event.event_id);
      res.writeHead(204).end();
    } catch {
      res.writeHead(400).end();
    }
  });
}).listen(8788);`;

/** The snippet for a webhook with `batch` set: one signature over the whole body, then its events in order (docs/batches.md). */
const VERIFY_BATCH_SNIPPET = VERIFY_SNIPPET.replace(
  `      const event = wh.verify(raw, req.headers);
      console.log(event.event_type, event.event_id);`,
  `      const batch = wh.verify(raw, req.headers);
      // This webhook sends batches: {"events": [...]}, oldest first, each element one event's body.
      for (const event of batch.events) console.log(event.event_type, event.event_id);`,
);

/** The README's local receiver, started with this very secret (`npm run receiver`, scripts/receiver.mjs). */
const receiverCommand = (secret: string) => `npm run receiver -- --secret ${secret}`;

const RESPOND_IO_SNIPPET = `import { createHmac, timingSafeEqual } from "node:crypto";
// respond.io's scheme: x-webhook-signature = base64 HMAC-SHA256 of the raw body, keyed with the secret string.
const expected = createHmac("sha256", process.env.WEBHOOK_SECRET).update(rawBody).digest();
const ok = timingSafeEqual(expected, Buffer.from(req.headers["x-webhook-signature"], "base64"));`;

export const SecretPage: FC<{
  workspaceName: string;
  webhook: Webhook;
  secret: string;
  pollToken?: string | undefined;
  rotated: boolean;
}> = ({ workspaceName, webhook, secret, pollToken, rotated }) => {
  const title = rotated ? "Signing secret rotated" : "Webhook added";
  return (
    <Layout
      title={title}
      workspaceName={workspaceName}
      crumbs={webhookCrumbs({ label: webhookLabel(webhook), href: webhookPath(webhook.id) }, { label: title })}
    >
      <h1>{title}</h1>
      <section class="card" aria-labelledby="secret-title">
        <h2 id="secret-title">
          Signing secret for <code>{webhookLabel(webhook)}</code>
        </h2>
        <p>
          <strong>Copy it now: it is shown only this once.</strong> Your endpoint uses it to check that a request really comes from here.
          {rotated && (
            <>
              {" "}
              The previous secret keeps signing too
              {webhook.previousSecretExpiresAt ? (
                <>
                  {" "}
                  until <time datetime={webhook.previousSecretExpiresAt}>{formatTime(webhook.previousSecretExpiresAt)}</time>
                </>
              ) : (
                " for 24 hours"
              )}{" "}
              (both signatures are sent), so you can switch your receiver over without missing a delivery.
            </>
          )}
        </p>
        <SecretField label="Signing secret" secret={secret} />
      </section>
      {pollToken && (
        <section class="card" aria-labelledby="poll-token-title">
          <h2 id="poll-token-title">Poll token</h2>
          <p>
            <strong>Copy it now: it is shown only this once{rotated ? "; the previous one no longer works" : ""}.</strong> Your consumer
            reads this webhook's events with it (<code>GET /v1/webhooks/{webhook.id}/poll</code>), and nothing else.
          </p>
          <SecretField label="Poll token" secret={pollToken} id="poll-token" />
        </section>
      )}
      {webhook.url && (
        <section class="card" aria-labelledby="receiver-title">
          <h2 id="receiver-title">Check deliveries with the local receiver</h2>
          <p>
            The README's receiver checks both signatures of every delivery and prints one line each. In the service's checkout folder, start
            it with this secret:
          </p>
          <pre>
            <code id="receiver-command">{receiverCommand(secret)}</code>
          </pre>
          <p class="muted">
            It listens on <code>http://127.0.0.1:8788</code> (any path, <code>--port</code> to change it) and answers 401 when a signature
            does not match, so point this webhook there to try it
            {rotated ? "; during the 24 hours both secrets sign, add the old one with a second --secret" : ""}.
          </p>
        </section>
      )}
      <section class="card" aria-labelledby="verify-title">
        <h2 id="verify-title">Verify deliveries</h2>
        <p>
          Every request carries the <a href="https://www.standardwebhooks.com/">Standard Webhooks</a> headers <code>webhook-id</code>,{" "}
          <code>webhook-timestamp</code> and <code>webhook-signature</code>. With Node and the <code>standardwebhooks</code> package:
        </p>
        <pre>
          <code>{webhook.batch ? VERIFY_BATCH_SNIPPET : VERIFY_SNIPPET}</code>
        </pre>
        <p>Or check respond.io's header, over the raw body:</p>
        <pre>
          <code>{RESPOND_IO_SNIPPET}</code>
        </pre>
        <p>
          Or verify without holding the secret: <code>webhook-signature</code> also carries a <code>v1a</code> Ed25519 signature, checked
          with the public key alone (<code class="key">{webhook.publicKey}</code>, or the keys at{" "}
          <code class="key">/v1/webhooks/{webhook.id}/jwks.json</code>). Prefer it when the secret would sit somewhere you do not fully
          trust: a leaked public key lets nobody sign. See docs/signatures.md for Node and WebCrypto code.
        </p>
      </section>
      <div class="row">
        <a class="button primary" href={webhookPath(webhook.id)}>
          Go to its delivery log
        </a>
        <a class="button" href={WEBHOOKS}>
          Back to Webhooks
        </a>
      </div>
    </Layout>
  );
};
