// The event catalogue: the nine respond.io event types, their names and what each is for.

export const EVENT_TYPES = [
  "message.received",
  "message.sent",
  "contact.created",
  "contact.updated",
  "contact.tag.updated",
  "contact.assignee.updated",
  "conversation.opened",
  "conversation.closed",
  "comment.created",
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export interface EventTypeInfo {
  type: EventType;
  /** The name respond.io shows for this event. */
  name: string;
  /** What a receiver typically does with it. */
  description: string;
}

export const EVENT_CATALOG: readonly EventTypeInfo[] = [
  {
    type: "message.received",
    name: "New Incoming Message",
    description: "A contact sent a message. Log it in your CRM or trigger an automation.",
  },
  {
    type: "message.sent",
    name: "New Outgoing Message",
    description: "An agent, workflow or API sent a message to a contact. Keep a full conversation history elsewhere.",
  },
  {
    type: "contact.created",
    name: "New Contact",
    description: "A new contact was added. Create the matching lead or customer record.",
  },
  {
    type: "contact.updated",
    name: "Contact Updated",
    description: "A contact's fields changed. Keep your CRM or e-commerce customer in sync.",
  },
  {
    type: "contact.tag.updated",
    name: "Contact Tag Updated",
    description: "A tag was added to or removed from a contact. Move them between segments or lists.",
  },
  {
    type: "contact.assignee.updated",
    name: "Contact Assignee Updated",
    description: "A contact was assigned to another agent. Update ownership in your CRM.",
  },
  {
    type: "conversation.opened",
    name: "Conversation Opened",
    description: "A conversation was opened. Start an SLA timer or create a ticket.",
  },
  {
    type: "conversation.closed",
    name: "Conversation Closed",
    description: "A conversation was closed, with its category and summary. Report on outcomes.",
  },
  {
    type: "comment.created",
    name: "New Comment",
    description: "An internal comment was added to a conversation. Notify the people it mentions.",
  },
];
