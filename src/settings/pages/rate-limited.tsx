/** @jsxImportSource hono/jsx */
// What the settings pages show instead of a bare 429: what happened, and when to try again.
import type { FC } from "hono/jsx";
import { BASE, Layout } from "../layout";

/** `attempts` names what was counted: sign-in attempts, or (on the pages that need no sign-in) requests. */
export const RateLimitedPage: FC<{ retryAfterSeconds: number; attempts?: "sign-in attempts" | "requests" }> = ({
  retryAfterSeconds,
  attempts = "sign-in attempts",
}) => (
  <Layout title="Too many attempts">
    <section class="card narrow" aria-labelledby="rate-limited-title">
      <h1 id="rate-limited-title">Too many {attempts}</h1>
      <p class="flash error" role="alert">
        There have been too many {attempts} from your network address. Nothing was checked this time. Wait {retryAfterSeconds} seconds, then
        try again.
      </p>
      <p>
        <a class="button" href={`${BASE}/sign-in`}>
          Back to sign-in
        </a>
      </p>
    </section>
  </Layout>
);
