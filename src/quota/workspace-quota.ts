// The workspace's shared failure quota: one Durable Object per workspace counts failed attempts of all
// its webhooks in an exact sliding window (timestamps in SQLite, pruned as it goes), asks decide.ts what each
// failure does (which disables its webhook; which emails and alerts the workspace is owed), records what is
// owed, and has its alarm hand that to the one owed-message sender (owed.ts).
//
// Until the first tagged release this schema is edited in place (README "Storage schemas").
import { DurableObject } from "cloudflare:workers";
import { runStorageSteps } from "../lib/storage-steps";
import { eq } from "drizzle-orm";
import { readConfig } from "../config";
import { openDb } from "../db/client";
import { webhooks, workspaces, type DisabledReason } from "../db/schema";
import type { Env } from "../env";
import { confirmedRecipient } from "../notification-email/confirmation";
import type { Alert, AlertType } from "../alerts/catalog";
import { raiseAlert } from "../alerts/send";
import { DEAD_LETTER_SCHEMA, deadLetterPage, findKeptDeadLetter, keepDeadLetter, markKeptReplayed } from "../dead-letters/object-store";
import type { NewDeadLetter } from "../dead-letters/store";
import { decideFailure, type FailureReport, type QuotaStatus, type QuotaVerdict } from "./decide";
import { disableNotice, warningNotice } from "./notice";
import { sendDue, type OwedKind, type OwedRow } from "./owed";

/** An email the quota owes its workspace. A type alias (not an interface) so it fits SqlStorage's row constraint. */
export type Notice = OwedRow & {
  /** disable (a webhook was turned off) | warning (the window reached WARNING_SHARE of the limit) */
  kind: string;
  /** The webhook disabled; empty for a warning. */
  webhook_id: string;
  workspace_id: string | null;
  disabled_at: number;
  /** outcome: owed (not sent yet) | sent | no_address | unconfirmed (the address has not confirmed: nothing sent) | gave_up */
  recipient: string | null;
  subject: string | null;
  message_id: string | null;
  created_at: number;
};

/** An alert the quota owes its workspace's alerts lane (src/alerts); a type alias to fit SqlStorage's row constraint. */
export type OwedAlert = OwedRow & {
  /** The alert's key (catalog.ts): what it is about, so owing it twice keeps one. */
  key: string;
  workspace_id: string;
  type: AlertType;
  at: number;
  /** JSON of the alert's data. */
  data: string;
  /** outcome: owed | sent (in the alerts lane) | no_alert_url | gave_up */
};

/** How many of the webhook's latest failures the email lists. */
const FAILURES_IN_NOTICE = 10;

/**
 * The quota object's storage, step by step (src/lib/storage-steps.ts): step 1 is the 1.0.0 shape (failures, owed
 * notices and alerts, the last disable of each webhook, and dead letters of a workspace with a data location).
 * From 1.0.0 a change to these tables is a new step at the end of this list, never an edit of an earlier one.
 */
export const QUOTA_STORAGE_STEPS = [
  `
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
      -- The last auto-disable of each webhook and the config version it ended: failures of attempts started
      -- under that version or before (out when it came) count nothing and owe nothing.
      CREATE TABLE IF NOT EXISTS disabled (
        webhook_id TEXT PRIMARY KEY,
        config_version INTEGER NOT NULL,
        reason TEXT NOT NULL,
        at INTEGER NOT NULL
      ) WITHOUT ROWID;
    ${DEAD_LETTER_SCHEMA}
  `,
] as const;

export class WorkspaceQuota extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    runStorageSteps(ctx.storage, "quota", QUOTA_STORAGE_STEPS);
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
   * Counts one failed attempt and says what it does to its webhook (decide.ts). What the workspace is owed
   * (a quota disable's email, the early warning, their alerts) is recorded here, once each, and sent by this
   * object's alarm.
   *
   * One disable, one notice: an attempt started under a config version an auto-disable already ended (one of
   * the attempts out when the 31st failure or a 410 came) is not counted and owes nothing; its verdict repeats
   * the disable, which the lane applies only if it is still on. The decision runs with no await before it, so
   * reports that arrive together are decided one after the other.
   */
  async recordFailure(report: FailureReport): Promise<QuotaVerdict> {
    const ended = this.disabledFor(report);
    if (ended) return { ...this.windowAt(this.latestAt(report.at)), exceeded: false, disable: ended, repeated: true };
    this.sql.exec(
      "INSERT INTO failures (at, webhook_id, event_id, status_code, error) VALUES (?, ?, ?, ?, ?)",
      report.at,
      report.webhookId,
      report.eventId,
      report.statusCode,
      report.error,
    );
    // The window as of the latest failure held, not this report's own time: failures that end in parallel reach
    // the quota in any order, and the one that makes 31 disables even when a later-timed one came before it.
    const status = this.windowAt(this.latestAt(report.at));
    const { owed, ...verdict } = decideFailure(report, status, this.warnedSince(report.at - status.windowSeconds * 1000));
    if (verdict.disable && report.configVersion !== undefined) {
      this.sql.exec(
        "INSERT OR REPLACE INTO disabled (webhook_id, config_version, reason, at) VALUES (?, ?, ?, ?)",
        report.webhookId,
        report.configVersion,
        verdict.disable,
        report.at,
      );
    }
    for (const message of owed) {
      if ("alert" in message) this.oweAlert(message.alert);
      else this.oweEmail(message.email, message.webhookId, report);
    }
    if (owed.length > 0) await this.armForNotices();
    return verdict;
  }

  /** Why the report's webhook is already off for the config version its attempt started under, or null. */
  private disabledFor(report: FailureReport): DisabledReason | null {
    if (report.configVersion === undefined) return null;
    const row = this.sql
      .exec<{ reason: DisabledReason }>(
        "SELECT reason FROM disabled WHERE webhook_id = ? AND config_version >= ?",
        report.webhookId,
        report.configVersion,
      )
      .toArray()[0];
    return row?.reason ?? null;
  }

  /** The latest time a failure held in the window ended, or `at` when that is later. */
  private latestAt(at: number): number {
    return Math.max(at, this.sql.exec<{ at: number | null }>("SELECT MAX(at) AS at FROM failures").one().at ?? at);
  }

  async status(): Promise<QuotaStatus> {
    return this.windowAt(Date.now());
  }

  /** A webhook turned back on starts with a clean slate: its old failures stop counting. */
  async forgetWebhook(webhookId: string): Promise<QuotaStatus> {
    this.sql.exec("DELETE FROM failures WHERE webhook_id = ?", webhookId);
    this.sql.exec("DELETE FROM disabled WHERE webhook_id = ?", webhookId);
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

  private oweEmail(kind: "disable" | "warning", webhookId: string, report: FailureReport): void {
    this.sql.exec(
      "INSERT OR IGNORE INTO notices (kind, webhook_id, workspace_id, disabled_at, outcome, next_try_at, created_at) VALUES (?, ?, ?, ?, 'owed', ?, ?)",
      kind,
      webhookId,
      report.workspaceId ?? null,
      report.at,
      Date.now(),
      Date.now(),
    );
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

  /** Sends the emails and alerts that are due (owed.ts retries one that fails, then gives it up). */
  override async alarm(): Promise<void> {
    // The alarm is armed for the earliest owed message, so that one is due whenever it fires.
    const clock = Math.max(Date.now(), this.nextNoticeAt() ?? 0);
    await sendDue(this.sql, this.emails, clock);
    await sendDue(this.sql, this.alertsOwed, clock);
    await this.armForNotices();
  }

  private readonly emails: OwedKind<Notice> = {
    table: "notices",
    order: "next_try_at",
    key: (notice) => ["webhook_id = ? AND disabled_at = ?", notice.webhook_id, notice.disabled_at],
    describe: (notice) => (notice.kind === "warning" ? "early-warning email" : `disable notice for ${notice.webhook_id}`),
    send: (notice) => this.sendEmail(notice),
  };

  private readonly alertsOwed: OwedKind<OwedAlert> = {
    table: "alerts",
    order: "at",
    key: (owed) => ["key = ?", owed.key],
    describe: (owed) => `${owed.type} alert`,
    send: async (owed) => {
      const outcome = await raiseAlert(this.env, {
        workspaceId: owed.workspace_id,
        type: owed.type,
        key: owed.key,
        at: owed.at,
        data: JSON.parse(owed.data) as Record<string, unknown>,
      });
      return { outcome: outcome === "enqueued" ? "sent" : outcome };
    },
  };

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

  /** Emails the workspace (a disable, or the early warning); a workspace without an address gets none. Throws when sending fails. */
  private async sendEmail(notice: Notice): Promise<{ outcome: string; columns: Record<string, SqlStorageValue> }> {
    const { webhook_id: webhookId, disabled_at: disabledAt } = notice;
    const db = openDb(this.env.DB);
    const webhook = webhookId ? await db.query.webhooks.findFirst({ where: eq(webhooks.id, webhookId) }) : undefined;
    const workspaceId = notice.workspace_id ?? webhook?.workspaceId;
    const workspace = workspaceId ? await db.query.workspaces.findFirst({ where: eq(workspaces.id, workspaceId) }) : undefined;
    const { failureQuotaLimit: limit, failureQuotaWindowSeconds: windowSeconds, emailFrom, publicUrl } = readConfig(this.env);
    const { subject, text } =
      notice.kind === "warning"
        ? warningNotice({
            failures: this.windowAt(disabledAt).failures,
            limit,
            windowSeconds,
            at: disabledAt,
            publicUrl,
          })
        : disableNotice({
            webhook: { id: webhookId, url: webhook?.url ?? "(deleted)" },
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
    const outcome = messageId ? "sent" : workspace?.notificationEmail && !recipient ? "unconfirmed" : "no_address";
    return { outcome, columns: { recipient: recipient ?? workspace?.notificationEmail ?? null, subject, message_id: messageId } };
  }

  private windowAt(now: number): QuotaStatus {
    const { failureQuotaLimit: limit, failureQuotaWindowSeconds: windowSeconds } = readConfig(this.env);
    const windowStart = now - windowSeconds * 1000;
    this.sql.exec("DELETE FROM failures WHERE at <= ?", windowStart);
    const failures = this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM failures WHERE at > ? AND at <= ?", windowStart, now).one().n;
    return { limit, windowSeconds, failures };
  }
}
