// Test events: a realistic sample of each event type, in the shapes respond.io documents for its webhooks,
// so a receiver's parser can be tried against what it will really get. Each is typed by its schema (schemas.ts),
// and a test parses every one with it: a sample cannot drift from what validation and the OpenAPI describe.
import type { EventType } from "./catalog";
import type { EventData } from "./schemas";

const contact = (now: number) => ({
  id: 1046288,
  firstName: "Ana",
  lastName: "Silva",
  phone: "+60123456789",
  email: "ana.silva@example.com",
  language: "en",
  profilePic: null,
  countryCode: "MY",
  status: "open",
  tags: ["vip", "newsletter"],
  assignee: { id: 2231, firstName: "Ravi", lastName: "Kumar", email: "ravi.kumar@example.com" },
  lifecycle: "Hot Lead",
  created_at: Math.floor(now / 1000) - 86_400 * 12,
});

const channel = (now: number) => ({
  id: 48211,
  name: "WhatsApp Business",
  source: "whatsapp",
  created_at: Math.floor(now / 1000) - 86_400 * 400,
});

const message = <T extends "incoming" | "outgoing">(now: number, traffic: T, text: string) => ({
  messageId: 1_732_000_000 + (now % 100_000),
  channelMessageId: `wamid.HBgLNjAxMjM0NTY3ODkVAgASGBQzQT${now % 10_000}`,
  contactId: 1046288,
  channelId: 48211,
  traffic,
  timestamp: now,
  message: { type: "text", text },
});

const user = { id: 2231, firstName: "Ravi", lastName: "Kumar", email: "ravi.kumar@example.com" };

/** A sample's builder per type, each checked against its type's schema by the compiler. */
const SAMPLES: { [T in EventType]: (now: number) => EventData<T> } = {
  "message.received": (now) => ({
    contact: contact(now),
    message: message(now, "incoming", "Hi! Is my order #4471 on its way?"),
    channel: channel(now),
  }),
  "message.sent": (now) => ({
    contact: contact(now),
    message: { ...message(now, "outgoing", "Yes, it ships today. Tracking: MY1234567"), sender: { source: "user", userId: user.id } },
    channel: channel(now),
  }),
  "contact.created": (now) => ({ contact: { ...contact(now), tags: [], assignee: null, created_at: Math.floor(now / 1000) } }),
  "contact.updated": (now) => ({
    contact: contact(now),
    changes: [{ field: "email", from: "ana@example.org", to: "ana.silva@example.com" }],
  }),
  "contact.tag.updated": (now) => ({ contact: contact(now), tag: "vip", action: "add" }),
  "contact.assignee.updated": (now) => ({
    contact: contact(now),
    assignee: user,
    previousAssignee: { id: 1877, firstName: "Mei", lastName: "Tan", email: "mei.tan@example.com" },
  }),
  "conversation.opened": (now) => ({
    contact: contact(now),
    conversation: {
      openedBy: "contact",
      openedTime: now,
      firstIncomingMessage: "Hi! Is my order #4471 on its way?",
      channel: channel(now),
    },
  }),
  "conversation.closed": (now) => ({
    contact: contact(now),
    conversation: {
      category: "Order status",
      summary: "Customer asked about order #4471; shared the tracking number.",
      openedTime: now - 1_260_000,
      closedTime: now,
      firstResponseTime: 95,
      resolutionTime: 1260,
      openedBy: "contact",
      closedBy: user,
      incomingMessageCount: 3,
      outgoingMessageCount: 2,
    },
  }),
  "comment.created": (now) => ({
    contact: contact(now),
    comment: {
      text: "@mei.tan can you check the refund on #4471?",
      mentionedUserEmails: ["mei.tan@example.com"],
      createdBy: user,
      created_at: Math.floor(now / 1000),
    },
  }),
};

/** The `data` of a sample event of `type`, as of `now` (unix ms). */
export function sampleData(type: EventType, now: number): Record<string, unknown> {
  return SAMPLES[type](now);
}

/** The time documentation examples are taken at (2026-11-21T10:00:00Z), so the documents stay the same from one request to the next. */
export const EXAMPLE_TIME = Date.UTC(2026, 10, 21, 10, 0, 0);
