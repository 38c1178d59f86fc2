// Schemas of workspaces and API keys, shared by the admin API and the workspace's own routes.
import { z } from "@hono/zod-openapi";
import { DATA_LOCATIONS } from "../../bindings";
import type { ApiKeyRow, WorkspaceRow } from "../../db/schema";
import { emailStatusOf } from "../../notification-email/confirmation";
import { LIMIT_NAMES, LIMITS, limitsOf } from "../../lib/limits";

export const NotificationEmail = z
  .email({ error: "must be an email address" })
  .max(254)
  .nullable()
  .openapi({
    description:
      "Where auto-disable notices and early warnings go; null for none. A new address first receives one confirmation message, and nothing " +
      "else until its owner confirms it through that message's link (see notificationEmailStatus).",
    example: "ops@example.com",
  });

export const NotificationEmailStatusSchema = z.enum(["none", "pending", "confirmed"]).openapi({
  description:
    "none: no address. pending: a confirmation message was sent (or is waiting for POST /v1/workspace/notification-email/resend) and " +
    "nothing else goes to the address until it is confirmed. confirmed: notices go there.",
  example: "confirmed",
});

export const AlertUrl = z
  .string()
  .nullable()
  .openapi({
    format: "uri",
    description:
      "Where the workspace's operational events go (webhook.disabled, quota.warning, dead_letter.created), signed with `alertSecret`; " +
      "null for none. The same URL policy as a webhook's url.",
    example: "https://ops.example.com/hooks/webhook-alerts",
  });

const AlertPublicKey = z.string().openapi({
  description:
    "The Ed25519 public key (`whpk_` + base64 of 32 bytes) that checks the `v1a` entry of every alert's `webhook-signature`; made " +
    "with alertSecret when alertUrl is first set, null before. Also published at GET /v1/workspaces/{workspaceId}/alerts/jwks.json.",
  example: "whpk_O6Fmc2ltcGxlLXB1YmxpYy1rZXktZXhhbXBsZS0zMmI=",
});

export const DataLocation = z
  .enum(DATA_LOCATIONS, { error: (issue) => `must be "eu", "fedramp" or null, not ${JSON.stringify(issue.input)}` })
  .nullable()
  .openapi({
    description:
      "Where the workspace's payloads, attempts, dead letters and quota records are stored: only in Durable Objects of that " +
      "Cloudflare jurisdiction (docs/data-location.md); null: anywhere. Set at creation, never changed.",
    example: "eu",
  });

/** Each limit in force for the workspace (docs/limits.md), documented from the one list in src/lib/limits.ts. */
export const LimitsSchema = z
  .object(
    Object.fromEntries(
      LIMIT_NAMES.map((name) => [
        name,
        z
          .number()
          .int()
          .openapi({ description: `${LIMITS[name].meaning} (default ${LIMITS[name].default})`, example: LIMITS[name].default }),
      ]),
    ) as Record<(typeof LIMIT_NAMES)[number], z.ZodNumber>,
  )
  .openapi("WorkspaceLimits", { description: "The limits in force for this workspace: the defaults, or what the operator set." });

export const UsageSchema = z
  .object({ webhooks: z.number().int().openapi({ description: "Webhooks the workspace has now (push and poll)", example: 3 }) })
  .openapi("WorkspaceUsage", { description: "What the workspace uses now, beside its limits." });

export const WorkspaceSchema = z
  .object({
    id: z.string().openapi({ example: "ws_01jd8x6m3q7v9c2k4n5p6r7s8t" }),
    name: z.string(),
    notificationEmail: z.string().nullable(),
    notificationEmailStatus: NotificationEmailStatusSchema,
    alertUrl: z.string().nullable().openapi({ description: "Where operational events go; null for none." }),
    alertUrlVerifiedAt: z.iso
      .datetime()
      .nullable()
      .openapi({
        description:
          "When the endpoint at alertUrl answered its verification challenge (REQUIRE_ENDPOINT_VERIFICATION, docs/signatures.md); " +
          "null while it has not, and nothing but the challenge is sent to it until then. With verification off, when alertUrl was set.",
      }),
    alertPublicKey: AlertPublicKey.nullable(),
    dataLocation: DataLocation,
    limits: LimitsSchema,
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .openapi("Workspace");

export const WorkspaceWithUsageSchema = WorkspaceSchema.extend({ usage: UsageSchema }).openapi("WorkspaceWithUsage");

export const UpdatedWorkspaceSchema = WorkspaceSchema.extend({
  alertSecret: z.string().optional().openapi({
    description: "Only when this request set alertUrl for the first time: the secret that signs alerts (`whsec_…`). Not shown again.",
    example: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  }),
}).openapi("UpdatedWorkspace");

export const AlertSecretSchema = z
  .object({
    alertSecret: z.string().openapi({ example: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }),
    alertPublicKey: AlertPublicKey,
    previousSecretExpiresAt: z.iso.datetime().openapi({
      description:
        "Until then the previous secret and key pair keep signing too (a second `v1` and a second `v1a` entry in `webhook-signature`).",
    }),
  })
  .openapi("AlertSecret");

export const ApiKeySchema = z
  .object({
    id: z.string().openapi({ example: "key_01jd8x6m3q7v9c2k4n5p6r7s8t" }),
    prefix: z.string().openapi({ description: "The visible start of the key", example: "whk_3vQ9xk2L" }),
    createdAt: z.iso.datetime(),
    lastUsedAt: z.iso.datetime().nullable(),
    revokedAt: z.iso.datetime().nullable(),
  })
  .openapi("ApiKey");

export function toWorkspace(row: WorkspaceRow) {
  return {
    id: row.id,
    name: row.name,
    notificationEmail: row.notificationEmail ?? null,
    notificationEmailStatus: emailStatusOf(row),
    alertUrl: row.alertUrl ?? null,
    alertUrlVerifiedAt: row.alertUrlVerifiedAt?.toISOString() ?? null,
    alertPublicKey: row.alertPublicKey ?? null,
    dataLocation: row.dataLocation ?? null,
    limits: limitsOf(row.limits),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function toApiKey(row: ApiKeyRow) {
  return {
    id: row.id,
    prefix: row.prefix,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}
