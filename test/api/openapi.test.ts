// The OpenAPI document and the /docs page describe every route the Worker serves.
import { describe, expect, it } from "vitest";
import { api } from "../../src/api/app";
import { deliveryComponentName } from "../../src/api/webhook-deliveries";
import { EVENT_TYPES } from "../../src/events/catalog";
import { call } from "../support/helpers";

const toOpenApiPath = (path: string) => path.replace(/:(\w+)/g, "{$1}");

describe("OpenAPI document", () => {
  it("lists every API route with its method", async () => {
    const res = await call("GET", "/openapi.json");
    expect(res.status).toBe(200);
    expect(res.json.openapi).toBe("3.1.0");
    const documented = Object.entries(res.json.paths as Record<string, object>).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const served = api.routes
      .filter((r) => r.path.startsWith("/v1/") && r.method !== "ALL")
      .map((r) => `${r.method} ${toOpenApiPath(r.path)}`);
    expect(new Set(documented)).toEqual(new Set(served));
    for (const route of [
      "POST /v1/webhooks",
      "GET /v1/webhooks",
      "GET /v1/webhooks/{id}",
      "PATCH /v1/webhooks/{id}",
      "DELETE /v1/webhooks/{id}",
      "POST /v1/webhooks/{id}/enable",
      "POST /v1/webhooks/{id}/disable",
      "GET /v1/event-types",
      "PATCH /v1/workspace",
      "POST /v1/admin/workspaces",
      "POST /v1/admin/workspaces/{id}/keys",
      "DELETE /v1/admin/workspaces/{id}/keys/{keyId}",
    ]) {
      expect(documented).toContain(route);
    }
  });

  it("documents the auth of each route and the error schema", async () => {
    const { json } = await call("GET", "/openapi.json");
    expect(json.components.securitySchemes).toMatchObject({ apiKey: { scheme: "bearer" }, adminToken: { scheme: "bearer" } });
    expect(json.paths["/v1/webhooks"].post.security).toEqual([{ apiKey: [] }]);
    expect(json.paths["/v1/admin/workspaces"].post.security).toEqual([{ adminToken: [] }]);
    expect(json.components.schemas.Error.properties.error.required).toEqual(["code", "message"]);
  });

  it("documents the trace headers ingestion reads, and the tracestate a delivery keeps", async () => {
    const { json } = await call("GET", "/openapi.json");
    for (const path of ["/v1/events", "/v1/events/batch", "/v1/webhooks/{id}/test"]) {
      const headers = json.paths[path].post.parameters.filter((p: { in: string }) => p.in === "header");
      expect(
        headers.map((p: { name: string; required?: boolean }) => [p.name, p.required ?? false]),
        path,
      ).toEqual([
        ["traceparent", false],
        ["tracestate", false],
      ]);
    }
    expect(json.components.schemas.DeliveryWithPayload.allOf[1].properties.tracestate).toMatchObject({ type: ["string", "null"] });
  });

  it("renders a readable reference at /docs with every route", async () => {
    const res = await call("GET", "/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/html/);
    expect(res.text).not.toMatch(/<script/i);
    const { json } = await call("GET", "/openapi.json");
    for (const [path, ops] of Object.entries(json.paths as Record<string, object>)) {
      for (const method of Object.keys(ops)) expect(res.text).toContain(`aria-label="${method.toUpperCase()} ${path}"`);
    }
  });

  it("documents what an endpoint receives: a webhooks entry per event type, in the JSON and at /docs", async () => {
    const { json } = await call("GET", "/openapi.json");
    expect(Object.keys(json.webhooks)).toEqual([...EVENT_TYPES, "batch"]);
    expect(json.webhooks["contact.tag.updated"].post.requestBody.content["application/json"].schema).toEqual({
      $ref: "#/components/schemas/ContactTagUpdatedDelivery",
    });
    expect(json.components.schemas.ContactTagUpdatedDelivery.properties.action).toMatchObject({ enum: ["add", "remove"] });
    const docs = (await call("GET", "/docs")).text;
    for (const type of EVENT_TYPES) expect(docs).toContain(`aria-label="WEBHOOK ${type}"`);
    expect(docs).toContain("<code>traceparent</code>");
  });

  it("documents a batch delivery: {events: [...]} of the single-delivery bodies, with a bat_ webhook-id, in the JSON and at /docs", async () => {
    const { json } = await call("GET", "/openapi.json");
    const post = json.webhooks.batch.post;
    expect(post.operationId).toBe("deliverBatch");
    expect(post.requestBody.content["application/json"].schema).toEqual({ $ref: "#/components/schemas/BatchDelivery" });
    const body = json.components.schemas.BatchDelivery;
    expect(body.required).toEqual(["events"]);
    const items = body.properties.events.items;
    const refs = (items.anyOf ?? items.oneOf).map((s: { $ref: string }) => s.$ref);
    expect(refs).toEqual(EVENT_TYPES.map((type) => `#/components/schemas/${deliveryComponentName(type)}`));
    const headers = Object.fromEntries(post.parameters.map((p: { name: string }) => [p.name, p]));
    expect(headers["webhook-id"].schema.pattern).toBe("^bat_[0-9a-f]{32}$");
    for (const name of ["webhook-timestamp", "webhook-signature", "x-webhook-signature", "traceparent", "content-type"]) {
      expect(headers[name], name).toMatchObject({ in: "header", required: true });
    }
    expect(post.responses.default.description).toMatch(/one failure/);
    expect((await call("GET", "/docs")).text).toContain('aria-label="WEBHOOK batch"');
  });
});
