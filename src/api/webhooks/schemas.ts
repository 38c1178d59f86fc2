// Request and response schemas of the webhook settings API; they validate and they document.
import { z } from "@hono/zod-openapi";
import type { WebhookRow } from "../../db/schema";
import type { Env } from "../../env";
import { openHeaders } from "../../lib/encryption";
import { inRotationGrace } from "../../lib/rotation";
import { EVENT_TYPES } from "../../events/catalog";
import { MAX_URL_LENGTH } from "../../lib/url-policy";
import {
  Batch,
  Concurrency,
  Filter,
  Headers,
  MaxInFlight,
  Ordering,
  OrderingKey,
  RateLimitPerSecond,
  RetryDelaysSeconds,
} from "./control-schemas";

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
  ordering: Ordering.optional(),
  orderingKey: OrderingKey.optional(),
  maxInFlight: MaxInFlight.optional(),
  concurrency: Concurrency.optional(),
  batch: Batch.optional(),
};

const Delivery = z.enum(["push", "poll"], { error: 'must be "push" or "poll"' }).openapi({
  description:
    "push (default): the service sends each event to `url`. poll: no `url`; a consumer reads the events with " +
    "`GET /v1/webhooks/{id}/poll` (docs/polling.md). Set at creation.",
  example: "push",
});

/** What a polling webhook has no use for: there is no request to limit, retry or add headers to. */
export const PUSH_ONLY = ["url", "rateLimitPerSecond", "retryDelaysSeconds", "headers", "batch"] as const;

/** The code a push-only field set on a polling webhook answers: batch has its own (CONTRACT), the others the general one. */
export const pushOnlyCode = (field: (typeof PUSH_ONLY)[number]) => (field === "batch" ? "invalid_batch" : "validation_failed");

/** The first push-only field given a value; left out or empty (null, "", {}, as the settings form sends them) is none. */
export function pushOnlyFieldSet(input: Partial<Record<(typeof PUSH_ONLY)[number], unknown>>): (typeof PUSH_ONLY)[number] | undefined {
  return PUSH_ONLY.find((name) => {
    const value = input[name];
    return value !== undefined && value !== null && value !== "" && !(typeof value === "object" && Object.keys(value).length === 0);
  });
}

export const CreateWebhookSchema = z
  .strictObject({ delivery: Delivery.optional(), url: Url.optional(), events: Events, description: Description.optional(), ...controls })
  .superRefine((input, ctx) => {
    if (input.delivery === "poll") {
      const field = pushOnlyFieldSet(input);
      if (field)
        ctx.addIssue({
          code: "custom",
          path: [field],
          message: "a polling webhook has no endpoint: leave it out",
          params: { code: pushOnlyCode(field) },
        });
    } else if (input.url === undefined) {
      ctx.addIssue({ code: "custom", path: ["url"], message: 'is required (or "delivery": "poll" for a webhook read by polling)' });
    }
  })
  .openapi("CreateWebhook");

export const UpdateWebhookSchema = z
  .strictObject({ url: Url.optional(), events: Events.optional(), description: Description.optional(), ...controls })
  .openapi("UpdateWebhook");

export const WebhookSchema = z
  .object({
    id: z.string().openapi({ example: "wh_01jd8x6m3q7v9c2k4n5p6r7s8t" }),
    delivery: Delivery,
    url: z.string().nullable().openapi({ description: "Where events are pushed; null for a polling webhook." }),
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
    ordering: Ordering,
    orderingKey: OrderingKey,
    maxInFlight: MaxInFlight,
    concurrency: Concurrency,
    batch: Batch,
    previousSecretExpiresAt: z.iso
      .datetime()
      .nullable()
      .openapi({ description: "After a rotation: until when the previous secret still signs beside the current one; otherwise null." }),
    publicKey: z.string().openapi({
      description:
        "The Ed25519 public key (`whpk_` + base64 of its 32 bytes) that checks the `v1a` entries of `webhook-signature`; " +
        "also published, with the previous one during a rotation's grace, at `GET /v1/webhooks/{id}/jwks.json`. See docs/signatures.md.",
      example: "whpk_2Q5pT3PAzuYhPiF0X6DYO0M4NyxYw8nKwQcFs9mZ1xg=",
    }),
    verifiedAt: z.iso
      .datetime()
      .nullable()
      .openapi({
        description:
          "When the endpoint at `url` answered its verification challenge; null while it has not (with REQUIRE_ENDPOINT_VERIFICATION " +
          "on, nothing but the challenge is sent to it until then). With the setting off: when the url was set.",
      }),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .openapi("Webhook");

export const WebhookWithSecretSchema = WebhookSchema.extend({
  secret: z.string().openapi({
    description: "Signing secret (Standard Webhooks `whsec_` format). Shown only on creation and rotation.",
    example: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  }),
  pollToken: z
    .string()
    .optional()
    .openapi({
      description:
        "A polling webhook's own token (`whpoll_…`): it reads this webhook's stream (`GET /v1/webhooks/{id}/poll`) and nothing else. " +
        "Shown only on creation and rotation (which replaces it at once); only its hash is stored.",
      example: "whpoll_3vQ9xk2LmP0aRt7Yc1Zb8WqE5sUd6Hn4",
    }),
}).openapi("WebhookWithSecret");

export const WebhookListSchema = z.object({ data: z.array(WebhookSchema) }).openapi("WebhookList");

export const WebhookIdParam = z.object({
  id: z.string().openapi({ param: { name: "id", in: "path" }, example: "wh_01jd8x6m3q7v9c2k4n5p6r7s8t" }),
});

export type Webhook = z.infer<typeof WebhookSchema>;

/** The webhook as the API shows it: its custom headers opened (they are shown), never its secrets or private keys. */
export async function toWebhook(env: Env, row: WebhookRow, now = Date.now()): Promise<Webhook> {
  const graceEnds = row.previousSecretExpiresAt?.getTime() ?? null;
  return {
    id: row.id,
    delivery: row.delivery,
    url: row.delivery === "poll" ? null : row.url,
    events: row.events,
    description: row.description,
    enabled: row.enabled,
    disabledReason: row.disabledReason ?? null,
    disabledAt: row.disabledAt?.toISOString() ?? null,
    rateLimitPerSecond: row.rateLimitPerSecond ?? null,
    retryDelaysSeconds: row.retryDelaysSeconds ?? null,
    headers: await openHeaders(env, row.headers),
    filter: row.filter,
    ordering: row.ordering,
    orderingKey: row.orderingKey ?? null,
    maxInFlight: row.maxInFlight,
    concurrency: row.concurrency,
    batch: row.batch ?? null,
    previousSecretExpiresAt: inRotationGrace(graceEnds, now) ? new Date(graceEnds).toISOString() : null,
    publicKey: row.publicKey,
    verifiedAt: row.verifiedAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

const Jwk = z
  .object({
    kty: z.literal("OKP"),
    crv: z.literal("Ed25519"),
    x: z.string().openapi({ description: "The raw 32-byte public key, base64url." }),
    kid: z.string().openapi({ description: "The key's RFC 7638 thumbprint: stable for as long as the key is in force." }),
    use: z.literal("sig"),
    alg: z.literal("EdDSA"),
  })
  .openapi("Jwk");

export const JwksSchema = z.object({ keys: z.array(Jwk) }).openapi("Jwks");
