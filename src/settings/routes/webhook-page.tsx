/** @jsxImportSource hono/jsx */
// A webhook's page: its health, its delivery log (and one delivery found by its event id, with what was sent) with
// retry, recover since a time, and the workspace's notification email.
import { Hono } from "hono";
import { RecoverSchema } from "../../api/webhooks/delivery-schemas";
import { readConfig } from "../../config";
import { webhookPath } from "../components";
import { api, loadWebhook, problem, quotaOf, readForm, redirectWith, safeReturn, type Ctx, type PagesEnv } from "../context";
import { isoToUtcInput, utcInputToIso } from "../format";
import type { Delivery, DeliveryPage, DeliveryWithPayload, RecoverResult, Stats, Webhook, Workspace } from "../model";
import { WebhookDetailPage, type DetailForms, type LogFilters } from "../pages/webhook-detail";
import { takeFlash } from "../session";

const LOG_PAGE_SIZE = 20;

export const webhookDetailPages = new Hono<PagesEnv>();

const PERIODS = ["1h", "24h", "7d"];

async function renderDetail(c: Ctx, webhook: Webhook, filters: LogFilters, forms: DetailForms, status: 200 | 400 = 200) {
  const id = encodeURIComponent(webhook.id);
  const period = PERIODS.includes(c.req.query("period") ?? "") ? c.req.query("period")! : "24h";
  const eventId = c.req.query("event")?.trim() || undefined;
  const [log, quota, workspace, stats, found] = await Promise.all([
    api(c).get<DeliveryPage>(`/v1/webhooks/${id}/deliveries`, { ...filters, limit: String(LOG_PAGE_SIZE) }),
    quotaOf(c),
    api(c).get<Workspace>("/v1/workspace"),
    api(c).get<Stats>(`/v1/webhooks/${id}/stats`, { period }),
    eventId ? api(c).get<DeliveryWithPayload>(`/v1/webhooks/${id}/deliveries/${encodeURIComponent(eventId)}`) : undefined,
  ]);
  // The failures that led to a disable came before it, so "since" starts an hour earlier; otherwise the last day.
  const sinceMs = webhook.disabledAt ? Date.parse(webhook.disabledAt) - 3600_000 : Date.now() - 24 * 3600_000;
  const defaultSince = isoToUtcInput(new Date(sinceMs).toISOString());
  return c.html(
    <WebhookDetailPage
      workspace={workspace.ok ? workspace.data : c.get("workspace")}
      webhook={webhook}
      quota={quota}
      log={log.ok ? log.data : log.error}
      stats={stats.ok ? stats.data : undefined}
      period={period}
      search={eventId === undefined ? undefined : { eventId, delivery: found?.ok ? found.data : undefined }}
      filters={filters}
      forms={forms}
      defaultSince={defaultSince}
      flash={await takeFlash(c, c.get("secret"))}
      verificationRequired={readConfig(c.env).requireEndpointVerification}
    />,
    status,
  );
}

webhookDetailPages.get("/integrations/webhooks/:id", async (c) => {
  const webhook = await loadWebhook(c, c.req.param("id"));
  if (webhook instanceof Response) return webhook;
  const filters: LogFilters = {
    status: c.req.query("status") || undefined,
    type: c.req.query("type") || undefined,
    traceId: c.req.query("traceId") || undefined,
    cursor: c.req.query("cursor") || undefined,
  };
  return renderDetail(c, webhook, filters, {});
});

webhookDetailPages.post("/integrations/webhooks/:id/deliveries/:eventId/retry", async (c) => {
  const { id, eventId } = c.req.param();
  const back = safeReturn((await readForm(c)).text("back"), webhookPath(id));
  const retried = await api(c).post<Delivery>(`/v1/webhooks/${encodeURIComponent(id)}/deliveries/${encodeURIComponent(eventId)}/retry`);
  if (!retried.ok) return redirectWith(c, back, problem(retried.error));
  return redirectWith(c, back, { kind: "success", text: `Event ${eventId} is in line again; its new attempts will appear in the log.` });
});

webhookDetailPages.post("/integrations/webhooks/:id/recover", async (c) => {
  const id = c.req.param("id");
  const form = await readForm(c);
  const back = safeReturn(form.text("back"), webhookPath(id));
  const since = form.text("since").trim();
  const recovered = await api(c).post<RecoverResult>(`/v1/webhooks/${encodeURIComponent(id)}/recover`, { since: utcInputToIso(since) });
  if (recovered.ok) {
    const n = recovered.data.recovered;
    return redirectWith(c, back, {
      kind: "success",
      text: n === 0 ? "Nothing to recover since then." : `${n} event${n === 1 ? "" : "s"} put back in line, in order.`,
    });
  }
  // A time the API cannot read: to a page of its own that shows the form with what was typed and the error, so a
  // reload (or the address copied) shows the same thing again instead of re-posting or a 404.
  if (recovered.error.param === "since") return c.redirect(`${webhookPath(id)}/recover?since=${encodeURIComponent(since)}`, 303);
  return redirectWith(c, back, problem(recovered.error));
});

/** The Recover form, with the time in the address checked (by the API's own schema, in-process; nothing is recovered). */
webhookDetailPages.get("/integrations/webhooks/:id/recover", async (c) => {
  const webhook = await loadWebhook(c, c.req.param("id"));
  if (webhook instanceof Response) return webhook;
  const since = c.req.query("since");
  if (since === undefined) return renderDetail(c, webhook, {}, {});
  if (RecoverSchema.safeParse({ since: utcInputToIso(since) }).success) return renderDetail(c, webhook, {}, { since });
  // Said in the field's own terms (the API's message asks for ISO 8601 with a zone).
  const error = {
    code: "validation_failed",
    param: "since",
    message: "since: must be a UTC time written YYYY-MM-DD HH:MM, such as 2026-11-21 09:30",
  };
  return renderDetail(c, webhook, {}, { error, since }, 400);
});

webhookDetailPages.post("/integrations/webhooks/:id/notification-email", async (c) => {
  const id = c.req.param("id");
  const form = await readForm(c);
  const back = safeReturn(form.text("back"), webhookPath(id));
  const email = form.text("notificationEmail").trim();
  const saved = await api(c).patch<Workspace>("/v1/workspace", { notificationEmail: email === "" ? null : email });
  if (saved.ok) {
    const text = !saved.data.notificationEmail
      ? "No email will be sent when a webhook is disabled."
      : saved.data.notificationEmailStatus === "confirmed"
        ? `Auto-disable notices go to ${saved.data.notificationEmail}.`
        : `A confirmation message was sent to ${saved.data.notificationEmail}; notices go there once its owner confirms.`;
    return redirectWith(c, back, { kind: "success", text });
  }
  const webhook = await loadWebhook(c, id);
  if (webhook instanceof Response) return webhook;
  return renderDetail(c, webhook, {}, { error: saved.error, notificationEmail: email }, 400);
});

// The address a refused email leaves in the bar: opened again, it is the webhook's page (not a 404).
webhookDetailPages.get("/integrations/webhooks/:id/notification-email", (c) =>
  c.redirect(`${webhookPath(c.req.param("id"))}#email-title`, 302),
);

webhookDetailPages.post("/integrations/webhooks/:id/notification-email/resend", async (c) => {
  const id = c.req.param("id");
  const back = safeReturn((await readForm(c)).text("back"), webhookPath(id));
  const sent = await api(c).post<Workspace>("/v1/workspace/notification-email/resend");
  if (sent.ok)
    return redirectWith(c, back, { kind: "success", text: `A new confirmation message was sent to ${sent.data.notificationEmail}.` });
  return redirectWith(c, back, problem(sent.error));
});
