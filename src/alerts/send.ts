// The alerts lane: every workspace's operational events go through one lane of their own (an EndpointLane of
// kind "alerts", named after the workspace), so they are ordered, signed, retried and logged like any
// webhook's, but their failures count against no quota and never disable anything.
import { eq } from "drizzle-orm";
import { openDb } from "../db/client";
import { workspaces, type WorkspaceRow } from "../db/schema";
import type { LaneConfig } from "../delivery/lane-config";
import { laneOf, type DataLocation } from "../bindings";
import type { Env } from "../env";
import { alertEvent, type Alert } from "./catalog";

/** The alerts lane's name; never a webhook id (those are `wh_…`). */
export function alertLaneName(workspaceId: string): string {
  return `alerts:${workspaceId}`;
}

export function alertLaneOf(env: Env, workspaceId: string, location: DataLocation | null) {
  return laneOf(env.ENDPOINT_LANE, alertLaneName(workspaceId), location);
}

/** What the workspace's alerts lane is told; undefined before alertUrl was ever set (no secret yet). */
export function alertLaneConfig(workspace: WorkspaceRow): LaneConfig | undefined {
  if (!workspace.alertSecret) return undefined;
  return {
    kind: "alerts",
    webhookId: alertLaneName(workspace.id),
    workspaceId: workspace.id,
    url: workspace.alertUrl ?? "",
    secret: workspace.alertSecret,
    previousSecret: workspace.alertPreviousSecret ?? null,
    previousSecretExpiresAt: workspace.alertPreviousSecretExpiresAt?.getTime() ?? null,
    enabled: workspace.alertUrl !== null,
    disabledReason: workspace.alertUrl === null ? "manual" : null,
    rateLimitPerSecond: null,
    retryDelaysSeconds: null,
    headers: {},
    version: workspace.updatedAt.getTime(),
    dataLocation: workspace.dataLocation ?? null,
  };
}

/**
 * Hands an alert to its workspace's alerts lane; "no_alert_url" when the workspace has none (nothing is kept).
 * Idempotent: the same alert raised again is stored once. Throws when D1 or the lane cannot be reached.
 */
export async function raiseAlert(env: Env, alert: Alert): Promise<"enqueued" | "no_alert_url"> {
  const workspace = await openDb(env.DB).query.workspaces.findFirst({ where: eq(workspaces.id, alert.workspaceId) });
  const config = workspace && alertLaneConfig(workspace);
  if (!config || !config.enabled) return "no_alert_url";
  await alertLaneOf(env, alert.workspaceId, config.dataLocation).enqueue(config, [await alertEvent(alert)]);
  return "enqueued";
}
