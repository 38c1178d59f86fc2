// The workspace's operational events (README "Alerts"): what each one says, and the event a lane delivers for it.
import { ulid } from "ulidx";
import { derivedEventId } from "../lib/ids";

export const ALERT_TYPES = ["webhook.disabled", "quota.warning", "dead_letter.created", "alert.test"] as const;
export type AlertType = (typeof ALERT_TYPES)[number];

/** Each alert in a respond.io user's words: a name, and what happened and what it says. */
export const ALERT_DESCRIPTIONS: Record<AlertType, { name: string; text: string }> = {
  "webhook.disabled": {
    name: "Webhook disabled",
    text: "A webhook was switched off automatically, because it failed too often (the failure quota) or its endpoint answered 410 Gone. It says which webhook, its URL, why and when.",
  },
  "quota.warning": {
    name: "Failures piling up",
    text: "This workspace's webhooks reached 80% of the failures allowed in the quota window, before anything is switched off (once per window). It says how many failed, the limit and the window.",
  },
  "dead_letter.created": {
    name: "Event set aside",
    text: "An event could not be handed to its webhooks and was kept as a dead letter, to look at and send again from the Webhooks page. It says which event and why.",
  },
  "alert.test": { name: "Test alert", text: "Sent when you press “Send a test alert”, to check your endpoint." },
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
