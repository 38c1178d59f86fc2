// The public keys that sign a workspace's alerts (`v1a`) as a JWK Set: public (no key), like a webhook's.
import { createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { etag } from "hono/etag";
import { workspaces } from "../../db/schema";
import { newRouter } from "../context";
import { JWKS_DESCRIPTION, JWKS_RESPONSES, publicJwks } from "../public-jwks";

/** A workspace's alerts JWKS path: what setting the alertUrl first and rotate-alert-secret drop from the cache. */
export const alertJwksPath = (workspaceId: string) => `/v1/workspaces/${encodeURIComponent(workspaceId)}/alerts/jwks.json`;

const WorkspaceIdParam = z.object({
  workspaceId: z.string().openapi({ param: { name: "workspaceId", in: "path" }, example: "ws_01jd8x6m3q7v9c2k4n5p6r7s8t" }),
});

export const alertKeyRoutes = newRouter();

alertKeyRoutes.use("/:workspaceId/alerts/jwks.json", etag());

alertKeyRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{workspaceId}/alerts/jwks.json",
    operationId: "getAlertJwks",
    tags: ["Alerts"],
    security: [],
    summary: "The alerts' public keys (JWKS)",
    description:
      "Public, no key needed. The Ed25519 keys that sign the `v1a` entries of the workspace's alerts now, as a JWK Set: the current " +
      "key (`alertPublicKey`), and during a rotate-alert-secret's 24 h grace the previous one too. 404 for an unknown workspace and " +
      `for one whose alertUrl was never set. ${JWKS_DESCRIPTION}`,
    request: { params: WorkspaceIdParam },
    responses: JWKS_RESPONSES,
  }),
  (c) => {
    const { workspaceId } = c.req.valid("param");
    return publicJwks(
      c,
      async () => {
        const row = await c.get("db").query.workspaces.findFirst({
          where: eq(workspaces.id, workspaceId),
          columns: { alertPublicKey: true, alertPreviousPublicKey: true, alertPreviousSecretExpiresAt: true },
        });
        if (!row?.alertPublicKey) return undefined;
        return {
          publicKey: row.alertPublicKey,
          previousPublicKey: row.alertPreviousPublicKey,
          previousSecretExpiresAt: row.alertPreviousSecretExpiresAt?.getTime() ?? null,
        };
      },
      `no alert keys for workspace ${JSON.stringify(workspaceId)} (unknown, or its alertUrl was never set)`,
    );
  },
);
