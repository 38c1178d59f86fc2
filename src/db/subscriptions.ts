// Which webhooks of a workspace receive which events: only the columns routing needs, read from D1 one workspace at a
// time in pages, and cached briefly per isolate within a byte budget (docs/limits.md, "Routing").
import { and, asc, eq, gt, or } from "drizzle-orm";
import type { DataLocation } from "../bindings";
import type { EventType } from "../events/catalog";
import type { WebhookFilter } from "../lib/endpoint-controls";
import { openDb } from "./client";
import { webhooks } from "./schema";
import type { Env } from "../env";

/** A webhook change made through another isolate reaches this one's cache within this time. */
export const SUBSCRIPTION_CACHE_TTL_MS = 5_000;
/** Webhooks read per D1 query: a page's bytes are bounded by this times the configuration size limit. */
export const ROUTING_PAGE_SIZE = 100;
/** A workspace whose routes take more than this is read again for every batch instead of kept. */
export const CACHEABLE_ROUTING_BYTES = 2 * 1024 * 1024;
/** All cached routes of this isolate together: past it, the least recently read workspaces go first. */
export const ROUTING_CACHE_BYTES = 16 * 1024 * 1024;

/** What the consumer needs of a webhook to route an event to its lane, and nothing more (no secrets, no headers). */
export interface Route {
  id: string;
  workspaceId: string;
  events: EventType[];
  filter: WebhookFilter;
  /** The webhook's updatedAt (unix ms): the lane reads its whole config from D1 when it holds an older one. */
  version: number;
  dataLocation: DataLocation | null;
}

/** What routing read from D1 (for the consumer's per-batch bounds and their tests). */
export interface RoutingReads {
  queries: number;
  bytes: number;
}

interface Cached {
  routes: Route[];
  bytes: number;
  expires: number;
}

const cache = new Map<string, Cached>();
let cachedBytes = 0;

function forget(workspaceId: string): void {
  const hit = cache.get(workspaceId);
  if (!hit) return;
  cachedBytes -= hit.bytes;
  cache.delete(workspaceId);
}

function keep(workspaceId: string, routes: Route[], bytes: number, now: number): void {
  forget(workspaceId);
  if (bytes > CACHEABLE_ROUTING_BYTES) return;
  // Map order is insertion order: the oldest entries are the least recently read.
  for (const [id] of cache) {
    if (cachedBytes + bytes <= ROUTING_CACHE_BYTES) break;
    forget(id);
  }
  cache.set(workspaceId, { routes, bytes, expires: now + SUBSCRIPTION_CACHE_TTL_MS });
  cachedBytes += bytes;
}

/** Called by the API on every webhook change, so this isolate never serves its own stale view. */
export function invalidateSubscriptions(workspaceId: string): void {
  forget(workspaceId);
}

/** The size a route's variable part takes as JSON: what the byte bounds count. */
const routeBytes = (route: Route) => route.id.length + JSON.stringify(route.events).length + JSON.stringify(route.filter).length;

/**
 * The workspace's webhooks (enabled or not: lanes of disabled ones keep events as skipped), page by page in creation
 * order. `before(n)` is asked before each D1 query and may stop the read (the batch's budget is spent): then false.
 */
export async function* routesOf(
  env: Env,
  workspaceId: string,
  reads: RoutingReads,
  before: () => boolean = () => true,
  now = Date.now(),
): AsyncGenerator<Route[], boolean> {
  const hit = cache.get(workspaceId);
  if (hit && hit.expires > now) {
    // Read again: it moves to the end of the eviction order.
    cache.delete(workspaceId);
    cache.set(workspaceId, hit);
    yield hit.routes;
    return true;
  }
  const db = openDb(env.DB);
  const all: Route[] = [];
  let bytes = 0;
  let after: { createdAt: Date; id: string } | undefined;
  for (;;) {
    if (!before()) return false;
    reads.queries++;
    const rows = await db
      .select({
        id: webhooks.id,
        events: webhooks.events,
        filter: webhooks.filter,
        updatedAt: webhooks.updatedAt,
        createdAt: webhooks.createdAt,
        dataLocation: webhooks.dataLocation,
      })
      .from(webhooks)
      .where(
        and(
          eq(webhooks.workspaceId, workspaceId),
          after && or(gt(webhooks.createdAt, after.createdAt), and(eq(webhooks.createdAt, after.createdAt), gt(webhooks.id, after.id))),
        ),
      )
      .orderBy(asc(webhooks.createdAt), asc(webhooks.id))
      .limit(ROUTING_PAGE_SIZE);
    const page = rows.map(
      (row): Route => ({
        id: row.id,
        workspaceId,
        events: row.events,
        filter: row.filter,
        version: row.updatedAt.getTime(),
        dataLocation: row.dataLocation ?? null,
      }),
    );
    const pageBytes = page.reduce((sum, route) => sum + routeBytes(route), 0);
    reads.bytes += pageBytes;
    bytes += pageBytes;
    // Kept only while the whole workspace stays cacheable; a larger one is not held at all.
    if (bytes <= CACHEABLE_ROUTING_BYTES) all.push(...page);
    if (page.length > 0) yield page;
    if (rows.length < ROUTING_PAGE_SIZE) break;
    const last = rows[rows.length - 1]!;
    after = { createdAt: last.createdAt, id: last.id };
  }
  keep(workspaceId, all, bytes, now);
  return true;
}
