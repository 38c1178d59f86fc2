// The webhook settings API: create, list, read, update, delete, enable, disable a workspace's webhooks, rotate
// their signing secrets and key pairs, and ask their endpoints to verify.
import { createRoute } from "@hono/zod-openapi";
import { and, asc, eq } from "drizzle-orm";
import { readConfig } from "../../config";
import { webhooks, type WebhookRow } from "../../db/schema";
import { disableWebhook, enableWebhook, markVerified } from "../../db/webhooks";
import { laneConfigOf } from "../../delivery/lane-config";
import { quotaOf } from "../../bindings";
import { invalidateSubscriptions } from "../../db/subscriptions";
import { newId } from "../../lib/ids";
import { openHeaders, sealAll, sealHeaders } from "../../lib/encryption";
import { rotateWithKeyPair } from "../../lib/rotation";
import { newPollToken, newSigningKeyPair, newSigningSecret } from "../../lib/secrets";
import { newRouter } from "../context";
import { ApiError, errorResponses } from "../errors";
import { jsonBody, jsonResponse, workspaceKeyAuth } from "../openapi";
import {
  CreateWebhookSchema,
  toWebhook,
  UpdateWebhookSchema,
  WebhookIdParam,
  WebhookListSchema,
  WebhookSchema,
  WebhookWithSecretSchema,
  pushOnlyCode,
  pushOnlyFieldSet,
} from "./schemas";
import { findWebhook, propagate, webhookLane, webhookNotFound } from "./lookup";
import { forgetJwks } from "../public-jwks";
import { jwksPath } from "./key-routes";
import { endpointUrl } from "../endpoint-url";
import { assertConfigFits, assertRoomForWebhook, undoIfOverLimit } from "./limit-checks";
import { controlsOf, orderingOf, SIZED_FIELDS, unique } from "./request-fields";

const tags = ["Webhooks"];
const security = workspaceKeyAuth;

export const webhookRoutes = newRouter();

webhookRoutes.openapi(
  createRoute({
    method: "post",
    path: "/",
    operationId: "createWebhook",
    tags,
    security,
    summary: "Create a webhook",
    description:
      "Subscribes an endpoint to event types. The response carries the signing secret; it is not shown again. " +
      "A workspace has at most `limits.webhooks` webhooks (409 `limit_reached`, param `webhooks`), each configuration at most " +
      "`limits.webhookConfigBytes` bytes as JSON (400 `limit_reached`, param the largest field) and each filter string at most " +
      "`limits.filterValueLength` characters (400 `invalid_filter`); see GET /v1/workspace and docs/limits.md.",
    request: { body: jsonBody(CreateWebhookSchema) },
    responses: {
      201: jsonResponse(WebhookWithSecretSchema, "The new webhook, with its secret"),
      ...errorResponses(400, 401, 409, 413, 415),
    },
  }),
  async (c) => {
    const input = c.req.valid("json");
    const workspace = c.get("workspace");
    const delivery = input.delivery ?? "push";
    // A polling webhook has no URL (stored as ""); the schema has checked a push webhook has one.
    const url = delivery === "poll" ? "" : endpointUrl(input.url!, readConfig(c.env).allowPrivateUrls);
    const controls = controlsOf(input);
    assertConfigFits(
      {
        url,
        description: input.description ?? "",
        events: unique(input.events),
        filter: controls.filter ?? {},
        headers: controls.headers ?? {},
      },
      workspace.limits,
    );
    await assertRoomForWebhook(c.get("db"), workspace.id, workspace.limits);
    const poll = delivery === "poll" ? await newPollToken() : undefined;
    const [secret, pair] = [newSigningSecret(), await newSigningKeyPair()];
    const now = new Date();
    const { requireEndpointVerification } = readConfig(c.env);
    const [row] = await c
      .get("db")
      .insert(webhooks)
      .values({
        id: newId("wh"),
        workspaceId: workspace.id,
        dataLocation: workspace.dataLocation ?? null,
        delivery,
        pollTokenHash: poll?.hash ?? null,
        url,
        events: unique(input.events),
        description: input.description ?? "",
        ...controls,
        headers: await sealHeaders(c.env, controls.headers ?? {}),
        ...orderingOf(input),
        // Stored sealed (src/lib/encryption.ts); the clear secret is in this answer only.
        ...(await sealAll(c.env, { secret, signingKey: pair.signingKey })),
        publicKey: pair.publicKey,
        // Without required verification a URL counts as verified from when it is set (docs/signatures.md).
        verifiedAt: requireEndpointVerification && delivery !== "poll" ? null : now,
        enabled: true,
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    await undoIfOverLimit(c.get("db"), row!, workspace.limits);
    invalidateSubscriptions(row!.workspaceId);
    // The lane sends the challenge now, before any event can reach it (a polling webhook has no endpoint to verify).
    if (requireEndpointVerification && !poll) await propagate(c.env, row!);
    return c.json({ ...(await toWebhook(c.env, row!)), secret, ...(poll ? { pollToken: poll.token } : {}) }, 201);
  },
);

webhookRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    operationId: "listWebhooks",
    tags,
    security,
    summary: "List webhooks",
    description: "All webhooks of the caller's workspace, oldest first.",
    responses: { 200: jsonResponse(WebhookListSchema, "The workspace's webhooks"), ...errorResponses(401) },
  }),
  async (c) => {
    const rows = await c
      .get("db")
      .select()
      .from(webhooks)
      .where(eq(webhooks.workspaceId, c.get("workspace").id))
      .orderBy(asc(webhooks.createdAt), asc(webhooks.id));
    return c.json({ data: await Promise.all(rows.map((row) => toWebhook(c.env, row))) }, 200);
  },
);

webhookRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{id}",
    operationId: "getWebhook",
    tags,
    security,
    summary: "Get a webhook",
    description:
      "The webhook's settings and state (enabled, verifiedAt, publicKey); never its secret, which only create and rotate-secret answer.",
    request: { params: WebhookIdParam },
    responses: { 200: jsonResponse(WebhookSchema, "The webhook"), ...errorResponses(401, 404) },
  }),
  async (c) => c.json(await toWebhook(c.env, await findWebhook(c.get("db"), c.get("workspace").id, c.req.valid("param").id)), 200),
);

webhookRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/{id}",
    operationId: "updateWebhook",
    tags,
    security,
    summary: "Update a webhook",
    description:
      "Changes the URL, the event types, the description, the endpoint controls or the ordering. Fields left out keep their value; `null` (or `{}`) resets a control to its default. " +
      "Changing `ordering` without `maxInFlight` sets that ordering's default (1 for endpoint, 10 otherwise), leaving `key` drops `orderingKey`, and changing to `endpoint` without `concurrency` sets it `fixed`. " +
      "A change of `ordering` or `orderingKey` applies to events accepted after it once every event accepted before it has finished; a change of `maxInFlight` applies at once (docs/ordering.md).",
    request: { params: WebhookIdParam, body: jsonBody(UpdateWebhookSchema) },
    responses: { 200: jsonResponse(WebhookSchema, "The updated webhook"), ...errorResponses(400, 401, 404, 413, 415) },
  }),
  async (c) => {
    const workspaceId = c.get("workspace").id;
    const { id } = c.req.valid("param");
    const input = c.req.valid("json");
    const changes: Partial<Omit<WebhookRow, "headers">> & { headers?: Record<string, string> } = {};
    // One instant for the change: a new URL counts as verified from exactly when the webhook was updated.
    const now = new Date();
    const current = await findWebhook(c.get("db"), workspaceId, id);
    if (current.delivery === "poll") {
      const field = pushOnlyFieldSet(input);
      if (field)
        throw new ApiError(pushOnlyCode(field), `${field}: a polling webhook has no endpoint: leave it out`, undefined, { param: field });
    }
    const orderingFields = ["ordering", "orderingKey", "maxInFlight", "concurrency"] as const;
    if (orderingFields.some((field) => input[field] !== undefined)) {
      const next = orderingOf(input, current);
      for (const field of orderingFields) {
        if (next[field] !== (current[field] ?? null)) Object.assign(changes, { [field]: next[field] });
      }
    }
    // A URL sent back as stored is no change: it is not judged again, so a webhook written under an older policy stays editable.
    if (input.url !== undefined && input.url !== current.url) {
      changes.url = endpointUrl(input.url, readConfig(c.env).allowPrivateUrls);
      // A new URL is verified again: nothing goes there until it answers a challenge (its lane sends one).
      changes.verifiedAt = readConfig(c.env).requireEndpointVerification ? null : now;
    }
    if (input.events !== undefined) changes.events = unique(input.events);
    if (input.description !== undefined) changes.description = input.description;
    Object.assign(changes, controlsOf(input));
    if (Object.keys(changes).length === 0) return c.json(await toWebhook(c.env, current), 200);
    // The configuration as it would be after the change: a PATCH that would leave it over the limits changes nothing.
    // Only a change of a sized field is judged, so a webhook kept from before a lowered limit stays editable otherwise.
    if (SIZED_FIELDS.some((field) => field in changes)) {
      assertConfigFits({ ...current, headers: await openHeaders(c.env, current.headers), ...changes }, c.get("workspace").limits);
    }
    const { headers, ...unsealed } = changes;
    const [row] = await c
      .get("db")
      .update(webhooks)
      .set({ ...unsealed, ...(headers ? { headers: await sealHeaders(c.env, headers) } : {}), updatedAt: now })
      .where(and(eq(webhooks.id, id), eq(webhooks.workspaceId, workspaceId)))
      .returning();
    if (!row) throw webhookNotFound(id);
    await propagate(c.env, row);
    return c.json(await toWebhook(c.env, row), 200);
  },
);

webhookRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/{id}",
    operationId: "deleteWebhook",
    tags,
    security,
    summary: "Delete a webhook",
    description: "Removes the webhook and its stored events; nothing more is delivered to it.",
    request: { params: WebhookIdParam },
    responses: { 204: { description: "Deleted" }, ...errorResponses(401, 404) },
  }),
  async (c) => {
    const workspaceId = c.get("workspace").id;
    const { id } = c.req.valid("param");
    const db = c.get("db");
    const row = await findWebhook(db, workspaceId, id);
    // The lane goes first: if this fails, nothing is deleted and the call can simply be repeated.
    await webhookLane(c.env, row).remove();
    await db.delete(webhooks).where(and(eq(webhooks.id, id), eq(webhooks.workspaceId, workspaceId)));
    invalidateSubscriptions(workspaceId);
    await forgetJwks(c, jwksPath(id));
    return c.body(null, 204);
  },
);

function setEnabled(enabled: boolean) {
  return createRoute({
    method: "post",
    path: enabled ? "/{id}/enable" : "/{id}/disable",
    operationId: enabled ? "enableWebhook" : "disableWebhook",
    tags,
    security,
    summary: enabled ? "Enable a webhook" : "Disable a webhook",
    description: enabled
      ? "Turns a disabled webhook back on, whatever disabled it; its lane resumes with the events it holds, in order."
      : 'Turns the webhook off (`disabledReason: "manual"`); it receives nothing until enabled.',
    request: { params: WebhookIdParam },
    responses: { 200: jsonResponse(WebhookSchema, "The webhook"), ...errorResponses(401, 404) },
  });
}

for (const enabled of [true, false]) {
  webhookRoutes.openapi(setEnabled(enabled), async (c) => {
    const workspaceId = c.get("workspace").id;
    const { id } = c.req.valid("param");
    const db = c.get("db");
    const current = await findWebhook(db, workspaceId, id);
    // Repeating the call changes nothing in D1 but still re-sends the state to the lane.
    const row =
      current.enabled === enabled
        ? current
        : enabled
          ? await enableWebhook(db, workspaceId, id, new Date())
          : await disableWebhook(db, id, "manual", new Date());
    if (!row) throw webhookNotFound(id);
    if (enabled && !current.enabled) {
      // Turned back on: its past failures stop counting against the workspace's quota.
      await quotaOf(c.env.WORKSPACE_QUOTA, workspaceId, current.dataLocation ?? null).forgetWebhook(id);
    }
    await propagate(c.env, row);
    return c.json(await toWebhook(c.env, row), 200);
  });
}

webhookRoutes.openapi(
  createRoute({
    method: "post",
    path: "/{id}/rotate-secret",
    operationId: "rotateWebhookSecret",
    tags,
    security,
    summary: "Rotate the signing secret",
    description:
      "Replaces the signing secret and returns the new one. For 24 hours the old secret keeps signing too: `webhook-signature` " +
      "then carries two signatures, space-separated, so a receiver holding either secret verifies while it switches. " +
      "`x-webhook-signature` (one value only) is made with the new secret. The Ed25519 key pair is replaced the same way: " +
      "for the 24 hours both keys sign (two `v1a` entries) and the JWKS lists both. A second rotation within the 24 hours ends the first one's grace. " +
      "A polling webhook also gets a new `pollToken`; the old one stops at once.",
    request: { params: WebhookIdParam },
    responses: {
      200: jsonResponse(WebhookWithSecretSchema, "The webhook, with its new secret"),
      ...errorResponses(401, 404, 409),
    },
  }),
  async (c) => {
    const workspaceId = c.get("workspace").id;
    const { id } = c.req.valid("param");
    const db = c.get("db");
    const current = await findWebhook(db, workspaceId, id);
    const now = Date.now();
    const { secret, signingKey, ...next } = await rotateWithKeyPair(current, now);
    // A polling webhook's token is replaced with the secret, at once (a consumer holds one token, not two).
    const poll = current.delivery === "poll" ? await newPollToken() : undefined;
    const [row] = await db
      .update(webhooks)
      .set({
        ...next,
        ...(await sealAll(c.env, { secret, signingKey })),
        previousSecretExpiresAt: new Date(next.previousSecretExpiresAt),
        updatedAt: new Date(now),
        ...(poll ? { pollTokenHash: poll.hash } : {}),
      })
      // Only if nobody rotated it in between, so the secret kept for the grace is the one receivers hold.
      .where(and(eq(webhooks.id, id), eq(webhooks.workspaceId, workspaceId), eq(webhooks.secret, current.secret)))
      .returning();
    if (!row) throw new ApiError("conflict", "the secret was rotated by another request at the same time; fetch the webhook and try again");
    await propagate(c.env, row);
    await forgetJwks(c, jwksPath(id));
    return c.json({ ...(await toWebhook(c.env, row)), secret, ...(poll ? { pollToken: poll.token } : {}) }, 200);
  },
);

webhookRoutes.openapi(
  createRoute({
    method: "post",
    path: "/{id}/verify",
    operationId: "verifyWebhookEndpoint",
    tags,
    security,
    summary: "Verify the endpoint",
    description:
      "With REQUIRE_ENDPOINT_VERIFICATION on: sends the endpoint a new signed challenge " +
      '(`{"event_type": "endpoint.verification", "challenge", "timestamp"}`), first in line and retried like a delivery; a 2xx ' +
      "whose body contains the challenge verifies it, and the events waiting for it follow in order. Nothing is sent when the " +
      "endpoint is verified already. 409 `verification_not_required` with the setting off; 409 `webhook_disabled` while disabled.",
    request: { params: WebhookIdParam },
    responses: {
      200: jsonResponse(WebhookSchema, "The webhook (verifiedAt null until the endpoint answers the challenge)"),
      ...errorResponses(401, 404, 409),
    },
  }),
  async (c) => {
    const workspaceId = c.get("workspace").id;
    const { id } = c.req.valid("param");
    const db = c.get("db");
    const row = await findWebhook(db, workspaceId, id);
    if (!readConfig(c.env).requireEndpointVerification) {
      throw new ApiError(
        "verification_not_required",
        "endpoint verification is off (REQUIRE_ENDPOINT_VERIFICATION); every endpoint receives its events",
      );
    }
    const disabled = () => new ApiError("webhook_disabled", "the webhook is disabled; enable it first");
    if (!row.enabled) throw disabled();
    const outcome = await webhookLane(c.env, row).requestVerification(laneConfigOf(row));
    if ("refused" in outcome) throw outcome.refused === "disabled" ? disabled() : webhookNotFound(id);
    // The lane knew of a verification D1 had not recorded yet: write it again.
    if (outcome.verifiedAt !== null && row.verifiedAt === null) {
      await markVerified(db, id, row.url, new Date(outcome.verifiedAt));
      return c.json(await toWebhook(c.env, { ...row, verifiedAt: new Date(outcome.verifiedAt) }), 200);
    }
    return c.json(await toWebhook(c.env, row), 200);
  },
);
