// Confirming a workspace's notification address: until its owner follows the one-time link of the one message it
// gets (a landing page, then a POST, so a mail scanner that fetches links confirms nothing), the address receives
// nothing else. The message carries no text a workspace chose.
import { and, eq, gt } from "drizzle-orm";
import { readConfig } from "../config";
import type { Db } from "../db/client";
import { workspaces, type WorkspaceRow } from "../db/schema";
import type { Env } from "../env";
import { hashApiKey } from "../lib/secrets";

/** How long a confirmation link works. */
export const CONFIRM_TTL_MS = 24 * 3600_000;
/** A workspace's confirmation messages go out at most this often (on a new address and on resend alike). */
export const RESEND_INTERVAL_MS = 2 * 60_000;

export type NotificationEmailStatus = "none" | "pending" | "confirmed";

export function emailStatusOf(row: Pick<WorkspaceRow, "notificationEmail" | "notificationEmailConfirmedAt">): NotificationEmailStatus {
  if (!row.notificationEmail) return "none";
  return row.notificationEmailConfirmedAt ? "confirmed" : "pending";
}

/** The address notices may go to now: the workspace's, once confirmed; otherwise none. */
export function confirmedRecipient(row: Pick<WorkspaceRow, "notificationEmail" | "notificationEmailConfirmedAt">): string | null {
  return row.notificationEmail && row.notificationEmailConfirmedAt ? row.notificationEmail : null;
}

/** The confirmation message: only the service's words, the address itself and the link. */
export function confirmationMessage(input: { address: string; link: string; expiresAt: number }): { subject: string; text: string } {
  const text = [
    `Someone asked for operational notices of a webhook delivery workspace to be sent to ${input.address}.`,
    "",
    "To receive them, open this link and press Confirm:",
    `  ${input.link}`,
    "",
    `The link works until ${new Date(input.expiresAt).toISOString()}. If you did not expect this message, ignore it: ` +
      "nothing else is sent to this address unless it is confirmed.",
  ];
  return { subject: "Confirm your address for webhook notices", text: text.join("\n") };
}

/** Milliseconds until a workspace may be sent another confirmation message (0: now). */
export function resendWaitMs(row: Pick<WorkspaceRow, "notificationEmailSentAt">, now: number): number {
  const sentAt = row.notificationEmailSentAt?.getTime();
  return sentAt === undefined ? 0 : Math.max(0, sentAt + RESEND_INTERVAL_MS - now);
}

/** A new confirmation: its token (for the link only) and the columns that record it as sent now. */
export async function newConfirmation(now: number) {
  const token = crypto.getRandomValues(new Uint8Array(32)).toBase64({ alphabet: "base64url", omitPadding: true });
  const columns = {
    notificationEmailConfirmedAt: null,
    notificationEmailTokenHash: await hashApiKey(token),
    notificationEmailTokenExpiresAt: new Date(now + CONFIRM_TTL_MS),
    notificationEmailSentAt: new Date(now),
  };
  return { token, expiresAt: now + CONFIRM_TTL_MS, columns };
}

/**
 * The columns for a workspace's notification address set to `address` (the old one's state is dropped), and the
 * confirmation to send, unless the workspace was sent one too recently (then it waits, unconfirmed, for a resend).
 */
export async function addressChange(
  address: string | null,
  current: Pick<WorkspaceRow, "notificationEmailSentAt"> | undefined,
  now: number,
) {
  const cleared = {
    notificationEmail: address,
    notificationEmailConfirmedAt: null,
    notificationEmailTokenHash: null,
    notificationEmailTokenExpiresAt: null,
  };
  if (address === null || (current && resendWaitMs(current, now) > 0)) return { columns: cleared, confirmation: undefined };
  const confirmation = await newConfirmation(now);
  return { columns: { ...cleared, ...confirmation.columns }, confirmation };
}

/** Emails the confirmation link to `address`. Never throws: a failure is logged, and the workspace can resend. */
export async function sendConfirmation(
  env: Env,
  requestUrl: string,
  address: string,
  confirmation: { token: string; expiresAt: number },
): Promise<boolean> {
  const { emailFrom, publicUrl } = readConfig(env);
  const link = `${publicUrl ?? new URL(requestUrl).origin}/settings/confirm-email/${confirmation.token}`;
  const { subject, text } = confirmationMessage({ address, link, expiresAt: confirmation.expiresAt });
  if (!env.EMAIL) return false;
  try {
    await env.EMAIL.send({ from: emailFrom, to: address, subject, text });
    return true;
  } catch (err) {
    console.error("the confirmation message could not be sent:", err);
    return false;
  }
}

const wellFormed = (token: string) => /^[A-Za-z0-9_-]{43}$/.test(token);

/** The address a confirmation token is still pending for, without using it (the landing page shows it). */
export async function pendingAddress(db: Db, token: string): Promise<string | undefined> {
  if (!wellFormed(token)) return undefined;
  const row = await db.query.workspaces.findFirst({
    where: and(
      eq(workspaces.notificationEmailTokenHash, await hashApiKey(token)),
      gt(workspaces.notificationEmailTokenExpiresAt, new Date()),
    ),
  });
  return row?.notificationEmail ?? undefined;
}

/** Confirms the address a token was sent to, once: the address, or undefined when the token is unknown, used or expired. */
export async function confirmAddress(db: Db, token: string): Promise<string | undefined> {
  if (!wellFormed(token)) return undefined;
  const now = new Date();
  const [row] = await db
    .update(workspaces)
    .set({ notificationEmailConfirmedAt: now, notificationEmailTokenHash: null, notificationEmailTokenExpiresAt: null })
    .where(and(eq(workspaces.notificationEmailTokenHash, await hashApiKey(token)), gt(workspaces.notificationEmailTokenExpiresAt, now)))
    .returning({ id: workspaces.id, address: workspaces.notificationEmail });
  return row?.address ?? undefined;
}
