// The API's shapes as the pages read them (the API's JSON, not its database rows).
export type { Webhook } from "../api/webhooks/schemas";
import type { Webhook } from "../api/webhooks/schemas";

export type WebhookWithSecret = Webhook & { secret: string };

export interface Quota {
  limit: number;
  windowSeconds: number;
  failures: number;
}

export interface Workspace {
  id: string;
  name: string;
  notificationEmail: string | null;
}

export interface Attempt {
  at: string;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  responseBody?: string | null;
}

export const DELIVERY_STATUSES = ["pending", "delivered", "dropped", "skipped"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface Delivery {
  eventId: string;
  type: string;
  status: DeliveryStatus;
  test?: boolean;
  createdAt: string;
  deliveredAt: string | null;
  nextAttemptAt?: string | null;
  attempts: Attempt[];
}

export interface DeliveryPage {
  data: Delivery[];
  nextCursor: string | null;
}
