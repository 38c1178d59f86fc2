// Where every Durable Object of the project is asked for: a webhook's lane, a workspace's alerts lane and quota
// object, each in the jurisdiction of its workspace's data location (docs/data-location.md). Only types come in
// (Env is generated from wrangler.toml), so any module can reach an object without importing its class.
import type { Env } from "./env";

/** Where a workspace's payloads, attempts, dead letters and quota records may be stored; null: anywhere. */
export const DATA_LOCATIONS = ["eu", "fedramp"] as const;
export type DataLocation = (typeof DATA_LOCATIONS)[number];

/** What workerd (wrangler dev, the vitest integration) answers to namespace.jurisdiction(): it has no jurisdictions. */
const NOT_IN_WORKERD = "Jurisdiction restrictions are not implemented in workerd";

/** The locations this isolate already said it keeps locally, so the fallback logs one line, not one per object. */
const fellBack = new Set<string>();

/**
 * The id of object `name` of `namespace`, made in `location`'s jurisdiction (Cloudflare keeps such an object, and
 * its storage, inside it for good); a plain id when the workspace has no location. Local fallback: workerd has no
 * jurisdictions, so there the same name gives the plain namespace's object, with one log line, never a crash.
 */
export function objectId<T extends Rpc.DurableObjectBranded | undefined>(
  namespace: DurableObjectNamespace<T>,
  name: string,
  location: DataLocation | null,
): DurableObjectId {
  if (location === null) return namespace.idFromName(name);
  try {
    return namespace.jurisdiction(location).idFromName(name);
  } catch (err) {
    if (!String((err as Error)?.message ?? err).includes(NOT_IN_WORKERD)) throw err;
    if (!fellBack.has(location)) {
      fellBack.add(location);
      console.warn(`data location "${location}": ${NOT_IN_WORKERD}; local objects are made without a jurisdiction (local fallback)`);
    }
    return namespace.idFromName(name);
  }
}

/** The lane of a webhook (or a workspace's alerts lane, src/alerts): one per webhook, named by its id. */
export function laneOf(namespace: Env["ENDPOINT_LANE"], webhookId: string, location: DataLocation | null) {
  return namespace.get(objectId(namespace, webhookId, location));
}

/** Sender `n` (1, 2, …) of a webhook's lane (docs/ordering.md; slot 0 is the lane itself), in the lane's jurisdiction. */
export function senderOf(namespace: Env["ENDPOINT_SENDER"], webhookId: string, n: number, location: DataLocation | null) {
  return namespace.get(objectId(namespace, `${webhookId}/sender/${n}`, location));
}

/** The quota object of a workspace (its failure quota, and its dead letters when it has a location): named by its id. */
export function quotaOf(namespace: Env["WORKSPACE_QUOTA"], workspaceId: string, location: DataLocation | null) {
  return namespace.get(objectId(namespace, workspaceId, location));
}

/** The alerts lane's name; never a webhook id (those are `wh_…`). */
export function alertLaneName(workspaceId: string): string {
  return `alerts:${workspaceId}`;
}

/** A workspace's alerts lane (src/alerts): an EndpointLane of kind "alerts", named after the workspace. */
export function alertLaneOf(env: Env, workspaceId: string, location: DataLocation | null) {
  return laneOf(env.ENDPOINT_LANE, alertLaneName(workspaceId), location);
}
