// What one failed attempt does, decided from the window alone: whether its webhook is turned off, and which emails
// and alerts the workspace is owed. A pure tracker: it returns these as data; the quota object records them and
// its owed-message sender (owed.ts) acts on them.
import type { Alert } from "../alerts/catalog";
import type { DisabledReason } from "../db/schema";

export interface FailureReport {
  webhookId: string;
  /** The workspace, for the early-warning email (which names no webhook) and the alerts. */
  workspaceId?: string;
  /** The webhook's URL, for the webhook.disabled alert. */
  url?: string;
  eventId: string;
  /** Unix ms when the attempt failed. */
  at: number;
  /**
   * The lane's config version when the attempt started: attempts out when their webhook was auto-disabled all
   * report the version that disable ended, so the quota counts none of them again (workspace-quota.ts).
   */
  configVersion?: number;
  statusCode: number | null;
  error: string | null;
}

export interface QuotaStatus {
  limit: number;
  windowSeconds: number;
  /** Failed attempts inside the window. */
  failures: number;
}

export interface QuotaVerdict extends QuotaStatus {
  /** True when this failure leaves the workspace with more than `limit` failures in the window. */
  exceeded: boolean;
  /** Whether, and why, this failure turns its webhook off; the lane then does so at the failure's time. */
  disable: DisabledReason | null;
  /**
   * Set when an auto-disable already ended the config version the attempt started under: the failure counted
   * nothing, and `disable` repeats that disable for a lane still on that version (one that could not apply it).
   */
  repeated?: true;
}

/** A message the workspace is owed: an email (the quota disable's, or the early warning, which names no webhook) or an alert. */
export type Owed = { email: "disable" | "warning"; webhookId: string } | { alert: Alert };

export interface QuotaDecision extends QuotaVerdict {
  owed: Owed[];
}

/** The early-warning email goes out when the window holds this share of the limit. */
export const WARNING_SHARE = 0.8;

/** What a failed attempt does to its webhook: 410 Gone ends it whatever the quota; going over the quota disables it. */
export function autoDisableReason(statusCode: number | null, exceeded: boolean): DisabledReason | null {
  if (statusCode === 410) return "gone";
  return exceeded ? "failure_quota" : null;
}

/**
 * Decides what `report` does, given the window with it counted and whether a warning already went out in this
 * window: the webhook's fate, one email per quota disable, an early warning at most once per window, and the
 * alerts for both (a workspace's operational events, src/alerts).
 */
export function decideFailure(report: FailureReport, status: QuotaStatus, warnedInWindow: boolean): QuotaDecision {
  const exceeded = status.failures > status.limit;
  const disable = autoDisableReason(report.statusCode, exceeded);
  const owed: Owed[] = [];
  const { workspaceId, webhookId, at } = report;
  if (disable === "failure_quota") owed.push({ email: "disable", webhookId });
  if (disable && workspaceId) {
    const data = { webhookId, url: report.url ?? null, reason: disable, disabledAt: new Date(at).toISOString() };
    owed.push({ alert: { workspaceId, type: "webhook.disabled", key: `${webhookId}\n${at}`, at, data } });
  }
  if (workspaceId && !exceeded && status.failures >= Math.ceil(status.limit * WARNING_SHARE) && !warnedInWindow) {
    owed.push({ email: "warning", webhookId: "" });
    const data = { failures: status.failures, limit: status.limit, windowSeconds: status.windowSeconds };
    owed.push({ alert: { workspaceId, type: "quota.warning", key: String(at), at, data } });
  }
  return { ...status, exceeded, disable, owed };
}
