// The workspace's shared failure quota: one Durable Object per workspace.
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";

export class WorkspaceQuota extends DurableObject<Env> {}
