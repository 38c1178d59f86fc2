// The Durable Objects by name: which object of which namespace serves a webhook, a workspace's quota and its alerts.
// Only types come in (Env is generated from wrangler.toml), so any module can reach an object without importing its class.
import type { Env } from "./env";

/** The lane of a webhook: one per webhook, named by its id. */
export function laneOf(namespace: Env["ENDPOINT_LANE"], webhookId: string) {
  return namespace.get(namespace.idFromName(webhookId));
}

/** The quota object of a workspace: one per workspace, named by its id. */
export function quotaOf(namespace: Env["WORKSPACE_QUOTA"], workspaceId: string) {
  return namespace.get(namespace.idFromName(workspaceId));
}

/** The alerts lane's name; never a webhook id (those are `wh_…`). */
export function alertLaneName(workspaceId: string): string {
  return `alerts:${workspaceId}`;
}

/** A workspace's alerts lane (src/alerts): an EndpointLane of kind "alerts", named after the workspace. */
export function alertLaneOf(env: Env, workspaceId: string) {
  return laneOf(env.ENDPOINT_LANE, alertLaneName(workspaceId));
}
