// The public keys of a webhook as a JWK Set: public (no key), so a receiver can fetch what checks `v1a` itself.
import { createRoute } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { etag } from "hono/etag";
import { webhooks } from "../../db/schema";
import { newRouter } from "../context";
import { JWKS_DESCRIPTION, JWKS_RESPONSES, publicJwks } from "../public-jwks";
import { WebhookIdParam } from "./schemas";

/** The path, for the auth middleware to let through without a key. */
export const JWKS_PATH = /^\/v1\/webhooks\/[^/]+\/jwks\.json$/;

/** A webhook's JWKS path: what rotate-secret and delete drop from the cache. */
export const jwksPath = (id: string) => `/v1/webhooks/${encodeURIComponent(id)}/jwks.json`;

export const keyRoutes = newRouter();

keyRoutes.use("/:id/jwks.json", etag());

keyRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{id}/jwks.json",
    operationId: "getWebhookJwks",
    tags: ["Webhooks"],
    security: [],
    summary: "The webhook's public keys (JWKS)",
    description:
      "Public, no key needed. The Ed25519 keys that sign the `v1a` entries of `webhook-signature` now, as a JWK Set: the current " +
      `key, and during a rotation's 24 h grace the previous one too. ${JWKS_DESCRIPTION}`,
    request: { params: WebhookIdParam },
    responses: JWKS_RESPONSES,
  }),
  (c) => {
    const { id } = c.req.valid("param");
    return publicJwks(
      c,
      async () => {
        const row = await c.get("db").query.webhooks.findFirst({
          where: eq(webhooks.id, id),
          columns: { publicKey: true, previousPublicKey: true, previousSecretExpiresAt: true },
        });
        return row && { ...row, previousSecretExpiresAt: row.previousSecretExpiresAt?.getTime() ?? null };
      },
      `no webhook ${JSON.stringify(id)}`,
    );
  },
);
