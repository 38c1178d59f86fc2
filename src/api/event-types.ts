// GET /v1/event-types: the catalogue of events a webhook can subscribe to.
import { createRoute, z } from "@hono/zod-openapi";
import { EVENT_CATALOG, EVENT_TYPES } from "../events/catalog";
import { newRouter } from "./context";
import { jsonResponse } from "./openapi";

const EventTypeInfoSchema = z
  .object({
    type: z.enum(EVENT_TYPES),
    name: z.string().openapi({ example: "New Incoming Message" }),
    description: z.string(),
  })
  .openapi("EventType");

export const eventTypeRoutes = newRouter();

eventTypeRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["Events"],
    summary: "List event types",
    description: "The nine respond.io event types, with respond.io's names. Public: no key needed.",
    responses: {
      200: jsonResponse(z.object({ data: z.array(EventTypeInfoSchema) }), "The event catalogue"),
    },
  }),
  (c) => c.json({ data: [...EVENT_CATALOG] }, 200),
);
