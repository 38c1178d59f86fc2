// The HTTP API: mounts every router, the shared guards, the error model and the OpenAPI document.
// It knows nothing of the settings pages; src/index.ts mounts both side by side.
import type { NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { ConfigError } from "../config";
import { openDb } from "../db/client";
import { assertEncryptionKeys } from "../lib/encryption";
import { adminRoutes } from "./admin/routes";
import { adminLimitRoutes } from "./admin/limit-routes";
import { encryptionRoutes } from "./admin/encryption-routes";
import { deadLetterRoutes } from "./dead-letters/routes";
import { requireAdminToken, requireWorkspaceKey } from "./auth";
import { newRouter, type AppEnv } from "./context";
import { ApiReference, type OpenApiDocument } from "./docs";
import { ApiError, errorBody, errorResponse, errorResponses } from "./errors";
import { eventTypeRoutes } from "./event-types";
import { eventRoutes } from "./events/routes";
import { quotaRoutes } from "./quota";
import { allowedMethods, limitBody, limitIngestion, refuseMalformedUrl, requireJsonBody } from "./middleware";
import { deliveryRoutes } from "./webhooks/delivery-routes";
import { keyRoutes, JWKS_PATH } from "./webhooks/key-routes";
import { statsRoutes } from "./webhooks/stats-routes";
import { pollRoutes } from "./webhooks/poll-routes";
import { webhookRoutes } from "./webhooks/routes";
import { registerDeliveryWebhooks } from "./webhook-deliveries";
import { alertKeyRoutes } from "./workspace/alert-key-routes";
import { alertRoutes } from "./workspace/alert-routes";
import { workspaceRoutes } from "./workspace/routes";

export const api = newRouter();

api.use("*", refuseMalformedUrl, async (c, next) => {
  c.set("db", openDb(c.env.DB));
  await next();
});
// No secret can be stored or used without ENCRYPTION_KEYS (src/lib/encryption.ts): every call answers 500 misconfigured,
// naming it and saying how to make one, rather than writing anything in clear.
api.use("/v1/*", (c, next) => {
  assertEncryptionKeys(c.env);
  return next();
});
api.use("/v1/*", limitBody);
api.use("/v1/admin/*", requireAdminToken);
for (const prefix of ["/v1/events/*", "/v1/workspace/*", "/v1/quota/*", "/v1/dead-letters/*"]) api.use(prefix, requireWorkspaceKey);
// A webhook's JWKS is public: receivers fetch it without a key (and so is a workspace's alerts JWKS, /v1/workspaces/*).
api.use("/v1/webhooks/*", (c, next) => (JWKS_PATH.test(c.req.path) ? next() : requireWorkspaceKey(c, next)));
// The body is read and parsed only once the caller is known: a request without a credential costs no JSON parse.
api.use("/v1/*", requireJsonBody);
api.on("POST", ["/v1/events", "/v1/events/batch"], limitIngestion);

api.route("/v1/admin", adminRoutes);
api.route("/v1/admin", adminLimitRoutes);
api.route("/v1/admin", encryptionRoutes);
api.route("/v1/event-types", eventTypeRoutes);
api.route("/v1/events", eventRoutes);
api.route("/v1/webhooks", webhookRoutes);
api.route("/v1/webhooks", deliveryRoutes);
api.route("/v1/webhooks", statsRoutes);
api.route("/v1/webhooks", keyRoutes);
api.route("/v1/webhooks", pollRoutes);
api.route("/v1/workspace", workspaceRoutes);
api.route("/v1/workspace", alertRoutes);
api.route("/v1/workspaces", alertKeyRoutes);
api.route("/v1/quota", quotaRoutes);
api.route("/v1/dead-letters", deadLetterRoutes);

// What the guards in front of the routes answer, on every route they guard: an address over a limit on failed
// credentials gets 429 (unknown keys or poll tokens: PUBLIC_LIMITER; wrong admin tokens: ADMIN_LIMITER), and the
// admin routes answer 500 misconfigured while ADMIN_TOKEN is unset or too short.
for (const definition of api.openAPIRegistry.definitions) {
  if (definition.type !== "route" || !definition.route.security?.length) continue;
  const admin = definition.route.path.startsWith("/v1/admin/");
  definition.route.responses = { ...errorResponses(...(admin ? ([429, 500] as const) : ([429] as const))), ...definition.route.responses };
}

api.openAPIRegistry.registerComponent("securitySchemes", "apiKey", {
  type: "http",
  scheme: "bearer",
  description: "A workspace API key (`whk_…`). Every key sees only its own workspace.",
});
api.openAPIRegistry.registerComponent("securitySchemes", "pollToken", {
  type: "http",
  scheme: "bearer",
  description: "A polling webhook's own token (`whpoll_…`): reads that webhook's stream (`GET /v1/webhooks/{id}/poll`) and nothing else.",
});
api.openAPIRegistry.registerComponent("securitySchemes", "adminToken", {
  type: "http",
  scheme: "bearer",
  description: "The operator's ADMIN_TOKEN secret.",
});

// What receivers get: the `webhooks` section, one entry per event type.
registerDeliveryWebhooks(api);

/** The tags the operations use, each described once (client generators group methods by them). */
const TAGS = [
  { name: "Events", description: "Send events, and the catalogue of event types a webhook can subscribe to." },
  {
    name: "Webhooks",
    description: "Endpoints that receive events: create, change, enable or disable, rotate secrets, verify, public keys.",
  },
  {
    name: "Deliveries",
    description:
      "What each webhook was sent and how it went: the delivery log, retries, recover, test events, stats; and what an endpoint receives.",
  },
  { name: "Polling", description: "Reading a polling webhook's stream instead of receiving pushes." },
  { name: "Workspace", description: "The caller's workspace: notification email, alert URL and secret, the failure quota." },
  { name: "Alerts", description: "The workspace's operational events as sent to its alertUrl, and their public keys." },
  { name: "Dead letters", description: "Events the queue could not hand to any lane, kept for replay." },
  {
    name: "Admin",
    description: "The operator's routes (ADMIN_TOKEN): workspaces, API keys, portal links, re-encryption of stored secrets.",
  },
];

/** The document's top level; its one server is the origin that serves it (each deployment answers for itself). */
const openApiConfig = (origin: string) => ({
  openapi: "3.1.0",
  info: {
    title: "Edge Webhooks",
    version: "1.0.0",
    description:
      "Reliable, ordered, signed webhook delivery on Cloudflare Workers. Authenticate with `Authorization: Bearer <api key>`. " +
      'Every error answers `{"error": {"code", "message"}}`.',
    license: { name: "MIT", identifier: "MIT" },
    contact: { name: "Edge Webhooks", url: "https://github.com/edge-webhooks" },
  },
  servers: [{ url: origin, description: "This deployment" }],
  tags: TAGS,
});

// The document and its reference page are the same for every request while the isolate lives but for the server
// line: worked out once, not for each caller (generating them took about 15 ms of CPU per request, for anyone, with
// no credential). The reference page is kept for the few origins a deployment answers on.
let generated: ReturnType<typeof api.getOpenAPI31Document> | undefined;
const referencePages = new Map<string, string>();
const openApiDocument = (origin: string) => {
  generated ??= api.getOpenAPI31Document(openApiConfig(""));
  return { ...generated, servers: openApiConfig(origin).servers };
};
api.get("/openapi.json", (c) => c.json(openApiDocument(new URL(c.req.url).origin)));
api.get("/docs", async (c) => {
  const origin = new URL(c.req.url).origin;
  let html = referencePages.get(origin);
  if (html === undefined) {
    html = await (<ApiReference doc={openApiDocument(origin) as unknown as OpenApiDocument} />).toString();
    if (referencePages.size >= 4) referencePages.clear();
    referencePages.set(origin, html);
  }
  return c.html(html);
});
api.get("/", (c) => c.json({ name: "edge-webhooks", docs: "/docs", openapi: "/openapi.json" }));

const methodsFor = allowedMethods(api.routes);

/** A known path with another method answers 405 with `Allow`; anything else the JSON 404. */
export const notFound: NotFoundHandler<AppEnv> = (c) => {
  const methods = methodsFor(c.req.path);
  if (methods.length > 0) {
    c.header("Allow", methods.join(", "));
    return c.json(errorBody("method_not_allowed", `${c.req.method} is not allowed on ${c.req.path}; allowed: ${methods.join(", ")}`), 405);
  }
  return c.json(errorBody("not_found", `no route ${c.req.method} ${c.req.path}; see /docs`), 404);
};
api.notFound(notFound);

api.onError((err, c) => {
  if (err instanceof ApiError) return errorResponse(c, err);
  if (err instanceof HTTPException) {
    // Auth and body-limit middleware prepare their own (already JSON) responses.
    if (err.res) return err.getResponse();
    if (err.status === 400) return c.json(errorBody("malformed_json", "request body is empty or not valid JSON"), 400);
    return c.json(errorBody("internal_error", err.message), err.status);
  }
  // A string some code could not decode (decodeURIComponent): the client's malformed input, never our 500.
  if (err instanceof URIError) return c.json(errorBody("malformed_url", `the request has a malformed percent-escape: ${err.message}`), 400);
  if (err instanceof ConfigError) {
    console.error("configuration error:", err.message);
    return c.json(errorBody("misconfigured", `the service is misconfigured: ${err.message}`), 500);
  }
  console.error("unhandled error:", err);
  return c.json(errorBody("internal_error", "something went wrong on our side; the request may be retried"), 500);
});
