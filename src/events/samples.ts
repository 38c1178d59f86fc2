// Test events: a realistic sample of each event type, in the shapes respond.io documents for its webhooks,
// so a receiver's parser can be tried against what it will really get.
import type { EventType } from "./catalog";

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

const message = (now: number, traffic: "incoming" | "outgoing", text: string) => ({
  messageId: 1_732_000_000 + (now % 100_000),
  channelMessageId: `wamid.HBgLNjAxMjM0NTY3ODkVAgASGBQzQT${now % 10_000}`,
  contactId: 1046288,
  channelId: 48211,
  traffic,
  timestamp: now,
  message: { type: "text", text },
});

const user = { id: 2231, firstName: "Ravi", lastName: "Kumar", email: "ravi.kumar@example.com" };

/** The `data` of a sample event of `type`, as of `now` (unix ms). */
export function sampleData(type: EventType, now: number): Record<string, unknown> {
  switch (type) {
    case "message.received":
      return { contact: contact(now), message: message(now, "incoming", "Hi! Is my order #4471 on its way?"), channel: channel(now) };
    case "message.sent":
      return {
        contact: contact(now),
        message: { ...message(now, "outgoing", "Yes, it ships today. Tracking: MY1234567"), sender: { source: "user", userId: user.id } },
        channel: channel(now),
      };
    case "contact.created":
      return { contact: { ...contact(now), tags: [], assignee: null, created_at: Math.floor(now / 1000) } };
    case "contact.updated":
      return { contact: contact(now), changes: [{ field: "email", from: "ana@example.org", to: "ana.silva@example.com" }] };
    case "contact.tag.updated":
      return { contact: contact(now), tag: "vip", action: "add" };
    case "contact.assignee.updated":
      return { contact: contact(now), assignee: user, previousAssignee: { id: 1877, firstName: "Mei", lastName: "Tan", email: "mei.tan@example.com" } };
    case "conversation.opened":
      return {
        contact: contact(now),
        conversation: { openedBy: "contact", openedTime: now, firstIncomingMessage: "Hi! Is my order #4471 on its way?", channel: channel(now) },
      };
    case "conversation.closed":
      return {
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
      };
    case "comment.created":
      return {
        contact: contact(now),
        comment: {
          text: "@mei.tan can you check the refund on #4471?",
          mentionedUserEmails: ["mei.tan@example.com"],
          createdBy: user,
          created_at: Math.floor(now / 1000),
        },
      };
  }
}
