// GET /v1/event-types: the catalogue of events a webhook can subscribe to, each with the JSON Schema of its data.
import { createRoute, z } from "@hono/zod-openapi";
import { EVENT_CATALOG, EVENT_TYPES } from "../events/catalog";
import { EXAMPLE_TIME, sampleData } from "../events/samples";
import { eventDataJsonSchema } from "../events/schemas";
import { newRouter } from "./context";
import { errorResponses } from "./errors";
import { jsonResponse } from "./openapi";

const EventTypeInfoSchema = z
  .object({
    type: z.enum(EVENT_TYPES),
    name: z.string().openapi({ example: "New Incoming Message" }),
    description: z.string(),
    schema: z.record(z.string(), z.unknown()).openapi({
      description:
        "JSON Schema (draft 2020-12) of the event's `data`: the keys the endpoint receives beside `event_type`, `event_id` and `timestamp`. " +
        "Extra keys are allowed; EVENT_VALIDATION checks the required ones.",
    }),
    example: z
      .record(z.string(), z.unknown())
      .openapi({ description: "A `data` that matches the schema (the same sample POST /v1/webhooks/{id}/test sends)." }),
  })
  .openapi("EventType");

export const eventTypeRoutes = newRouter();

eventTypeRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    operationId: "listEventTypes",
    tags: ["Events"],
    // Public: no credential.
    security: [],
    summary: "List event types",
    description:
      "The nine respond.io event types, with respond.io's names, the JSON Schema of each one's `data` and an example. Public: no key needed.",
    responses: {
      200: jsonResponse(z.object({ data: z.array(EventTypeInfoSchema) }), "The event catalogue"),
      // Like every /v1 route, a request body over 256 KiB is refused before the route runs.
      ...errorResponses(413),
    },
  }),
  (c) =>
    c.json(
      {
        data: EVENT_CATALOG.map((info) => ({
          ...info,
          schema: eventDataJsonSchema(info.type),
          example: sampleData(info.type, EXAMPLE_TIME),
        })),
      },
      200,
    ),
);
