// The API's response shapes as the pages read them: inferred from the API's own zod schemas, so they cannot drift.
import type { z } from "@hono/zod-openapi";
import type { DeadLetterListSchema } from "../api/dead-letters/schemas";
import type {
  AttemptSchema,
  DeliveryListSchema,
  DeliverySchema,
  DeliveryWithPayloadSchema,
  RecoverResultSchema,
} from "../api/webhooks/delivery-schemas";
import type { WebhookWithSecretSchema } from "../api/webhooks/schemas";
import type { StatsSchema } from "../api/webhooks/stats-routes";
import type { AlertSecretSchema, UpdatedWorkspaceSchema, WorkspaceSchema, WorkspaceWithUsageSchema } from "../api/workspace/schemas";

export type { Webhook } from "../api/webhooks/schemas";
export type WebhookWithSecret = z.infer<typeof WebhookWithSecretSchema>;
export type Workspace = Pick<z.infer<typeof WorkspaceSchema>, "id" | "name" | "notificationEmail" | "notificationEmailStatus" | "limits">;
/** The workspace as GET /v1/workspace answers, alertUrl, limits and usage included. */
export type WorkspaceSettings = z.infer<typeof WorkspaceWithUsageSchema>;
export type UpdatedWorkspace = z.infer<typeof UpdatedWorkspaceSchema>;
export type AlertSecret = z.infer<typeof AlertSecretSchema>;
export type Attempt = z.infer<typeof AttemptSchema>;
export type Delivery = z.infer<typeof DeliverySchema>;
export type DeliveryPage = z.infer<typeof DeliveryListSchema>;
export type RecoverResult = z.infer<typeof RecoverResultSchema>;
export type Stats = z.infer<typeof StatsSchema>;
export type DeliveryWithPayload = z.infer<typeof DeliveryWithPayloadSchema>;
export type DeadLetterPage = z.infer<typeof DeadLetterListSchema>;

/** GET /v1/quota (its schema is private to src/api/quota.ts). */
export interface Quota {
  limit: number;
  windowSeconds: number;
  failures: number;
}

export const DELIVERY_STATUSES = ["pending", "delivered", "dropped", "skipped"] as const satisfies readonly Delivery["status"][];
