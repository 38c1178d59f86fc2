// The message an accepted event travels as, from the ingestion route through the queue to the lanes.
import type { EventType } from "./catalog";

export interface QueuedEvent {
  /** Event id, `evt_…`; also the `webhook-id` every receiver sees. */
  id: string;
  workspaceId: string;
  type: EventType;
  data: Record<string, unknown>;
  /** Unix ms when the producer says it happened (`occurredAt`), else acceptance time. */
  occurredAt: number;
  /** Unix ms when the API accepted it. */
  acceptedAt: number;
  /** Sorts in acceptance order (a monotonic ULID); the lane delivers in this order. */
  orderKey: string;
}
