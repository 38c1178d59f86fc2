// The workspace's shared failure quota: one Durable Object per workspace counts failed attempts of all
// its webhooks in an exact sliding window (timestamps in SQLite, pruned as it goes), says when a failure
// takes the workspace over the limit, and sends the one email per auto-disable.
import { DurableObject } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { readConfig } from "../config";
import { openDb } from "../db/client";
import { webhooks, workspaces } from "../db/schema";
import type { Env } from "../env";
import { disableNotice } from "./notice";

export interface FailureReport {
  webhookId: string;
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
}

// A type alias (not an interface) so it fits SqlStorage's row constraint.
export type Notice = {
  webhook_id: string;
  disabled_at: number;
  recipient: string | null;
  subject: string;
  message_id: string | null;
  /** sent | no_address */
  outcome: string;
  created_at: number;
};

/** The quota object of a workspace: one per workspace, named by its id. */
export function quotaOf(namespace: DurableObjectNamespace<WorkspaceQuota>, workspaceId: string) {
  return namespace.get(namespace.idFromName(workspaceId));
}

/** How many of the webhook's latest failures the email lists. */
const FAILURES_IN_NOTICE = 10;

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
        webhook_id TEXT NOT NULL,
        disabled_at INTEGER NOT NULL,
        recipient TEXT,
        subject TEXT NOT NULL,
        message_id TEXT,
        outcome TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (webhook_id, disabled_at)
      );
    `);
  }

  /** Counts one failed attempt; the answer says whether it took the workspace over the limit. */
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
    return { ...status, exceeded: status.failures > status.limit };
  }

  async status(): Promise<QuotaStatus> {
    return this.windowAt(Date.now());
  }

  /** A webhook turned back on starts with a clean slate: its old failures stop counting. */
  async forgetWebhook(webhookId: string): Promise<QuotaStatus> {
    this.sql.exec("DELETE FROM failures WHERE webhook_id = ?", webhookId);
    return this.windowAt(Date.now());
  }

  /**
   * Emails the workspace that a webhook was disabled by the quota. Once per disable: a repeated call for
   * the same (webhook, disabledAt) sends nothing. A workspace without an address gets no email.
   */
  async notifyDisabled(webhookId: string, disabledAt: number): Promise<Notice> {
    const already = this.sql.exec<Notice>("SELECT * FROM notices WHERE webhook_id = ? AND disabled_at = ?", webhookId, disabledAt).toArray()[0];
    if (already) return already;

    const db = openDb(this.env.DB);
    const webhook = await db.query.webhooks.findFirst({ where: eq(webhooks.id, webhookId) });
    const workspace = webhook && (await db.query.workspaces.findFirst({ where: eq(workspaces.id, webhook.workspaceId) }));
    const { failureQuotaLimit: limit, failureQuotaWindowSeconds: windowSeconds, emailFrom } = readConfig(this.env);
    const { subject, text } = disableNotice({
      workspaceName: workspace?.name ?? "",
      webhook: { id: webhookId, url: webhook?.url ?? "(deleted)", description: webhook?.description ?? "" },
      limit,
      windowSeconds,
      failuresInWindow: this.windowAt(disabledAt).failures,
      recentFailures: this.sql
        .exec<{ at: number; event_id: string; status_code: number | null; error: string | null }>(
          "SELECT at, event_id, status_code, error FROM failures WHERE webhook_id = ? ORDER BY at DESC, id DESC LIMIT ?",
          webhookId,
          FAILURES_IN_NOTICE,
        )
        .toArray()
        .map((f) => ({ at: f.at, eventId: f.event_id, statusCode: f.status_code, error: f.error })),
      disabledAt,
    });

    const recipient = workspace?.notificationEmail ?? null;
    let messageId: string | null = null;
    if (recipient && this.env.EMAIL) {
      // Throws on failure: the lane keeps its notice pending and asks again later.
      ({ messageId } = await this.env.EMAIL.send({ from: emailFrom, to: recipient, subject, text }));
    }
    const notice: Notice = {
      webhook_id: webhookId,
      disabled_at: disabledAt,
      recipient,
      subject,
      message_id: messageId,
      outcome: messageId ? "sent" : "no_address",
      created_at: Date.now(),
    };
    this.sql.exec(
      "INSERT INTO notices (webhook_id, disabled_at, recipient, subject, message_id, outcome, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
      ...Object.values(notice),
    );
    return notice;
  }

  /** Every notice this workspace was sent (or would have been, without an address), newest first. */
  async notices(): Promise<Notice[]> {
    return this.sql.exec<Notice>("SELECT * FROM notices ORDER BY created_at DESC").toArray();
  }

  private windowAt(now: number): QuotaStatus {
    const { failureQuotaLimit: limit, failureQuotaWindowSeconds: windowSeconds } = readConfig(this.env);
    const windowStart = now - windowSeconds * 1000;
    this.sql.exec("DELETE FROM failures WHERE at <= ?", windowStart);
    const failures = this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM failures WHERE at > ? AND at <= ?", windowStart, now).one().n;
    return { limit, windowSeconds, failures };
  }
}
