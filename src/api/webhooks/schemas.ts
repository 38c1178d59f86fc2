// Request and response schemas of the webhook settings API; they validate and they document.
import { z } from "@hono/zod-openapi";
import type { WebhookRow } from "../../db/schema";
import { controlsOf } from "../../delivery/lane-config";
import { inRotationGrace } from "../../lib/rotation";
import { EVENT_TYPES } from "../../events/catalog";
import { MAX_URL_LENGTH } from "../../lib/url-policy";
import { Filter, Headers, RateLimitPerSecond, RetryDelaysSeconds } from "./control-schemas";

export const MAX_DESCRIPTION_LENGTH = 500;

const EventTypeSchema = z
  .enum(EVENT_TYPES, { error: (issue) => `unknown event type ${JSON.stringify(issue.input)}; see GET /v1/event-types` })
  .openapi({ example: "message.received" });

const Url = z.string().openapi({
  format: "uri",
  maxLength: MAX_URL_LENGTH,
  description: "Absolute https URL of the receiver, at most 2 KiB, no credentials, no private addresses (unless ALLOW_PRIVATE_URLS).",
  example: "https://crm.example.com/hooks/respond",
});

const Events = z
  .array(EventTypeSchema)
  .min(1, { error: "must list at least one event type" })
  .openapi({ description: "Event types this webhook receives." });

const Description = z
  .string()
  .max(MAX_DESCRIPTION_LENGTH, { error: `must be at most ${MAX_DESCRIPTION_LENGTH} characters` })
  .openapi({ example: "Sync contacts to our CRM" });

const controls = {
  rateLimitPerSecond: RateLimitPerSecond.optional(),
  retryDelaysSeconds: RetryDelaysSeconds.optional(),
  headers: Headers.optional(),
  filter: Filter.optional(),
};

export const CreateWebhookSchema = z
  .strictObject({ url: Url, events: Events, description: Description.optional(), ...controls })
  .openapi("CreateWebhook");

export const UpdateWebhookSchema = z
  .strictObject({ url: Url.optional(), events: Events.optional(), description: Description.optional(), ...controls })
  .openapi("UpdateWebhook");

export const WebhookSchema = z
  .object({
    id: z.string().openapi({ example: "wh_01jd8x6m3q7v9c2k4n5p6r7s8t" }),
    url: z.string(),
    events: z.array(EventTypeSchema),
    description: z.string(),
    enabled: z.boolean(),
    disabledReason: z
      .enum(["failure_quota", "manual", "gone"])
      .nullable()
      .openapi({ description: "Why the webhook is disabled: too many failed attempts, turned off, or the endpoint answered 410." }),
    disabledAt: z.iso.datetime().nullable(),
    rateLimitPerSecond: RateLimitPerSecond,
    retryDelaysSeconds: RetryDelaysSeconds,
    headers: Headers,
    filter: Filter,
    previousSecretExpiresAt: z.iso
      .datetime()
      .nullable()
      .openapi({ description: "After a rotation: until when the previous secret still signs beside the current one; otherwise null." }),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .openapi("Webhook");

export const WebhookWithSecretSchema = WebhookSchema.extend({
  secret: z.string().openapi({
    description: "Signing secret (Standard Webhooks `whsec_` format). Shown only on creation and rotation.",
    example: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  }),
}).openapi("WebhookWithSecret");

export const WebhookListSchema = z.object({ data: z.array(WebhookSchema) }).openapi("WebhookList");

export const WebhookIdParam = z.object({
  id: z.string().openapi({ param: { name: "id", in: "path" }, example: "wh_01jd8x6m3q7v9c2k4n5p6r7s8t" }),
});

export type Webhook = z.infer<typeof WebhookSchema>;

export function toWebhook(row: WebhookRow, now = Date.now()): Webhook {
  const graceEnds = row.previousSecretExpiresAt?.getTime() ?? null;
  return {
    id: row.id,
    url: row.url,
    events: row.events,
    description: row.description,
    enabled: row.enabled,
    disabledReason: row.disabledReason ?? null,
    disabledAt: row.disabledAt?.toISOString() ?? null,
    ...controlsOf(row),
    filter: row.filter,
    previousSecretExpiresAt: inRotationGrace(graceEnds, now) ? new Date(graceEnds).toISOString() : null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
