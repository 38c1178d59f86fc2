/** @jsxImportSource hono/jsx */
// The page for a path, or a webhook, this workspace does not have.
import type { FC } from "hono/jsx";
import { Layout, WEBHOOKS, webhookCrumbs } from "../layout";
import type { Workspace } from "../model";

export const NotFoundPage: FC<{ workspace?: Workspace | undefined }> = ({ workspace }) => (
  <Layout title="Not found" workspaceName={workspace?.name} crumbs={webhookCrumbs({ label: "Not found" })}>
    <h1>Not found</h1>
    <p>There is no such page or webhook in this workspace.</p>
    <p>
      <a href={WEBHOOKS}>Back to Webhooks</a>
    </p>
  </Layout>
);
