// The HTTP API: mounts every router, the shared guards, the error model and the OpenAPI document.
import { HTTPException } from "hono/http-exception";
import { ConfigError } from "../config";
import { openDb } from "../db/client";
import { settingsPages } from "../dashboard/routes";
import { adminRoutes } from "./admin/routes";
import { deadLetterRoutes } from "./dead-letters/routes";
import { requireAdminToken, requireWorkspaceKey } from "./auth";
import { newRouter } from "./context";
import { ApiReference, type OpenApiDocument } from "./docs";
import { ApiError, errorBody } from "./errors";
import { eventTypeRoutes } from "./event-types";
import { eventRoutes } from "./events/routes";
import { quotaRoutes } from "./quota";
import { allowedMethods, limitBody, limitIngestion, requireJsonBody } from "./middleware";
import { deliveryRoutes } from "./webhooks/deliveries";
import { webhookRoutes } from "./webhooks/routes";
import { workspaceRoutes } from "./workspace/routes";

export const app = newRouter();

app.use("*", async (c, next) => {
  c.set("db", openDb(c.env.DB));
  await next();
});
app.use("/v1/*", limitBody, requireJsonBody);
app.use("/v1/admin/*", requireAdminToken);
for (const prefix of ["/v1/events/*", "/v1/webhooks/*", "/v1/workspace/*", "/v1/quota/*", "/v1/dead-letters/*"]) app.use(prefix, requireWorkspaceKey);
app.on("POST", ["/v1/events", "/v1/events/batch"], limitIngestion);

app.route("/v1/admin", adminRoutes);
app.route("/v1/event-types", eventTypeRoutes);
app.route("/v1/events", eventRoutes);
app.route("/v1/webhooks", webhookRoutes);
app.route("/v1/webhooks", deliveryRoutes);
app.route("/v1/workspace", workspaceRoutes);
app.route("/v1/quota", quotaRoutes);
app.route("/v1/dead-letters", deadLetterRoutes);
// The settings pages (HTML) call this same app in-process for every read and change.
app.route("/settings", settingsPages((request, env, ctx) => app.fetch(request, env, ctx)));

app.openAPIRegistry.registerComponent("securitySchemes", "apiKey", {
  type: "http",
  scheme: "bearer",
  description: "A workspace API key (`whk_…`). Every key sees only its own workspace.",
});
app.openAPIRegistry.registerComponent("securitySchemes", "adminToken", {
  type: "http",
  scheme: "bearer",
  description: "The operator's ADMIN_TOKEN secret.",
});

const OPENAPI_INFO = {
  openapi: "3.1.0",
  info: {
    title: "Edge Webhooks",
    version: "1.0.0",
    description:
      "Reliable, ordered, signed webhook delivery on Cloudflare Workers. Authenticate with `Authorization: Bearer <api key>`. " +
      'Every error answers `{"error": {"code", "message"}}`.',
  },
};

app.doc31("/openapi.json", OPENAPI_INFO);
app.get("/docs", (c) => c.html(<ApiReference doc={app.getOpenAPI31Document(OPENAPI_INFO) as unknown as OpenApiDocument} />));
app.get("/", (c) => c.json({ name: "edge-webhooks", docs: "/docs", openapi: "/openapi.json" }));

const methodsFor = allowedMethods(app.routes);

app.notFound((c) => {
  const methods = methodsFor(c.req.path);
  if (methods.length > 0) {
    c.header("Allow", methods.join(", "));
    return c.json(errorBody("method_not_allowed", `${c.req.method} is not allowed on ${c.req.path}; allowed: ${methods.join(", ")}`), 405);
  }
  return c.json(errorBody("not_found", `no route ${c.req.method} ${c.req.path}; see /docs`), 404);
});

app.onError((err, c) => {
  if (err instanceof ApiError) return c.json(err.body(), err.status);
  if (err instanceof HTTPException) {
    // Auth and body-limit middleware prepare their own (already JSON) responses.
    if (err.res) return err.getResponse();
    if (err.status === 400) return c.json(errorBody("malformed_json", "request body is empty or not valid JSON"), 400);
    return c.json(errorBody("internal_error", err.message), err.status);
  }
  if (err instanceof ConfigError) {
    console.error("configuration error:", err.message);
    return c.json(errorBody("misconfigured", `the service is misconfigured: ${err.message}`), 500);
  }
  console.error("unhandled error:", err);
  return c.json(errorBody("internal_error", "something went wrong on our side; the request may be retried"), 500);
});
