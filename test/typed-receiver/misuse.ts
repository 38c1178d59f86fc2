// Mistakes the generated types must catch (test/e2e/typed-receiver.test.ts expects tsc to refuse each line
// marked "error"): proof that the types say something, rather than `any`.
import type { AnyDelivery, BatchDelivery, Delivery } from "./receiver";

export function misuse(
  body: AnyDelivery,
  received: Delivery<"message.received">,
  tagged: Delivery<"contact.tag.updated">,
  batch: BatchDelivery,
) {
  const upper: string = received.contact.id; // error: the id is a number
  const noSuchType = body.event_type === "message.deleted"; // error: not an event type
  const action: "add" | "remove" | "toggle" = tagged.action;
  const wrongAction: typeof tagged.action = "toggle"; // error: add or remove
  const missing: Delivery<"contact.created"> = {
    event_type: "contact.created",
    event_id: "evt_1",
    timestamp: 1,
    contact: { firstName: "Ana" }, // error: contact.id is required
  };
  const batchType = batch.event_type; // error: a batch has no event_type, its events do
  const first: Delivery<"message.received"> | undefined = batch.events[0]; // error: an element may be of any type
  const ok: AnyDelivery | undefined = batch.events[0];
  return [upper, noSuchType, action, wrongAction, missing, batchType, first, ok];
}
