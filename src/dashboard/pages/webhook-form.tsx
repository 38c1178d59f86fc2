/** @jsxImportSource hono/jsx */
// "Add Webhook" and "Edit": endpoint URL, the nine events with respond.io's names and a use case each, a description.
import type { FC } from "hono/jsx";
import { MAX_DESCRIPTION_LENGTH } from "../../api/webhooks/schemas";
import { EVENT_CATALOG } from "../../events/catalog";
import type { ApiError } from "../api-client";
import { ErrorSummary, FieldError, fieldOf, webhookPath } from "../components";
import { Layout, WEBHOOKS, webhookCrumbs } from "../layout";

export interface WebhookFormValues {
  url: string;
  events: string[];
  description: string;
}

const FIELDS = { url: "url", events: "event-0", description: "description" };

export const WebhookFormPage: FC<{
  workspaceName: string;
  /** Set when editing. */
  webhookId?: string | undefined;
  values: WebhookFormValues;
  error?: ApiError | undefined;
  /** DELIVERY_TIMEOUT_MS, for the hint. */
  timeoutMs: number;
}> = ({ workspaceName, webhookId, values, error, timeoutMs }) => {
  const editing = webhookId !== undefined;
  const title = editing ? "Edit webhook" : "Add Webhook";
  const invalid = (field: string) => (error && fieldOf(error) === field ? "true" : undefined);
  const describedBy = (field: string, hint: string) => (invalid(field) ? `${hint} ${field}-error` : hint);
  return (
    <Layout title={title} workspaceName={workspaceName} crumbs={webhookCrumbs({ label: title })}>
      <h1>{title}</h1>
      <ErrorSummary error={error} fields={FIELDS} />
      <form method="post" action={editing ? webhookPath(webhookId) : WEBHOOKS} novalidate class="card">
        <div class="field">
          <label for="url">Endpoint URL</label>
          <p class="hint" id="url-hint">
            Where events are sent with <code>POST</code>: an <code>https</code> URL that answers <code>2xx</code> within {timeoutMs / 1000} seconds.
          </p>
          <input
            id="url"
            name="url"
            type="url"
            inputmode="url"
            autocomplete="url"
            placeholder="https://example.com/hooks/respond"
            value={values.url}
            aria-describedby={describedBy("url", "url-hint")}
            aria-invalid={invalid("url")}
          />
          <FieldError id="url-error" error={error} field="url" />
        </div>

        <fieldset aria-describedby={describedBy("events", "events-hint")}>
          <legend>Events</legend>
          <p class="hint" id="events-hint">
            Choose what this endpoint receives.
          </p>
          <FieldError id="events-error" error={error} field="events" />
          <div class="checks">
            {EVENT_CATALOG.map((event, i) => (
              <div class="check">
                <input
                  type="checkbox"
                  id={`event-${i}`}
                  name="events"
                  value={event.type}
                  checked={values.events.includes(event.type)}
                  aria-describedby={`event-${i}-hint`}
                />
                <div>
                  <label for={`event-${i}`}>{event.name}</label>
                  <p class="hint" id={`event-${i}-hint`}>
                    <code>{event.type}</code> — {event.description}
                  </p>
                </div>
              </div>
            ))}
          </div>
        </fieldset>

        <div class="field">
          <label for="description">Description (optional)</label>
          <p class="hint" id="description-hint">
            A note for your team, such as what the endpoint does. At most {MAX_DESCRIPTION_LENGTH} characters.
          </p>
          <textarea
            id="description"
            name="description"
            maxlength={MAX_DESCRIPTION_LENGTH}
            aria-describedby={describedBy("description", "description-hint")}
            aria-invalid={invalid("description")}
          >
            {values.description}
          </textarea>
          <FieldError id="description-error" error={error} field="description" />
        </div>

        <div class="row">
          <button type="submit" class="button primary">
            {editing ? "Save changes" : "Add Webhook"}
          </button>
          <a class="button" href={editing ? webhookPath(webhookId) : WEBHOOKS}>
            Cancel
          </a>
        </div>
      </form>
    </Layout>
  );
};
