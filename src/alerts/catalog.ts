// The workspace's operational events (README "Alerts"): what each one says, and the event a lane delivers for it.
import { ulid } from "ulidx";
import { derivedEventId } from "../lib/ids";

export const ALERT_TYPES = ["webhook.disabled", "quota.warning", "dead_letter.created", "alert.test"] as const;
export type AlertType = (typeof ALERT_TYPES)[number];

export const ALERT_DESCRIPTIONS: Record<AlertType, string> = {
  "webhook.disabled": "A webhook was turned off automatically: by the failure quota, or because its endpoint answered 410 Gone. {webhookId, url, reason, disabledAt}",
  "quota.warning": "The workspace's failure window reached 80% of its limit (once per window). {failures, limit, windowSeconds}",
  "dead_letter.created": "The queue gave up on an event and kept it as a dead letter, to list and replay. {eventId, type, reason}",
  "alert.test": "Sent by POST /v1/workspace/alerts/test, to check the alert endpoint. {message}",
};

/** One operational event of a workspace. `key` names what it is about, so raising it again yields the same event id. */
export interface Alert {
  workspaceId: string;
  type: AlertType;
  key: string;
  /** Unix ms when it happened: the body's `timestamp` and its place in the alert line. */
  at: number;
  data: Record<string, unknown>;
}

/** The event an alert is delivered as. Its id is derived from workspace, type and key: an alert raised twice is stored once. */
export async function alertEvent(alert: Alert) {
  return {
    id: await derivedEventId(alert.workspaceId, alert.type, alert.key),
    workspaceId: alert.workspaceId,
    type: alert.type,
    data: alert.data,
    occurredAt: alert.at,
    acceptedAt: alert.at,
    orderKey: ulid(alert.at),
  };
}
