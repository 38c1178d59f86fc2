/** @jsxImportSource hono/jsx */
// Integrations > Webhooks: the list, adding and editing a webhook, and its actions (enable, disable, test,
// rotate, delete). Every change goes through the public API, so its rules and messages are the forms'.
import { Hono } from "hono";
import { CreateWebhookSchema, UpdateWebhookSchema } from "../../api/webhooks/schemas";
import { urlPolicyProblems, validationError } from "../../api/validation";
import { readConfig } from "../../config";
import type { ApiProblem } from "../api-client";
import { webhookPath } from "../components";
import { api, loadWebhook, problem, quotaOf, readForm, redirectWith, safeReturn, type Ctx, type PagesEnv } from "../context";
import { controlsToForm, formToControls, NO_CONTROLS } from "../controls-form";
import { attemptSummary, eventName, webhookLabel } from "../format";
import { WEBHOOKS } from "../layout";
import { DEAD_LETTER_REPLAY_ROUTE } from "../dead-letters-banner";
import type { DeadLetterPage, Delivery, Stats, Webhook, WebhookWithSecret, WorkspaceSettings } from "../model";
import { DeleteWebhookPage } from "../pages/delete";
import { RotateSecretPage } from "../pages/rotate";
import { NotFoundPage } from "../pages/not-found";
import { SecretPage } from "../pages/secret";
import { WebhookFormPage, type WebhookFormValues } from "../pages/webhook-form";
import { WebhookListPage } from "../pages/webhook-list";
import { takeFlash } from "../session";

export const webhookPages = new Hono<PagesEnv>();

webhookPages.get("/integrations/webhooks", async (c) => {
  const [list, quota, deadLetters] = await Promise.all([
    api(c).get<{ data: Webhook[] }>("/v1/webhooks"),
    quotaOf(c),
    api(c).get<DeadLetterPage>("/v1/dead-letters", { limit: "10" }),
  ]);
  if (!list.ok) throw new Error(`listing webhooks: ${list.error.message}`);
  // Each webhook's last 24 hours, from its own lane (one call each, in parallel).
  const health = new Map<string, Stats>();
  await Promise.all(
    list.data.data.map(async (webhook) => {
      const stats = await api(c).get<Stats>(`/v1/webhooks/${encodeURIComponent(webhook.id)}/stats`, { period: "24h" });
      if (stats.ok) health.set(webhook.id, stats.data);
    }),
  );
  return c.html(
    <WebhookListPage
      workspace={c.get("workspace")}
      webhooks={list.data.data}
      quota={quota}
      deadLetters={deadLetters.ok ? deadLetters.data : undefined}
      health={health}
      flash={await takeFlash(c, c.get("secret"))}
    />,
  );
});

webhookPages.post(DEAD_LETTER_REPLAY_ROUTE, async (c) => {
  const eventId = c.req.param("eventId");
  const back = safeReturn((await readForm(c)).text("back"), WEBHOOKS);
  const replayed = await api(c).post<unknown>(`/v1/dead-letters/${encodeURIComponent(eventId)}/replay`);
  if (!replayed.ok) return redirectWith(c, back, problem(replayed.error));
  return redirectWith(c, back, { kind: "success", text: `Event ${eventId} was sent through again; its webhooks' logs will show it.` });
});

const formPage = (c: Ctx, form: { values: WebhookFormValues; webhookId?: string; error?: ApiProblem }, status: 200 | 400 = 200) =>
  c.html(
    <WebhookFormPage
      workspaceName={c.get("workspace").name}
      limits={c.get("workspace").limits}
      timeoutMs={readConfig(c.env).deliveryTimeoutMs}
      {...form}
    />,
    status,
  );

webhookPages.get("/integrations/webhooks/new", async (c) => {
  // At its webhooks limit the workspace gets the list's reason, not a form that can only be refused.
  const workspace = await api(c).get<WorkspaceSettings>("/v1/workspace");
  if (workspace.ok && workspace.data.usage.webhooks >= workspace.data.limits.webhooks) {
    const { limits, usage } = workspace.data;
    return redirectWith(c, WEBHOOKS, {
      kind: "error",
      text: `This workspace has ${usage.webhooks} webhooks, its limit of ${limits.webhooks}: delete one to add another, or ask your platform's operator to raise the limit.`,
    });
  }
  return formPage(c, { values: { url: "", events: [], description: "", ...NO_CONTROLS } });
});

/**
 * The form as typed, and the API body it stands for; or, when some text has no API shape (a header line without a
 * colon, a filter that is not JSON), every problem at once: those, and what the API's own schema and URL policy
 * say of the other fields, checked here in-process without saving anything.
 */
const webhookInput = async (
  c: Ctx,
  editing: boolean,
): Promise<{ values: WebhookFormValues; body: Record<string, unknown> } | { values: WebhookFormValues; error: ApiProblem }> => {
  const form = await readForm(c);
  const values: WebhookFormValues = {
    delivery: !editing && form.text("delivery") === "poll" ? "poll" : undefined,
    url: form.text("url").trim(),
    // Always a list, even empty, so "no events" gets the API's own "at least one" message.
    events: form.list("events"),
    description: form.text("description"),
    rateLimitPerSecond: form.text("rateLimitPerSecond"),
    retryDelaysSeconds: form.text("retryDelaysSeconds"),
    headers: form.text("headers"),
    filter: form.text("filter"),
    ordering: form.text("ordering"),
    orderingKey: form.text("orderingKey"),
    maxInFlight: form.text("maxInFlight"),
    concurrency: form.text("concurrency"),
    batchMaxEvents: form.text("batchMaxEvents"),
    batchMaxWaitMs: form.text("batchMaxWaitMs"),
  };
  const controls = formToControls(values);
  // A polling webhook sends no URL (an edit form shows none for one, and sends it empty: no change).
  const body =
    values.delivery === "poll"
      ? { delivery: "poll", events: values.events, description: values.description, ...controls.body }
      : { url: values.url, events: values.events, description: values.description, ...controls.body };
  if (controls.errors.length === 0) return { values, body };
  const parsed = (editing ? UpdateWebhookSchema : CreateWebhookSchema).safeParse(body);
  const others: ApiProblem[] = [
    ...(parsed.success ? [] : (validationError(parsed.error).errors ?? [])),
    ...(editing || values.delivery === "poll" ? [] : urlPolicyProblems(values.url, readConfig(c.env).allowPrivateUrls)),
  ];
  const errors = [...controls.errors];
  for (const problem of others) if (!errors.some((e) => e.param === problem.param)) errors.push(problem);
  return { values, error: { ...errors[0]!, errors } };
};

webhookPages.post("/integrations/webhooks", async (c) => {
  const input = await webhookInput(c, false);
  if ("error" in input) return formPage(c, input, 400);
  const { values, body } = input;
  const created = await api(c).post<WebhookWithSecret>("/v1/webhooks", body);
  if (!created.ok) return formPage(c, { values, error: created.error }, 400);
  const { secret, pollToken, ...webhook } = created.data;
  return c.html(
    <SecretPage workspaceName={c.get("workspace").name} webhook={webhook} secret={secret} pollToken={pollToken} rotated={false} />,
    201,
  );
});

webhookPages.get("/integrations/webhooks/:id/edit", async (c) => {
  const webhook = await loadWebhook(c, c.req.param("id"));
  if (webhook instanceof Response) return webhook;
  return formPage(c, { values: { ...webhook, url: webhook.url ?? "", ...controlsToForm(webhook) }, webhookId: webhook.id });
});

webhookPages.post("/integrations/webhooks/:id", async (c) => {
  const id = c.req.param("id");
  const input = await webhookInput(c, true);
  if ("error" in input) return formPage(c, { ...input, webhookId: id }, 400);
  const { values, body } = input;
  const updated = await api(c).patch<Webhook>(`/v1/webhooks/${encodeURIComponent(id)}`, body);
  if (updated.ok) return redirectWith(c, webhookPath(id), { kind: "success", text: "Changes saved." });
  if (updated.status === 404) return c.html(<NotFoundPage workspace={c.get("workspace")} />, 404);
  return formPage(c, { values, webhookId: id, error: updated.error }, 400);
});

for (const action of ["enable", "disable"] as const) {
  webhookPages.post(`/integrations/webhooks/:id/${action}`, async (c) => {
    const id = c.req.param("id");
    const back = safeReturn((await readForm(c)).text("back"), WEBHOOKS);
    const result = await api(c).post<Webhook>(`/v1/webhooks/${encodeURIComponent(id)}/${action}`);
    if (!result.ok) return redirectWith(c, back, problem(result.error));
    const text =
      action === "enable"
        ? `Enabled ${webhookLabel(result.data)}. New events flow again; use “Recover since …” on its page for the ones it skipped.`
        : `Disabled ${webhookLabel(result.data)}. It receives nothing until you enable it; its events are kept as skipped.`;
    return redirectWith(c, back, { kind: "success", text });
  });
}

webhookPages.post("/integrations/webhooks/:id/test", async (c) => {
  const id = c.req.param("id");
  const form = await readForm(c);
  const type = form.text("type");
  // Back where the button was (the list or the webhook's page), with the result in one sentence.
  const back = safeReturn(form.text("back"), webhookPath(id));
  const result = await api(c).post<Delivery>(`/v1/webhooks/${encodeURIComponent(id)}/test`, type ? { type } : {});
  if (!result.ok) return redirectWith(c, back, problem(result.error));
  const webhook = await api(c).get<Webhook>(`/v1/webhooks/${encodeURIComponent(id)}`);
  const filtered = webhook.ok && Object.keys(webhook.data.filter).length > 0;
  const delivery = result.data;
  const name = eventName(delivery.type);
  const note = filtered ? " (test events ignore the webhook's filter)" : "";
  // A polling webhook's test event waits in its stream for the consumer: nothing was sent.
  if (webhook.ok && webhook.data.url === null) {
    return redirectWith(c, back, { kind: "success", text: `Test event “${name}” is in the stream, for the consumer's next poll${note}.` });
  }
  const delivered = delivery.status === "delivered";
  const to = webhook.ok ? ` to ${webhook.data.url}` : "";
  return redirectWith(c, back, {
    kind: delivered ? "success" : "error",
    text: `Test event “${name}” ${delivered ? "delivered" : "not delivered"}${to}: ${attemptSummary(delivery.attempts.at(-1))}${note}.`,
  });
});

webhookPages.post("/integrations/webhooks/:id/verify", async (c) => {
  const id = c.req.param("id");
  const result = await api(c).post<Webhook>(`/v1/webhooks/${encodeURIComponent(id)}/verify`);
  if (!result.ok) return redirectWith(c, webhookPath(id), problem(result.error));
  const text = result.data.verifiedAt
    ? `${result.data.url} is verified already; nothing was sent.`
    : `Challenge sent to ${result.data.url}. Its events follow once it answers 2xx with its webhook-challenge-response; see the log below.`;
  return redirectWith(c, webhookPath(id), { kind: "success", text });
});

webhookPages.get("/integrations/webhooks/:id/rotate-secret", async (c) => {
  const webhook = await loadWebhook(c, c.req.param("id"));
  if (webhook instanceof Response) return webhook;
  const back = safeReturn(c.req.query("back"), WEBHOOKS);
  return c.html(<RotateSecretPage workspaceName={c.get("workspace").name} webhook={webhook} back={back} />);
});

webhookPages.post("/integrations/webhooks/:id/rotate-secret", async (c) => {
  const id = c.req.param("id");
  const back = safeReturn((await readForm(c)).text("back"), WEBHOOKS);
  const rotated = await api(c).post<WebhookWithSecret>(`/v1/webhooks/${encodeURIComponent(id)}/rotate-secret`);
  if (!rotated.ok) return redirectWith(c, back, problem(rotated.error));
  const { secret, pollToken, ...webhook } = rotated.data;
  return c.html(
    <SecretPage workspaceName={c.get("workspace").name} webhook={webhook} secret={secret} pollToken={pollToken} rotated={true} />,
  );
});

webhookPages.get("/integrations/webhooks/:id/delete", async (c) => {
  const webhook = await loadWebhook(c, c.req.param("id"));
  if (webhook instanceof Response) return webhook;
  return c.html(<DeleteWebhookPage workspaceName={c.get("workspace").name} webhook={webhook} />);
});

webhookPages.post("/integrations/webhooks/:id/delete", async (c) => {
  const id = c.req.param("id");
  const deleted = await api(c).delete(`/v1/webhooks/${encodeURIComponent(id)}`);
  if (!deleted.ok) return redirectWith(c, WEBHOOKS, problem(deleted.error));
  return redirectWith(c, WEBHOOKS, { kind: "success", text: "Webhook deleted." });
});
