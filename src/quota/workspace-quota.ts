// The workspace's shared failure quota: one Durable Object per workspace counts failed attempts of all
// its webhooks in a sliding window, and says when a failure takes the workspace over the limit.
import { DurableObject } from "cloudflare:workers";
import { readConfig } from "../config";
import type { Env } from "../env";

export interface FailureReport {
  webhookId: string;
  eventId: string;
  /** Unix ms when the attempt failed. */
  at: number;
  statusCode: number | null;
  error: string | null;
}

export interface QuotaVerdict {
  /** Failures inside the window, this one included. */
  failures: number;
  limit: number;
  /** True when this failure leaves the workspace with more than `limit` failures in the window. */
  exceeded: boolean;
}

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
    `);
  }

  async recordFailure(report: FailureReport): Promise<QuotaVerdict> {
    const { failureQuotaLimit: limit, failureQuotaWindowSeconds } = readConfig(this.env);
    const windowStart = report.at - failureQuotaWindowSeconds * 1000;
    this.sql.exec("DELETE FROM failures WHERE at <= ?", windowStart);
    this.sql.exec(
      "INSERT INTO failures (at, webhook_id, event_id, status_code, error) VALUES (?, ?, ?, ?, ?)",
      report.at,
      report.webhookId,
      report.eventId,
      report.statusCode,
      report.error,
    );
    const failures = this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM failures WHERE at > ?", windowStart).one().n;
    return { failures, limit, exceeded: failures > limit };
  }
}
