// The alerts lane: every workspace's operational events go through one lane of their own (an EndpointLane of
// kind "alerts", named after the workspace), so they are ordered, signed, retried and logged like any
// webhook's, but their failures count against no quota and never disable anything.
import { eq } from "drizzle-orm";
import { openDb } from "../db/client";
import { workspaces } from "../db/schema";
import { alertLaneConfig } from "../delivery/lane-config";
import { alertLaneOf } from "../bindings";
import type { Env } from "../env";
import { alertEvent, type Alert } from "./catalog";

/**
 * Hands an alert to its workspace's alerts lane; "no_alert_url" when the workspace has none (nothing is kept).
 * Idempotent: the same alert raised again is stored once. Throws when D1 or the lane cannot be reached.
 */
export async function raiseAlert(env: Env, alert: Alert): Promise<"enqueued" | "no_alert_url"> {
  const workspace = await openDb(env.DB).query.workspaces.findFirst({ where: eq(workspaces.id, alert.workspaceId) });
  const config = workspace && alertLaneConfig(workspace);
  if (!config?.enabled) return "no_alert_url";
  await alertLaneOf(env, alert.workspaceId, config.dataLocation).enqueue(config, [await alertEvent(alert)]);
  return "enqueued";
}
