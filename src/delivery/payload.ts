// What a receiver gets: respond.io's flat JSON body (signing is in signing.ts).
import type { EventType } from "../events/catalog";

export interface PayloadInput {
  id: string;
  /** An event type, or an alert type (src/alerts). */
  type: EventType | (string & {});
  /** Unix ms, `timestamp` in the body. */
  occurredAt: number;
  data: Record<string, unknown>;
}

/**
 * `{"event_type", "event_id", "timestamp", ...data}`: the producer's keys at top level, the envelope's win on a clash.
 * Built with fromEntries so a `__proto__` key in the data stays a plain key.
 */
export function bodyOf(event: PayloadInput): Record<string, unknown> {
  const envelope: [string, unknown][] = [
    ["event_type", event.type],
    ["event_id", event.id],
    ["timestamp", event.occurredAt],
  ];
  const reserved = new Set(envelope.map(([key]) => key));
  const rest = Object.entries(event.data).filter(([key]) => !reserved.has(key));
  return Object.fromEntries([...envelope, ...rest]);
}

/** The body as sent: bodyOf as JSON. */
export function buildBody(event: PayloadInput): string {
  return JSON.stringify(bodyOf(event));
}
