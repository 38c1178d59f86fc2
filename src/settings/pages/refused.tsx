/** @jsxImportSource hono/jsx */
// The pages for requests refused before any route: a body over the forms' limit (413), a URL that does not decode (400).
import type { FC } from "hono/jsx";
import { Layout, WEBHOOKS } from "../layout";

const Refused: FC<{ title: string; text: string }> = ({ title, text }) => (
  <Layout title={title}>
    <section class="card narrow" aria-labelledby="refused-title">
      <h1 id="refused-title">{title}</h1>
      <p class="flash error" role="alert">
        {text}
      </p>
      <p>
        <a class="button" href={WEBHOOKS}>
          Back to Webhooks
        </a>
      </p>
    </section>
  </Layout>
);

export const TooLargePage: FC<{ maxKiB: number }> = ({ maxKiB }) => (
  <Refused
    title="Form too large"
    text={`What was sent is larger than the ${maxKiB} KiB a settings form may be, so nothing was read or changed. Go back and shorten what you entered.`}
  />
);

export const MalformedUrlPage: FC = () => (
  <Refused
    title="Malformed address"
    text="This page's address has a % that is not followed by two hexadecimal digits (or escapes that are not text), so it could not be read. Check the link you followed."
  />
);
