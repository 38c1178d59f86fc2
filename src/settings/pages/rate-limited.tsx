/** @jsxImportSource hono/jsx */
// What the settings pages show instead of a bare 429: what happened, and when to try again.
import type { FC } from "hono/jsx";
import { BASE, Layout } from "../layout";

export const RateLimitedPage: FC<{ retryAfterSeconds: number }> = ({ retryAfterSeconds }) => (
  <Layout title="Too many attempts">
    <section class="card narrow" aria-labelledby="rate-limited-title">
      <h1 id="rate-limited-title">Too many sign-in attempts</h1>
      <p class="flash error" role="alert">
        There have been too many sign-in attempts from your network address. Nothing was checked this time. Wait {retryAfterSeconds}{" "}
        seconds, then try again.
      </p>
      <p>
        <a class="button" href={`${BASE}/sign-in`}>
          Back to sign-in
        </a>
      </p>
    </section>
  </Layout>
);
