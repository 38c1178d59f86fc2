// A receiver typed by what openapi-typescript generates from Edge Webhooks' /openapi.json (its `webhooks`
// section): docs/events.md shows it, and test/e2e/typed-receiver.test.ts generates the types and compiles this.
import type { webhooks } from "./generated/openapi";

/** The event types: every entry of `webhooks` but `batch`, which describes a request carrying several. */
export type EventType = Exclude<keyof webhooks, "batch">;
/** The JSON body of a delivery of event type T. */
export type Delivery<T extends EventType> = webhooks[T]["post"]["requestBody"]["content"]["application/json"];
/** Any delivery: a union told apart by `event_type`. */
export type AnyDelivery = { [T in EventType]: Delivery<T> }[EventType];
/** The headers every delivery carries (signatures, trace context). */
export type DeliveryHeaders = webhooks["message.received"]["post"]["parameters"]["header"];
/** What a webhook with `batch` set receives: `{"events": [...]}`, each element a delivery body as above, in order. */
export type BatchDelivery = webhooks["batch"]["post"]["requestBody"]["content"]["application/json"];
/** A batch's headers: a delivery's, with the batch's own `bat_` id as `webhook-id`. */
export type BatchHeaders = webhooks["batch"]["post"]["parameters"]["header"];

/** One line per delivery: what a CRM sync would do with it. */
export function summarize(body: AnyDelivery, headers: DeliveryHeaders): string {
  const traceId = headers.traceparent.split("-")[1];
  switch (body.event_type) {
    case "message.received":
      return `contact ${body.contact.id} wrote "${body.message.message.text ?? body.message.message.type}" on channel ${body.channel.id} (trace ${traceId})`;
    case "message.sent":
      return `sent to ${body.message.contactId} by ${body.message.sender?.source ?? "someone"}`;
    case "contact.updated":
      return `contact ${body.contact.id} changed ${(body.changes ?? []).map((change) => change.field).join(", ")}`;
    case "contact.tag.updated":
      return `${body.action === "add" ? "tagged" : "untagged"} contact ${body.contact.id} with ${body.tag}`;
    case "contact.assignee.updated":
      return `contact ${body.contact.id} now with ${body.assignee?.email ?? "nobody"}`;
    case "conversation.closed":
      return `conversation closed after ${(body.conversation.closedTime - body.conversation.openedTime) / 1000} s`;
    case "comment.created":
      return `comment: ${body.comment.text}`;
    default:
      return `${body.event_type} ${body.event_id} at ${new Date(body.timestamp).toISOString()}`;
  }
}

/** One line per event of a batch, in the order they came: each element is handled exactly as a single delivery. */
export function summarizeBatch(batch: BatchDelivery, headers: BatchHeaders): string[] {
  return batch.events.map((body, i) => `${headers["webhook-id"]} #${i + 1} ${body.event_id}: ${summarize(body, headers)}`);
}
