// The shape of each event type's `data`, as zod schemas in respond.io's payload shapes: the one source the
// samples, GET /v1/event-types, the OpenAPI `webhooks` section and EVENT_VALIDATION are built from.
//
// Loose about extra keys (producers add fields, receivers ignore what they do not know) and strict about the
// ones a receiver relies on: ids, the parts that say what happened. Optional fields are nullable where
// respond.io sends null for "none" (an unassigned contact, no profile picture).
import { z } from "zod";
import type { EventType } from "./catalog";

const id = z.number().int().describe("respond.io's numeric id");
const unixSeconds = z.number().int().describe("Unix time, seconds");
const unixMs = z.number().int().describe("Unix time, milliseconds");

export const UserSchema = z
  .looseObject({
    id,
    firstName: z.string().optional(),
    lastName: z.string().optional(),
    email: z.string().optional(),
  })
  .describe("A workspace user (agent)");

export const ContactSchema = z
  .looseObject({
    id,
    firstName: z.string().nullable().optional(),
    lastName: z.string().nullable().optional(),
    phone: z.string().nullable().optional(),
    email: z.string().nullable().optional(),
    language: z.string().nullable().optional(),
    profilePic: z.string().nullable().optional(),
    countryCode: z.string().nullable().optional(),
    status: z.string().nullable().optional(),
    tags: z.array(z.string()).optional(),
    assignee: UserSchema.nullable().optional(),
    lifecycle: z.string().nullable().optional(),
    created_at: unixSeconds.optional(),
  })
  .describe("The contact the event is about");

export const ChannelSchema = z
  .looseObject({
    id,
    name: z.string().optional(),
    source: z.string().optional().describe("whatsapp, facebook, instagram, telegram, …"),
    created_at: unixSeconds.optional(),
  })
  .describe("The channel the message went through");

const MessageContentSchema = z
  .looseObject({
    type: z.string().describe("text, attachment, location, quick_reply, …"),
    text: z.string().optional(),
  })
  .describe("What was said");

const messageOf = (traffic: "incoming" | "outgoing") =>
  z.looseObject({
    messageId: id,
    channelMessageId: z.string().optional(),
    contactId: id,
    channelId: id,
    traffic: z.literal(traffic),
    timestamp: unixMs,
    message: MessageContentSchema,
  });

const MessageSenderSchema = z
  .looseObject({
    source: z.string().describe("user, workflow, api, broadcast, …"),
    userId: id.nullable().optional(),
  })
  .describe("Who sent it");

const ConversationOpenedSchema = z.looseObject({
  openedBy: z.string().describe("contact, user, workflow, api, …"),
  openedTime: unixMs,
  firstIncomingMessage: z.string().nullable().optional(),
  channel: ChannelSchema.optional(),
});

const ConversationClosedSchema = z.looseObject({
  category: z.string().nullable().optional(),
  summary: z.string().nullable().optional(),
  openedTime: unixMs,
  closedTime: unixMs,
  firstResponseTime: z.number().nullable().optional().describe("Seconds"),
  resolutionTime: z.number().nullable().optional().describe("Seconds"),
  openedBy: z.string().optional(),
  closedBy: UserSchema.nullable().optional(),
  incomingMessageCount: z.number().int().optional(),
  outgoingMessageCount: z.number().int().optional(),
});

const CommentSchema = z.looseObject({
  text: z.string(),
  mentionedUserEmails: z.array(z.string()).optional(),
  createdBy: UserSchema.nullable().optional(),
  created_at: unixSeconds.optional(),
});

/** Each event type's `data`: what the endpoint receives at the top level of the body, beside the envelope. */
export const EVENT_DATA_SCHEMAS = {
  "message.received": z.looseObject({ contact: ContactSchema, message: messageOf("incoming"), channel: ChannelSchema }),
  "message.sent": z.looseObject({
    contact: ContactSchema,
    message: messageOf("outgoing").extend({ sender: MessageSenderSchema.optional() }),
    channel: ChannelSchema,
  }),
  "contact.created": z.looseObject({ contact: ContactSchema }),
  "contact.updated": z.looseObject({
    contact: ContactSchema,
    changes: z
      .array(z.looseObject({ field: z.string(), from: z.unknown().optional(), to: z.unknown().optional() }))
      .optional()
      .describe("The fields that changed, when the producer knows"),
  }),
  "contact.tag.updated": z.looseObject({ contact: ContactSchema, tag: z.string(), action: z.enum(["add", "remove"]) }),
  "contact.assignee.updated": z.looseObject({
    contact: ContactSchema,
    assignee: UserSchema.nullable().describe("The new assignee; null when unassigned"),
    previousAssignee: UserSchema.nullable().optional(),
  }),
  "conversation.opened": z.looseObject({ contact: ContactSchema, conversation: ConversationOpenedSchema }),
  "conversation.closed": z.looseObject({ contact: ContactSchema, conversation: ConversationClosedSchema }),
  "comment.created": z.looseObject({ contact: ContactSchema, comment: CommentSchema }),
} as const satisfies Record<EventType, z.ZodType>;

/** The `data` of an event of `type`, as its schema types it. */
export type EventData<T extends EventType> = z.input<(typeof EVENT_DATA_SCHEMAS)[T]>;

/** What did not match: the first problem's path (`data.contact.id`) and a sentence for people. */
export interface DataMismatch {
  /** Where, from `data` on: `data.contact.id`, `data.changes[0].field`. */
  path: string;
  message: string;
}

/** `data.contact.id`, `data.changes[0].field`: the request field a problem is about. */
function pathOf(path: readonly PropertyKey[]): string {
  return path.reduce<string>((at, key) => (typeof key === "number" ? `${at}[${key}]` : `${at}.${String(key)}`), "data");
}

/** How many of the other problems' paths a mismatch's message lists (it says how many there are in all). */
const MORE_PATHS_LISTED = 10;

/** Checks `data` against its type's schema: null when it matches, else what did not (the first problem, and where the others are). */
export function checkEventData(type: EventType, data: unknown): DataMismatch | null {
  const result = EVENT_DATA_SCHEMAS[type].safeParse(data);
  if (result.success) return null;
  const [first, ...rest] = result.error.issues;
  const path = pathOf(first!.path);
  const listed = rest.slice(0, MORE_PATHS_LISTED).map((i) => pathOf(i.path));
  const more = rest.length > 0 ? ` (and ${rest.length} more: ${listed.join(", ")}${rest.length > listed.length ? ", …" : ""})` : "";
  return { path, message: `${path}: ${first!.message} (${type} schema, GET /v1/event-types)${more}` };
}

const jsonSchemas = new Map<EventType, Record<string, unknown>>();

/** The JSON Schema (draft 2020-12) of a type's `data`, as GET /v1/event-types serves it; built once per isolate. */
export function eventDataJsonSchema(type: EventType): Record<string, unknown> {
  let schema = jsonSchemas.get(type);
  if (!schema) jsonSchemas.set(type, (schema = z.toJSONSchema(EVENT_DATA_SCHEMAS[type], { io: "input" }) as Record<string, unknown>));
  return schema;
}
