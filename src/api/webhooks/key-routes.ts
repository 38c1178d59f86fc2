// The public keys of a webhook as a JWK Set: public (no key), so a receiver can fetch what checks `v1a` itself.
import { createRoute } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { etag } from "hono/etag";
import { webhooks } from "../../db/schema";
import { jwksOf } from "../../lib/jwks";
import { newRouter } from "../context";
import { ApiError, errorResponses } from "../errors";
import { jsonResponse } from "../openapi";
import { JwksSchema, publicKeysInForce, WebhookIdParam } from "./schemas";

/**
 * How long a receiver (or a cache between) may keep the set. Short, yet safe at any length under the 24 h grace:
 * after a rotation the old key keeps signing beside the new one, so a set fetched before it still verifies.
 */
export const JWKS_MAX_AGE_SECONDS = 300;

/** The path, for the auth middleware to let through without a key. */
export const JWKS_PATH = /^\/v1\/webhooks\/[^/]+\/jwks\.json$/;

export const keyRoutes = newRouter();

keyRoutes.use("/:id/jwks.json", etag());

keyRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{id}/jwks.json",
    tags: ["Webhooks"],
    security: [],
    summary: "The webhook's public keys (JWKS)",
    description:
      "Public, no key needed. The Ed25519 keys that sign the `v1a` entries of `webhook-signature` now, as a JWK Set: the current " +
      "key, and during a rotation's 24 h grace the previous one too. Each `kid` is the key's RFC 7638 thumbprint. Cacheable " +
      `(\`cache-control: public, max-age=${JWKS_MAX_AGE_SECONDS}\`, \`etag\`; \`If-None-Match\` answers 304). See docs/signatures.md.`,
    request: { params: WebhookIdParam },
    responses: {
      200: jsonResponse(JwksSchema, "The keys in force"),
      304: { description: "Not modified (If-None-Match)" },
      ...errorResponses(404),
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const row = await c.get("db").query.webhooks.findFirst({
      where: eq(webhooks.id, id),
      columns: { publicKey: true, previousPublicKey: true, previousSecretExpiresAt: true },
    });
    if (!row) throw new ApiError("not_found", `no webhook ${JSON.stringify(id)}`);
    c.header("cache-control", `public, max-age=${JWKS_MAX_AGE_SECONDS}`);
    c.header("access-control-allow-origin", "*");
    return c.json(await jwksOf(publicKeysInForce(row)), 200);
  },
);
