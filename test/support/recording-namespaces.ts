// A recording namespace wrapper: every Durable Object the Worker, its lanes and its quota objects ask for (they all
// share this isolate and the namespaces' prototype), with the jurisdiction it was asked for in.
import { env } from "cloudflare:workers";

export interface ObjectRequest {
  name: string;
  /** The jurisdiction it was asked in, or null for the plain namespace. */
  location: string | null;
}

/**
 * Records every idFromName from now until stop(), in or out of a jurisdiction. A jurisdiction asked for is
 * answered, as Cloudflare would, with a namespace scoped to it (its ids are the plain namespace's here: workerd
 * has no jurisdictions), so the code under test takes its production path.
 */
export function recordObjectRequests(): { requests: ObjectRequest[]; stop(): void } {
  const requests: ObjectRequest[] = [];
  const prototypes = new Set<any>([Object.getPrototypeOf(env.ENDPOINT_LANE), Object.getPrototypeOf(env.WORKSPACE_QUOTA)]);
  const restore: (() => void)[] = [];
  for (const proto of prototypes) {
    const { idFromName, jurisdiction } = proto;
    proto.idFromName = function (this: DurableObjectNamespace, name: string) {
      requests.push({ name, location: null });
      return idFromName.call(this, name);
    };
    proto.jurisdiction = function (this: DurableObjectNamespace, location: string) {
      const base = this;
      return {
        idFromName(name: string) {
          requests.push({ name, location });
          return idFromName.call(base, name);
        },
        get: (id: DurableObjectId, options?: DurableObjectNamespaceGetDurableObjectOptions) => base.get(id, options),
      };
    };
    restore.push(() => {
      proto.idFromName = idFromName;
      proto.jurisdiction = jurisdiction;
    });
  }
  return { requests, stop: () => restore.forEach((undo) => undo()) };
}
