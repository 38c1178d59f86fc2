/** @jsxImportSource hono/jsx */
// Confirming a notification address: the landing page of the emailed link (it changes nothing, so a mail scanner
// that fetches links confirms nothing), its Confirm button, and the outcome.
import type { FC } from "hono/jsx";
import { BASE, Layout } from "../layout";

export const ConfirmEmailPage: FC<{ token: string; address: string }> = ({ token, address }) => (
  <Layout title="Confirm your address">
    <section class="card narrow" aria-labelledby="confirm-title">
      <h1 id="confirm-title">Confirm your address</h1>
      <p>
        Confirm that <strong>{address}</strong> should receive the operational notices of a webhook delivery workspace (a webhook disabled
        after repeated failures, an early warning). Nothing is sent to it until you do.
      </p>
      <form method="post" action={`${BASE}/confirm-email`}>
        <input type="hidden" name="token" value={token} />
        <button type="submit" class="button primary">
          Confirm
        </button>
      </form>
    </section>
  </Layout>
);

export const EmailConfirmedPage: FC<{ address: string }> = ({ address }) => (
  <Layout title="Address confirmed">
    <section class="card narrow" aria-labelledby="confirmed-title">
      <h1 id="confirmed-title">Address confirmed</h1>
      <p class="flash success" role="status">
        {address} now receives the workspace's notices. You can close this page.
      </p>
    </section>
  </Layout>
);

export const ConfirmLinkInvalidPage: FC = () => (
  <Layout title="Link no longer valid">
    <section class="card narrow" aria-labelledby="invalid-title">
      <h1 id="invalid-title">This confirmation link no longer works</h1>
      <p class="flash error" role="alert">
        It was already used, it expired, or the workspace changed its address since. A workspace can send a new one from its settings.
      </p>
    </section>
  </Layout>
);
