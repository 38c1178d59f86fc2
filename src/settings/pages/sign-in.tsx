/** @jsxImportSource hono/jsx */
// Signing in with a workspace API key: a self-hosted tool has no mail server to send magic links with.
import type { FC } from "hono/jsx";
import { BASE, Layout } from "../layout";
import type { Flash } from "../session";
import { SESSION_HOURS } from "../session";

export const SignInPage: FC<{ error?: string | undefined; next: string; flash?: Flash | undefined; unavailable?: string | undefined }> = ({
  error,
  next,
  flash,
  unavailable,
}) => (
  <Layout title="Sign in" flash={flash}>
    <section class="card narrow" aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">Sign in to Workspace Settings</h1>
      {unavailable ? (
        <p class="flash error" role="alert">
          {unavailable}
        </p>
      ) : (
        <form method="post" action={`${BASE}/sign-in`}>
          <input type="hidden" name="next" value={next} />
          <div class="field">
            <label for="apiKey">Workspace API key</label>
            <p class="hint" id="apiKey-hint">
              The key starts with <code>whk_</code>; an operator creates one with <code>POST /v1/admin/workspaces</code>. It is checked once
              and never shown or stored by these pages: the session only remembers which key it was, for {SESSION_HOURS} hours, and ends
              when the key is revoked.
            </p>
            <input
              id="apiKey"
              name="apiKey"
              type="password"
              autocomplete="off"
              spellcheck={false}
              required
              autofocus
              aria-describedby={error ? "apiKey-hint apiKey-error" : "apiKey-hint"}
              aria-invalid={error ? "true" : undefined}
            />
            {error && (
              <p class="field-error" id="apiKey-error" role="alert">
                {error}
              </p>
            )}
          </div>
          <button type="submit" class="button primary">
            Sign in
          </button>
        </form>
      )}
    </section>
  </Layout>
);
