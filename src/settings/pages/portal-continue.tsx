/** @jsxImportSource hono/jsx */
// The landing page of a portal link: the link is already spent; a Continue button posts the one-time token this
// page holds, so the token that signs in is never in a URL (and so never in a request log).
import type { FC } from "hono/jsx";
import { BASE, Layout } from "../layout";

export const PortalContinuePage: FC<{ token: string; minutes: number }> = ({ token, minutes }) => (
  <Layout title="Continue to Workspace Settings">
    <section class="card narrow" aria-labelledby="portal-title">
      <h1 id="portal-title">Continue to Workspace Settings</h1>
      <p>
        This sign-in link has now been used and will not work again. Continue within {minutes} minutes to open the settings of your
        workspace.
      </p>
      <form method="post" action={`${BASE}/portal`}>
        <input type="hidden" name="token" value={token} />
        <button type="submit" class="button primary" autofocus>
          Continue
        </button>
      </form>
    </section>
  </Layout>
);
