// The per-endpoint lane: one Durable Object per webhook that stores its events and delivers them in order.
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";

export class EndpointLane extends DurableObject<Env> {}
