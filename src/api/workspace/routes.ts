// The caller's own workspace: read it, set its notification address and its alert URL, rotate the alert secret.
import { createRoute, z } from "@hono/zod-openapi";
import { and, eq, isNull } from "drizzle-orm";
import { readConfig } from "../../config";
import type { Db } from "../../db/client";
import { workspaces, type WorkspaceRow } from "../../db/schema";
import { sealAll } from "../../lib/encryption";
import { rotateWithKeyPair } from "../../lib/rotation";
import {
  addressChange,
  emailStatusOf,
  newConfirmation,
  RESEND_INTERVAL_MS,
  resendWaitMs,
  sendConfirmation,
} from "../../notification-email/confirmation";
import { newSigningKeyPair, newSigningSecret } from "../../lib/secrets";
import { newRouter } from "../context";
import { endpointUrl } from "../endpoint-url";
import { forgetJwks } from "../public-jwks";
import { ApiError, errorResponses } from "../errors";
import { jsonBody, jsonResponse, workspaceKeyAuth } from "../openapi";
import { alertJwksPath } from "./alert-key-routes";
import { nextVersion, propagateWorkspace } from "./propagate";
import { webhookCount } from "../webhooks/limit-checks";
import {
  AlertSecretSchema,
  AlertUrl,
  NotificationEmail,
  toWorkspace,
  UpdatedWorkspaceSchema,
  WorkspaceSchema,
  WorkspaceWithUsageSchema,
} from "./schemas";

const tags = ["Workspace"];
const security = workspaceKeyAuth;

const UpdateWorkspaceSchema = z
  .strictObject({ notificationEmail: NotificationEmail.optional(), alertUrl: AlertUrl.optional() })
  .openapi("UpdateWorkspace");

export const workspaceRoutes = newRouter();

/** The workspace as GET /v1/workspace (and the admin's read of it) shows it: with what it uses of its limits. */
export async function withUsage(db: Db, row: WorkspaceRow) {
  return { ...toWorkspace(row), usage: { webhooks: await webhookCount(db, row.id) } };
}

/** The workspace as D1 holds it now: the one on the context may be a cached copy (key-cache.ts) from another isolate's past. */
export async function currentWorkspace(db: Db, id: string): Promise<WorkspaceRow> {
  const row = await db.query.workspaces.findFirst({ where: eq(workspaces.id, id) });
  if (!row) throw new ApiError("unauthorized", "this key's workspace no longer exists");
  return row;
}

workspaceRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    operationId: "getWorkspace",
    tags,
    security,
    summary: "Get the caller's workspace",
    description:
      "The workspace the key belongs to: its notification email and status, alertUrl and its verification, public alert key, " +
      "the limits in force for it (`limits`) and what it uses of them now (`usage`): docs/limits.md.",
    responses: { 200: jsonResponse(WorkspaceWithUsageSchema, "The workspace, its limits and its usage"), ...errorResponses(401) },
  }),
  async (c) => {
    const db = c.get("db");
    const row = await currentWorkspace(db, c.get("workspace").id);
    return c.json(await withUsage(db, row), 200);
  },
);

workspaceRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/",
    operationId: "updateWorkspace",
    tags,
    security,
    summary: "Set the notification email and the alert URL",
    description:
      "Sets (or, with null, clears) the address that is emailed when a webhook is disabled automatically or the failure window reaches 80%, " +
      "once confirmed: a new address is sent one confirmation message (at most one per workspace every 2 minutes) and nothing else until " +
      "its owner confirms it (`notificationEmailStatus`). " +
      'and the URL that receives the workspace\'s operational events (README "Alerts"). Fields left out keep their value. ' +
      "Setting `alertUrl` for the first time answers with `alertSecret`, shown only then, and makes the Ed25519 key pair whose public " +
      "key (`alertPublicKey`) checks the alerts' `v1a` signatures; clearing it stops alerts and keeps the secret and keys " +
      "for when it is set again (`POST /v1/workspace/rotate-alert-secret` makes a new one).",
    request: { body: jsonBody(UpdateWorkspaceSchema) },
    responses: { 200: jsonResponse(UpdatedWorkspaceSchema, "The updated workspace"), ...errorResponses(400, 401, 409, 413, 415) },
  }),
  async (c) => {
    const input = c.req.valid("json");
    const db = c.get("db");
    const current = await currentWorkspace(db, c.get("workspace").id);
    const changes: Partial<WorkspaceRow> = {};
    let confirmation: Awaited<ReturnType<typeof addressChange>>["confirmation"];
    /** A new alert secret, clear, for this answer only (stored sealed). */
    let alertSecret: string | undefined;
    if (input.notificationEmail !== undefined && input.notificationEmail !== current.notificationEmail) {
      // A new address starts unconfirmed, sent one confirmation message (unless one went out moments ago: then on resend).
      const change = await addressChange(input.notificationEmail, current, Date.now());
      Object.assign(changes, change.columns);
      confirmation = change.confirmation;
    }
    // A URL sent back as stored is no change, and is not judged again.
    if (input.alertUrl !== undefined && input.alertUrl !== current.alertUrl) {
      const { allowPrivateUrls, requireEndpointVerification } = readConfig(c.env);
      changes.alertUrl = input.alertUrl === null ? null : endpointUrl(input.alertUrl, allowPrivateUrls, "alertUrl");
      // A new URL starts unverified when verification is required (its alerts lane sends it a challenge first).
      changes.alertUrlVerifiedAt = changes.alertUrl === null || requireEndpointVerification ? null : new Date();
      if (changes.alertUrl !== null && !current.alertSecret) {
        // The secret and the Ed25519 key pair that sign alerts (`v1` and `v1a`), as a new webhook gets them.
        const pair = await newSigningKeyPair();
        alertSecret = newSigningSecret();
        const sealed = await sealAll(c.env, { alertSecret, alertSigningKey: pair.signingKey });
        Object.assign(changes, { ...sealed, alertPublicKey: pair.publicKey });
      }
    }
    if (Object.keys(changes).length === 0) return c.json(toWorkspace(current), 200);
    const [row] = await db
      .update(workspaces)
      .set({ ...changes, updatedAt: nextVersion(current) })
      // A secret is made only once: if another request made one in between, this one did not happen.
      .where(and(eq(workspaces.id, current.id), changes.alertSecret ? isNull(workspaces.alertSecret) : undefined))
      .returning();
    if (!row) throw new ApiError("conflict", "the workspace was changed by another request at the same time; fetch it and try again");
    await propagateWorkspace(c.env, row);
    // Its alerts JWKS answered 404 until now, and that answer may be cached.
    if (changes.alertSecret) await forgetJwks(c, alertJwksPath(row.id));
    if (confirmation && row.notificationEmail) await sendConfirmation(c.env, c.req.url, row.notificationEmail, confirmation);
    return c.json({ ...toWorkspace(row), ...(alertSecret ? { alertSecret } : {}) }, 200);
  },
);

workspaceRoutes.openapi(
  createRoute({
    method: "post",
    path: "/notification-email/resend",
    operationId: "resendNotificationEmailConfirmation",
    tags,
    security,
    summary: "Resend the notification address's confirmation",
    description:
      "Sends the notification address a new confirmation message (the previous link stops working). At most one message per workspace every " +
      "2 minutes: sooner answers 429 `rate_limited` with Retry-After. 409 `notification_email_not_set` without an address, " +
      "409 `notification_email_confirmed` once it is confirmed.",
    responses: { 200: jsonResponse(WorkspaceSchema, "The workspace; the message is on its way"), ...errorResponses(401, 409, 429) },
  }),
  async (c) => {
    const db = c.get("db");
    const current = await currentWorkspace(db, c.get("workspace").id);
    const status = emailStatusOf(current);
    if (status === "none")
      throw new ApiError("notification_email_not_set", "the workspace has no notificationEmail; set one with PATCH /v1/workspace");
    if (status === "confirmed") throw new ApiError("notification_email_confirmed", `${current.notificationEmail} is already confirmed`);
    const now = Date.now();
    const wait = resendWaitMs(current, now);
    if (wait > 0) {
      c.header("Retry-After", String(Math.ceil(wait / 1000)));
      throw new ApiError(
        "rate_limited",
        `a confirmation message went out less than ${RESEND_INTERVAL_MS / 60_000} minutes ago; try again in ${Math.ceil(wait / 1000)} seconds`,
      );
    }
    const confirmation = await newConfirmation(now);
    const [row] = await db
      .update(workspaces)
      .set(confirmation.columns)
      // Only if nobody changed the address or sent a message in between.
      .where(
        and(
          eq(workspaces.id, current.id),
          eq(workspaces.notificationEmail, current.notificationEmail!),
          current.notificationEmailSentAt
            ? eq(workspaces.notificationEmailSentAt, current.notificationEmailSentAt)
            : isNull(workspaces.notificationEmailSentAt),
        ),
      )
      .returning();
    if (!row) throw new ApiError("conflict", "the workspace was changed by another request at the same time; fetch it and try again");
    await sendConfirmation(c.env, c.req.url, row.notificationEmail!, confirmation);
    return c.json(toWorkspace(row), 200);
  },
);

workspaceRoutes.openapi(
  createRoute({
    method: "post",
    path: "/rotate-alert-secret",
    operationId: "rotateAlertSecret",
    tags,
    security,
    summary: "Rotate the alert secret",
    description:
      "Replaces the secret that signs the workspace's alerts and returns the new one, and replaces the Ed25519 key pair the same way " +
      "(the new `alertPublicKey`). For 24 hours the old secret and key keep signing too (two `v1` and two `v1a` entries in " +
      "`webhook-signature`, and both keys in the alerts JWKS), as with a webhook's rotation; a second rotation within the 24 hours ends " +
      "the first one's grace. " +
      "Answers 409 `alert_url_not_set` while the workspace has no alertUrl.",
    responses: { 200: jsonResponse(AlertSecretSchema, "The new alert secret"), ...errorResponses(401, 409) },
  }),
  async (c) => {
    const db = c.get("db");
    const current = await currentWorkspace(db, c.get("workspace").id);
    if (!current.alertUrl || !current.alertSecret || !current.alertSigningKey || !current.alertPublicKey) throw alertUrlNotSet();
    const next = await rotateWithKeyPair(
      { secret: current.alertSecret, signingKey: current.alertSigningKey, publicKey: current.alertPublicKey },
      Date.now(),
    );
    const [row] = await db
      .update(workspaces)
      .set({
        ...(await sealAll(c.env, { alertSecret: next.secret, alertSigningKey: next.signingKey })),
        alertPreviousSecret: next.previousSecret,
        alertPreviousSecretExpiresAt: new Date(next.previousSecretExpiresAt),
        alertPublicKey: next.publicKey,
        alertPreviousSigningKey: next.previousSigningKey,
        alertPreviousPublicKey: next.previousPublicKey,
        updatedAt: nextVersion(current),
      })
      // Only if nobody rotated it in between, so the secret kept for the grace is the one receivers hold.
      .where(and(eq(workspaces.id, current.id), eq(workspaces.alertSecret, current.alertSecret)))
      .returning();
    if (!row) throw new ApiError("conflict", "the alert secret was rotated by another request at the same time; try again");
    await propagateWorkspace(c.env, row);
    await forgetJwks(c, alertJwksPath(row.id));
    return c.json(
      {
        alertSecret: next.secret,
        alertPublicKey: next.publicKey,
        previousSecretExpiresAt: new Date(next.previousSecretExpiresAt).toISOString(),
      },
      200,
    );
  },
);

export function alertUrlNotSet(): ApiError {
  return new ApiError(
    "alert_url_not_set",
    'the workspace has no alertUrl; set one first with PATCH /v1/workspace {"alertUrl": "https://…"}',
  );
}
