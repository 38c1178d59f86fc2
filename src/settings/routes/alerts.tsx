/** @jsxImportSource hono/jsx */
// The Alerts page: set or clear the workspace's alertUrl, see the secret once, test, rotate, and read the alerts log.
import { Hono } from "hono";
import { api, problem, readForm, redirectWith, safeReturn, type Ctx, type PagesEnv } from "../context";
import { attemptSummary } from "../format";
import { ALERTS } from "../layout";
import type { AlertSecret, Delivery, DeliveryPage, DeliveryWithPayload, UpdatedWorkspace, WorkspaceSettings } from "../model";
import { AlertSecretPage, AlertsPage, RotateAlertSecretPage } from "../pages/alerts";
import type { LogFilters } from "../pages/delivery-log";
import type { ApiProblem } from "../api-client";
import { takeFlash } from "../session";
import { DEFAULT_LIMITS } from "../../lib/limits";

const LOG_PAGE_SIZE = 20;

export const alertPages = new Hono<PagesEnv>();

async function renderAlerts(c: Ctx, filters: LogFilters, form?: { error: ApiProblem; alertUrl: string }) {
  const eventId = c.req.query("event")?.trim() || undefined;
  const [workspace, log, found] = await Promise.all([
    api(c).get<WorkspaceSettings>("/v1/workspace"),
    api(c).get<DeliveryPage>("/v1/workspace/alerts", { ...filters, limit: String(LOG_PAGE_SIZE) }),
    eventId ? api(c).get<DeliveryWithPayload>(`/v1/workspace/alerts/${encodeURIComponent(eventId)}`) : undefined,
  ]);
  return c.html(
    <AlertsPage
      workspace={
        workspace.ok
          ? workspace.data
          : {
              ...c.get("workspace"),
              alertUrl: null,
              alertUrlVerifiedAt: null,
              alertPublicKey: null,
              dataLocation: null,
              limits: { ...DEFAULT_LIMITS },
              usage: { webhooks: 0 },
              createdAt: "",
              updatedAt: "",
            }
      }
      log={log.ok ? log.data : log.error}
      filters={filters}
      search={eventId === undefined ? undefined : { eventId, delivery: found?.ok ? found.data : undefined }}
      form={form}
      flash={await takeFlash(c, c.get("secret"))}
    />,
    form ? 400 : 200,
  );
}

alertPages.get("/integrations/alerts", (c) =>
  renderAlerts(c, {
    status: c.req.query("status") || undefined,
    type: c.req.query("type") || undefined,
    traceId: c.req.query("traceId") || undefined,
    cursor: c.req.query("cursor") || undefined,
  }),
);

alertPages.post("/integrations/alerts", async (c) => {
  const alertUrl = (await readForm(c)).text("alertUrl").trim();
  const saved = await api(c).patch<UpdatedWorkspace>("/v1/workspace", { alertUrl: alertUrl === "" ? null : alertUrl });
  if (!saved.ok) return renderAlerts(c, {}, { error: saved.error, alertUrl });
  if (saved.data.alertSecret) return c.html(<AlertSecretPage workspaceName={saved.data.name} secret={saved.data.alertSecret} />);
  return redirectWith(c, ALERTS, {
    kind: "success",
    text: saved.data.alertUrl
      ? `Alerts go to ${saved.data.alertUrl}, signed with the secret you have.`
      : "Alerts stopped: none will be sent until you set an alert URL.",
  });
});

alertPages.post("/integrations/alerts/test", async (c) => {
  const back = safeReturn((await readForm(c)).text("back"), ALERTS);
  const result = await api(c).post<Delivery>("/v1/workspace/alerts/test");
  if (!result.ok) return redirectWith(c, back, problem(result.error));
  const delivered = result.data.status === "delivered";
  const summary = attemptSummary(result.data.attempts.at(-1));
  return redirectWith(c, back, {
    kind: delivered ? "success" : "error",
    text: delivered ? `Test alert delivered: ${summary}.` : `Test alert failed: ${summary}.`,
  });
});

alertPages.get("/integrations/alerts/rotate-secret", (c) => c.html(<RotateAlertSecretPage workspaceName={c.get("workspace").name} />));

alertPages.post("/integrations/alerts/rotate-secret", async (c) => {
  const rotated = await api(c).post<AlertSecret>("/v1/workspace/rotate-alert-secret");
  if (!rotated.ok) return redirectWith(c, ALERTS, problem(rotated.error));
  return c.html(<AlertSecretPage workspaceName={c.get("workspace").name} secret={rotated.data.alertSecret} rotated={rotated.data} />);
});

alertPages.post("/integrations/alerts/deliveries/:eventId/retry", async (c) => {
  const eventId = c.req.param("eventId");
  const back = safeReturn((await readForm(c)).text("back"), ALERTS);
  const retried = await api(c).post<Delivery>(`/v1/workspace/alerts/${encodeURIComponent(eventId)}/retry`);
  if (!retried.ok) return redirectWith(c, back, problem(retried.error));
  return redirectWith(c, back, { kind: "success", text: `Alert ${eventId} is in line again; its new attempts will appear in the log.` });
});
