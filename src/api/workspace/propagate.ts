// Telling a workspace's alerts lane about a change of its D1 row: shared by the workspace routes and the admin's
// re-encryption.
import { alertLaneOf } from "../../bindings";
import type { WorkspaceRow } from "../../db/schema";
import { alertLaneConfig } from "../../delivery/lane-config";
import type { Env } from "../../env";
import { forgetWorkspace } from "../key-cache";

/** A later updatedAt than the row's, even within its millisecond: it versions the alerts lane's config. */
export const nextVersion = (row: Pick<WorkspaceRow, "updatedAt">) => new Date(Math.max(Date.now(), row.updatedAt.getTime() + 1));

/** Tells the workspace's alerts lane its new URL and secrets (when it has any), and forgets cached copies. */
export async function propagateWorkspace(env: Env, row: WorkspaceRow): Promise<void> {
  forgetWorkspace(row.id);
  const config = alertLaneConfig(row);
  if (config) await alertLaneOf(env, row.id, row.dataLocation ?? null).configure(config);
}
