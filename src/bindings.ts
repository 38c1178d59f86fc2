// Where every Durable Object of the project is asked for: a webhook's lane, a workspace's alerts lane and quota
// object, each in the jurisdiction of its workspace's data location (docs/data-location.md).
import type { EndpointLane } from "./delivery/lane/endpoint-lane";
import type { WorkspaceQuota } from "./quota/workspace-quota";

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
export function laneOf(namespace: DurableObjectNamespace<EndpointLane>, webhookId: string, location: DataLocation | null) {
  return namespace.get(objectId(namespace, webhookId, location));
}

/** The quota object of a workspace (its failure quota, and its dead letters when it has a location): named by its id. */
export function quotaOf(namespace: DurableObjectNamespace<WorkspaceQuota>, workspaceId: string, location: DataLocation | null) {
  return namespace.get(objectId(namespace, workspaceId, location));
}
