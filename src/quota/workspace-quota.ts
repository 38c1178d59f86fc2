// The workspace's shared failure quota: one Durable Object per workspace counts failed attempts of all
// its webhooks in an exact sliding window (timestamps in SQLite, pruned as it goes), decides which failure
// disables its webhook, and owns what that is owed: the one email per quota disable and the early warning,
// and the alerts (src/alerts) for every auto-disable and warning. It records each as owed, sends it, and
// retries it with its own alarm.
//
// Until the first tagged release this schema is edited in place (README "Storage schemas").
import { DurableObject } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { readConfig } from "../config";
import { openDb } from "../db/client";
import type { DisabledReason } from "../db/schema";
import { webhooks, workspaces } from "../db/schema";
import type { Env } from "../env";
import { confirmedRecipient } from "../notification-email/confirmation";
import { disableNotice, warningNotice } from "./notice";
import type { Alert, AlertType } from "../alerts/catalog";
import { raiseAlert } from "../alerts/send";
import { DEAD_LETTER_SCHEMA, deadLetterPage, findKeptDeadLetter, keepDeadLetter, markKeptReplayed } from "../dead-letters/object-store";
import type { NewDeadLetter } from "../dead-letters/store";

export interface FailureReport {
  webhookId: string;
  /** The workspace, for the early-warning email (which names no webhook) and the alerts. */
  workspaceId?: string;
  /** The webhook's URL, for the webhook.disabled alert. */
  url?: string;
  eventId: string;
  /** Unix ms when the attempt failed. */
  at: number;
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
}

/** What a failed attempt does to its webhook: 410 Gone ends it whatever the quota; going over the quota disables it. */
export function autoDisableReason(statusCode: number | null, exceeded: boolean): DisabledReason | null {
  if (statusCode === 410) return "gone";
  return exceeded ? "failure_quota" : null;
}

// A type alias (not an interface) so it fits SqlStorage's row constraint.
export type Notice = {
  /** disable (a webhook was turned off) | warning (the window reached WARNING_SHARE of the limit) */
  kind: string;
  /** The webhook disabled; empty for a warning. */
  webhook_id: string;
  workspace_id: string | null;
  disabled_at: number;
  /** owed (not sent yet) | sent | no_address | unconfirmed (the address has not confirmed: nothing sent) | gave_up */
  outcome: string;
  attempts: number;
  next_try_at: number;
  recipient: string | null;
  subject: string | null;
  message_id: string | null;
  created_at: number;
};

/** An alert the quota owes its workspace's alerts lane (src/alerts); a type alias to fit SqlStorage's row constraint. */
export type OwedAlert = {
  /** The alert's key (catalog.ts): what it is about, so owing it twice keeps one. */
  key: string;
  workspace_id: string;
  type: AlertType;
  at: number;
  /** JSON of the alert's data. */
  data: string;
  /** owed | sent (in the alerts lane) | no_alert_url | gave_up */
  outcome: string;
  attempts: number;
  next_try_at: number;
};

/** How many of the webhook's latest failures the email lists. */
const FAILURES_IN_NOTICE = 10;
/** A notice that could not be sent is tried again this much later ... */
const NOTICE_RETRY_MS = 5_000;
/** ... up to this many times in all (e.g. Email Sending not set up), then given up, loudly. */
const MAX_NOTICE_ATTEMPTS = 10;
/** The early-warning email goes out when the window holds this share of the limit. */
export const WARNING_SHARE = 0.8;

export class WorkspaceQuota extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS failures (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        webhook_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        status_code INTEGER,
        error TEXT
      );
      CREATE INDEX IF NOT EXISTS failures_by_time ON failures (at);
      CREATE TABLE IF NOT EXISTS notices (
        kind TEXT NOT NULL DEFAULT 'disable',
        webhook_id TEXT NOT NULL,
        workspace_id TEXT,
        disabled_at INTEGER NOT NULL,
        outcome TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_try_at INTEGER NOT NULL,
        recipient TEXT,
        subject TEXT,
        message_id TEXT,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (webhook_id, disabled_at)
      );
      CREATE INDEX IF NOT EXISTS notices_owed ON notices (next_try_at) WHERE outcome = 'owed';
      CREATE TABLE IF NOT EXISTS alerts (
        key TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL,
        type TEXT NOT NULL,
        at INTEGER NOT NULL,
        data TEXT NOT NULL,
        outcome TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_try_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS alerts_owed ON alerts (next_try_at) WHERE outcome = 'owed';
    `);
    this.sql.exec(DEAD_LETTER_SCHEMA);
  }

  // A workspace with a data location keeps its dead letters here, in its jurisdiction (src/dead-letters/where.ts).
  async keepDeadLetter(row: NewDeadLetter, cutoff: number): Promise<void> {
    keepDeadLetter(this.sql, row, cutoff);
  }

  async deadLetterPage(workspaceId: string, query: Parameters<typeof deadLetterPage>[2]) {
    return deadLetterPage(this.sql, workspaceId, query);
  }

  async deadLetter(workspaceId: string, eventId: string) {
    return findKeptDeadLetter(this.sql, workspaceId, eventId);
  }

  async markDeadLetterReplayed(workspaceId: string, eventId: string, at: number) {
    return markKeptReplayed(this.sql, workspaceId, eventId, at);
  }

  /**
   * Counts one failed attempt and says what it does to its webhook. A quota disable is owed an email,
   * recorded here (once per webhook and time) and sent by this object's alarm.
   */
  async recordFailure(report: FailureReport): Promise<QuotaVerdict> {
    this.sql.exec(
      "INSERT INTO failures (at, webhook_id, event_id, status_code, error) VALUES (?, ?, ?, ?, ?)",
      report.at,
      report.webhookId,
      report.eventId,
      report.statusCode,
      report.error,
    );
    const status = this.windowAt(report.at);
    const exceeded = status.failures > status.limit;
    const disable = autoDisableReason(report.statusCode, exceeded);
    const owe = (kind: "disable" | "warning", webhookId: string) =>
      this.sql.exec(
        "INSERT OR IGNORE INTO notices (kind, webhook_id, workspace_id, disabled_at, outcome, next_try_at, created_at) VALUES (?, ?, ?, ?, 'owed', ?, ?)",
        kind,
        webhookId,
        report.workspaceId ?? null,
        report.at,
        Date.now(),
        Date.now(),
      );
    const alert = (type: AlertType, key: string, data: Record<string, unknown>) =>
      report.workspaceId && this.oweAlert({ workspaceId: report.workspaceId, type, key, at: report.at, data });
    let owed = false;
    if (disable === "failure_quota") owe("disable", report.webhookId), (owed = true);
    if (disable) {
      alert("webhook.disabled", `${report.webhookId}\n${report.at}`, { webhookId: report.webhookId, url: report.url ?? null, reason: disable, disabledAt: new Date(report.at).toISOString() });
      owed = true;
    }
    // An early warning when the window reaches 80% of the limit, at most once per window.
    const warnAt = Math.ceil(status.limit * WARNING_SHARE);
    if (report.workspaceId && !exceeded && status.failures >= warnAt && !this.warnedSince(report.at - status.windowSeconds * 1000)) {
      owe("warning", "");
      alert("quota.warning", String(report.at), { failures: status.failures, limit: status.limit, windowSeconds: status.windowSeconds });
      owed = true;
    }
    if (owed) await this.armForNotices();
    return { ...status, exceeded, disable };
  }

  async status(): Promise<QuotaStatus> {
    return this.windowAt(Date.now());
  }

  /** A webhook turned back on starts with a clean slate: its old failures stop counting. */
  async forgetWebhook(webhookId: string): Promise<QuotaStatus> {
    this.sql.exec("DELETE FROM failures WHERE webhook_id = ?", webhookId);
    return this.windowAt(Date.now());
  }

  /** Every notice of this workspace, owed or done (sent, no address, given up), newest first. */
  async notices(): Promise<Notice[]> {
    return this.sql.exec<Notice>("SELECT * FROM notices ORDER BY created_at DESC").toArray();
  }

  /** Every alert this object owed its workspace's alerts lane, newest first, with what became of it. */
  async alerts(): Promise<OwedAlert[]> {
    return this.sql.exec<OwedAlert>("SELECT * FROM alerts ORDER BY at DESC").toArray();
  }

  private oweAlert(alert: Alert): void {
    this.sql.exec(
      "INSERT OR IGNORE INTO alerts (key, workspace_id, type, at, data, outcome, next_try_at) VALUES (?, ?, ?, ?, ?, 'owed', ?)",
      alert.key,
      alert.workspaceId,
      alert.type,
      alert.at,
      JSON.stringify(alert.data),
      Date.now(),
    );
  }

  private warnedSince(since: number): boolean {
    return this.sql.exec("SELECT 1 FROM notices WHERE kind = 'warning' AND disabled_at > ? LIMIT 1", since).toArray().length > 0;
  }

  /** Sends the notices that are due; one that fails waits NOTICE_RETRY_MS, up to MAX_NOTICE_ATTEMPTS in all. */
  override async alarm(): Promise<void> {
    // The alarm is armed for the earliest owed notice, so that one is due whenever it fires.
    const clock = Math.max(Date.now(), this.nextNoticeAt() ?? 0);
    const due = this.sql.exec<Notice>("SELECT * FROM notices WHERE outcome = 'owed' AND next_try_at <= ? ORDER BY next_try_at", clock).toArray();
    for (const notice of due) {
      try {
        await this.send(notice);
      } catch (err) {
        const attempts = notice.attempts + 1;
        const giveUp = attempts >= MAX_NOTICE_ATTEMPTS;
        this.sql.exec(
          "UPDATE notices SET attempts = ?, outcome = ?, next_try_at = ? WHERE webhook_id = ? AND disabled_at = ?",
          attempts,
          giveUp ? "gave_up" : "owed",
          Date.now() + NOTICE_RETRY_MS,
          notice.webhook_id,
          notice.disabled_at,
        );
        console.error(`workspace quota: disable notice for ${notice.webhook_id} failed (attempt ${attempts}${giveUp ? ", giving up" : ""}):`, err);
      }
    }
    const dueAlerts = this.sql.exec<OwedAlert>("SELECT * FROM alerts WHERE outcome = 'owed' AND next_try_at <= ? ORDER BY at", clock).toArray();
    for (const owed of dueAlerts) {
      try {
        const outcome = await raiseAlert(this.env, { workspaceId: owed.workspace_id, type: owed.type, key: owed.key, at: owed.at, data: JSON.parse(owed.data) as Record<string, unknown> });
        this.sql.exec("UPDATE alerts SET outcome = ?, attempts = attempts + 1 WHERE key = ?", outcome === "enqueued" ? "sent" : outcome, owed.key);
      } catch (err) {
        const attempts = owed.attempts + 1;
        const giveUp = attempts >= MAX_NOTICE_ATTEMPTS;
        this.sql.exec("UPDATE alerts SET attempts = ?, outcome = ?, next_try_at = ? WHERE key = ?", attempts, giveUp ? "gave_up" : "owed", Date.now() + NOTICE_RETRY_MS, owed.key);
        console.error(`workspace quota: ${owed.type} alert could not reach the alerts lane (attempt ${attempts}${giveUp ? ", giving up" : ""}):`, err);
      }
    }
    await this.armForNotices();
  }

  /** The earliest owed notice or alert. */
  private nextNoticeAt(): number | null {
    return this.sql
      .exec<{ at: number | null }>(
        "SELECT MIN(at) AS at FROM (SELECT MIN(next_try_at) AS at FROM notices WHERE outcome = 'owed' UNION ALL SELECT MIN(next_try_at) FROM alerts WHERE outcome = 'owed')",
      )
      .one().at;
  }

  private async armForNotices(): Promise<void> {
    const next = this.nextNoticeAt();
    if (next === null) await this.ctx.storage.deleteAlarm();
    else if ((await this.ctx.storage.getAlarm()) !== next) await this.ctx.storage.setAlarm(next);
  }

  /** Emails the workspace that a webhook was disabled by the quota; a workspace without an address gets none. Throws when sending fails. */
  private async send(notice: Notice): Promise<void> {
    const { webhook_id: webhookId, disabled_at: disabledAt } = notice;
    const db = openDb(this.env.DB);
    const webhook = webhookId ? await db.query.webhooks.findFirst({ where: eq(webhooks.id, webhookId) }) : undefined;
    const workspaceId = notice.workspace_id ?? webhook?.workspaceId;
    const workspace = workspaceId ? await db.query.workspaces.findFirst({ where: eq(workspaces.id, workspaceId) }) : undefined;
    const { failureQuotaLimit: limit, failureQuotaWindowSeconds: windowSeconds, emailFrom, publicUrl } = readConfig(this.env);
    const { subject, text } = notice.kind === "warning"
      ? warningNotice({ workspaceName: workspace?.name ?? "", failures: this.windowAt(disabledAt).failures, limit, windowSeconds, at: disabledAt, publicUrl })
      : disableNotice({
      workspaceName: workspace?.name ?? "",
      webhook: { id: webhookId, url: webhook?.url ?? "(deleted)", description: webhook?.description ?? "" },
      limit,
      windowSeconds,
      failuresInWindow: this.windowAt(disabledAt).failures,
      recentFailures: this.sql
        .exec<{ at: number; event_id: string; status_code: number | null; error: string | null }>(
          "SELECT at, event_id, status_code, error FROM failures WHERE webhook_id = ? AND at <= ? ORDER BY at DESC, id DESC LIMIT ?",
          webhookId,
          disabledAt,
          FAILURES_IN_NOTICE,
        )
        .toArray()
        .map((f) => ({ at: f.at, eventId: f.event_id, statusCode: f.status_code, error: f.error })),
      disabledAt,
      publicUrl,
    });
    // An address that has not confirmed receives nothing but its confirmation message (src/notification-email).
    const recipient = workspace ? confirmedRecipient(workspace) : null;
    let messageId: string | null = null;
    if (recipient && this.env.EMAIL) ({ messageId } = await this.env.EMAIL.send({ from: emailFrom, to: recipient, subject, text }));
    this.sql.exec(
      "UPDATE notices SET outcome = ?, attempts = attempts + 1, recipient = ?, subject = ?, message_id = ? WHERE webhook_id = ? AND disabled_at = ?",
      messageId ? "sent" : workspace?.notificationEmail && !recipient ? "unconfirmed" : "no_address",
      recipient ?? workspace?.notificationEmail ?? null,
      subject,
      messageId,
      webhookId,
      disabledAt,
    );
  }

  private windowAt(now: number): QuotaStatus {
    const { failureQuotaLimit: limit, failureQuotaWindowSeconds: windowSeconds } = readConfig(this.env);
    const windowStart = now - windowSeconds * 1000;
    this.sql.exec("DELETE FROM failures WHERE at <= ?", windowStart);
    const failures = this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM failures WHERE at > ? AND at <= ?", windowStart, now).one().n;
    return { limit, windowSeconds, failures };
  }
}
