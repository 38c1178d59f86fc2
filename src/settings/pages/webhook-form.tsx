/** @jsxImportSource hono/jsx */
// "Add Webhook" and "Edit": endpoint URL, the nine events with respond.io's names and a use case each, a description,
// and the endpoint controls in an Advanced section that stays closed until used.
import type { Child, FC } from "hono/jsx";
import { MAX_DESCRIPTION_LENGTH } from "../../api/webhooks/schemas";
import { EVENT_CATALOG } from "../../events/catalog";
import type { WorkspaceLimits } from "../../lib/limits";
import type { ApiProblem } from "../api-client";
import { ErrorSummary, FieldError, invalidIf, problemsOf, webhookPath } from "../components";
import type { ControlsFormValues } from "../controls-form";
import { Layout, WEBHOOKS, webhookCrumbs } from "../layout";

export interface WebhookFormValues extends ControlsFormValues {
  /** poll: no URL, a consumer reads the events (docs/polling.md); chosen when adding, fixed after. */
  delivery?: "push" | "poll" | undefined;
  url: string;
  events: string[];
  description: string;
}

/** Each field the API may name: where the error summary links to, and what it calls it. */
const FIELDS = {
  url: { target: "url", label: "Endpoint URL" },
  events: { target: "event-0", label: "Events" },
  description: { target: "description", label: "Description" },
  rateLimitPerSecond: { target: "rateLimitPerSecond", label: "Rate limit" },
  retryDelaysSeconds: { target: "retryDelaysSeconds", label: "Retry schedule" },
  headers: { target: "headers", label: "Custom headers" },
  filter: { target: "filter", label: "Filter" },
  ordering: { target: "ordering", label: "Ordering" },
  orderingKey: { target: "orderingKey", label: "Ordering key" },
  maxInFlight: { target: "maxInFlight", label: "Requests at once" },
  concurrency: { target: "concurrency", label: "Requests at once, fixed or adaptive" },
  batch: { target: "batchMaxEvents", label: "Batches" },
};
const ADVANCED = [
  "rateLimitPerSecond",
  "retryDelaysSeconds",
  "headers",
  "filter",
  "orderingKey",
  "maxInFlight",
  "batchMaxEvents",
  "batchMaxWaitMs",
] as const;

/**
 * The problem with one input of the batch: the API names `batch.maxEvents` or `batch.maxWaitMs`, or `batch` itself
 * (set on a polling webhook), shown at the first input. Alone, so the field shows that one and not its sibling's.
 */
function batchProblem(error: ApiProblem | undefined, part: "maxEvents" | "maxWaitMs"): ApiProblem | undefined {
  const found = problemsOf(error).find((p) => p.param === `batch.${part}` || (part === "maxEvents" && p.param === "batch"));
  return found && { code: found.code, message: found.message, param: found.param };
}

/** One field of the Advanced section: a label, its hint, a text input (or a textarea), and the API's message for it. */
/** An Advanced choice as AdvancedField lays out a text one: label, hint, a select (its first option the default), error. */
const ChoiceField: FC<{
  id: "ordering" | "concurrency";
  label: string;
  value: string;
  error: ApiProblem | undefined;
  options: [value: string, label: string][];
  children: Child;
}> = ({ id, label, value, error, options, children }) => {
  const invalid = invalidIf(error, id);
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <p class="hint" id={`${id}-hint`}>
        {children}
      </p>
      <select id={id} name={id} aria-describedby={invalid ? `${id}-hint ${id}-error` : `${id}-hint`} aria-invalid={invalid}>
        {options.map(([option, text]) => (
          <option value={option} selected={value === option}>
            {text}
          </option>
        ))}
      </select>
      <FieldError id={`${id}-error`} error={error} field={id} />
    </div>
  );
};

const AdvancedField: FC<{
  id: (typeof ADVANCED)[number];
  /** The API's name for it, when not the id (the batch's two inputs are parts of `batch`). */
  field?: string;
  label: string;
  value: string;
  error: ApiProblem | undefined;
  placeholder?: string;
  numeric?: boolean;
  multiline?: boolean;
  children: Child;
}> = ({ id, field = id, label, value, error, placeholder, numeric, multiline, children }) => {
  const invalid = invalidIf(error, field);
  const describedBy = invalid ? `${id}-hint ${id}-error` : `${id}-hint`;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <p class="hint" id={`${id}-hint`}>
        {children}
      </p>
      {multiline ? (
        <textarea id={id} name={id} spellcheck={false} aria-describedby={describedBy} aria-invalid={invalid}>
          {value}
        </textarea>
      ) : (
        <input
          id={id}
          name={id}
          type="text"
          inputmode={numeric ? "numeric" : undefined}
          placeholder={placeholder}
          value={value}
          aria-describedby={describedBy}
          aria-invalid={invalid}
        />
      )}
      <FieldError id={`${id}-error`} error={error} field={field} />
    </div>
  );
};

export const WebhookFormPage: FC<{
  workspaceName: string;
  /** Set when editing. */
  webhookId?: string | undefined;
  values: WebhookFormValues;
  error?: ApiProblem | undefined;
  /** DELIVERY_TIMEOUT_MS, for the hint. */
  timeoutMs: number;
  /** The workspace's limits, told where a field meets them (docs/limits.md). */
  limits: WorkspaceLimits;
}> = ({ workspaceName, webhookId, values, error, timeoutMs, limits }) => {
  const editing = webhookId !== undefined;
  const title = editing ? "Edit webhook" : "Add Webhook";
  const invalid = (field: string) => invalidIf(error, field);
  const describedBy = (field: string, hint: string) => (invalid(field) ? `${hint} ${field}-error` : hint);
  // Closed unless something in it is set or wrong: respond.io's two-field form stays as simple as it is.
  const advancedOpen =
    [...ADVANCED, "ordering" as const, "concurrency" as const].some((field) => values[field].trim() !== "" || invalid(field)) ||
    invalid("batch") !== undefined;
  return (
    <Layout title={title} workspaceName={workspaceName} crumbs={webhookCrumbs({ label: title })}>
      <h1>{title}</h1>
      <ErrorSummary error={error} fields={FIELDS} />
      <form method="post" action={editing ? webhookPath(webhookId) : WEBHOOKS} novalidate class="card">
        {!editing && (
          <div class="check">
            <input
              type="checkbox"
              id="delivery"
              name="delivery"
              value="poll"
              checked={values.delivery === "poll"}
              aria-describedby="delivery-hint"
            />
            <div>
              <label for="delivery">Polling: my consumer reads the events, nothing is sent</label>
              <p class="hint" id="delivery-hint">
                For a receiver the internet cannot reach. It reads <code>GET /v1/webhooks/{"{id}"}/poll</code> with the poll token shown
                once after adding; leave the URL and the rate limit, retry schedule and headers empty.
              </p>
            </div>
          </div>
        )}
        {editing && values.delivery === "poll" ? (
          <p>
            Read by polling: there is no endpoint URL. Its consumer reads <code>GET /v1/webhooks/{webhookId}/poll</code>.
          </p>
        ) : (
          <div class="field">
            <label for="url">Endpoint URL</label>
            <p class="hint" id="url-hint">
              Where events are sent with <code>POST</code>: an <code>https</code> URL that answers <code>2xx</code> within{" "}
              {timeoutMs / 1000} seconds.
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
        )}

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

        <details class="advanced" open={advancedOpen}>
          <summary>Advanced: rate limit, retry schedule, headers, filter, ordering, batches</summary>
          <AdvancedField
            id="rateLimitPerSecond"
            label="Rate limit (attempts per second)"
            value={values.rateLimitPerSecond}
            error={error}
            placeholder="no limit"
            numeric
          >
            At most this many requests a second, 1 to 1000; a burst waits its turn, in order. Empty: no limit.
          </AdvancedField>
          <AdvancedField
            id="retryDelaysSeconds"
            label="Retry schedule (seconds)"
            value={values.retryDelaysSeconds}
            error={error}
            placeholder="30, 60, 90"
          >
            The wait before each retry after a failure, up to 10, each 1 to 86400, such as <code>60, 300, 900, 3600</code>. After the last
            one fails the event is dropped. Empty: 30, 60, 90.
          </AdvancedField>
          <AdvancedField id="headers" label="Custom headers" value={values.headers} error={error} multiline>
            Sent with every request, one <code>Name: value</code> per line (up to 10), such as <code>Authorization: Bearer …</code>.
          </AdvancedField>
          <AdvancedField id="filter" label="Filter" value={values.filter} error={error} multiline>
            Only events whose body matches every path, as JSON, such as{" "}
            <code>{'{"message.traffic": "incoming", "channel.source": ["whatsapp", "telegram"]}'}</code>. Others are not sent. Test events
            ignore it. Empty: every event of the chosen types. Each value at most {limits.filterValueLength} characters; the URL,
            description, events, headers and filter together at most {Math.floor(limits.webhookConfigBytes / 1024)} KiB.
          </AdvancedField>
          <ChoiceField
            id="ordering"
            label="Ordering"
            value={values.ordering}
            error={error}
            options={[
              ["", "In order, one at a time (default)"],
              ["key", "In order by key, keys in parallel"],
              ["none", "No order, in parallel"],
            ]}
          >
            In order, one at a time: every event in the order it was accepted, but a slow endpoint gets one request per round trip and a
            failing event holds all the others. By key: the events of one contact (or conversation) in order, different ones in parallel; a
            failure holds only its own key. No order: fastest, and a failure holds nothing back, for an endpoint that does not care about
            order.
          </ChoiceField>
          <AdvancedField
            id="orderingKey"
            label="Ordering key (with “by key”)"
            value={values.orderingKey}
            error={error}
            placeholder="contact.id"
          >
            The dotted path in the body whose value orders events, such as <code>contact.id</code> or <code>conversation.id</code>. Events
            without it share one key. Changing it (or the ordering) applies to new events once the earlier ones have finished.
          </AdvancedField>
          <AdvancedField
            id="maxInFlight"
            label="Requests at once"
            value={values.maxInFlight}
            error={error}
            placeholder="1 in order, 10 otherwise"
            numeric
          >
            How many requests your endpoint gets at the same time, 1 to 50 (only 1 in order, one at a time). More is faster for a slow
            endpoint, if it can take them. Empty: 1 in order, 10 by key or with no order.
          </AdvancedField>
          <ChoiceField
            id="concurrency"
            label="Fixed or adaptive"
            value={values.concurrency}
            error={error}
            options={[
              ["", "Fixed (default)"],
              ["adaptive", "Adaptive, up to the number above"],
            ]}
          >
            Fixed: always up to the number above. Adaptive (by key or with no order): the number above is the most, and the service finds
            how many your endpoint takes, sending fewer when it answers 429, 503 or 504 or times out, and more while it keeps up.
          </ChoiceField>
          <AdvancedField
            id="batchMaxEvents"
            field="batch"
            label="Events per request (batches)"
            value={values.batchMaxEvents}
            error={batchProblem(error, "maxEvents")}
            placeholder="one event per request"
            numeric
          >
            Send up to this many ready events in one request, 2 to 100, in order. Every request then has the body{" "}
            <code>{'{"events": [...]}'}</code>, even with one event in it: your endpoint must accept that body. A <code>2xx</code> delivers
            them all; anything else retries them all, together. Empty: one event per request, respond.io's body. Not for polling.
          </AdvancedField>
          <AdvancedField
            id="batchMaxWaitMs"
            field="batch"
            label="Wait for a batch to fill (milliseconds)"
            value={values.batchMaxWaitMs}
            error={batchProblem(error, "maxWaitMs")}
            placeholder="0"
            numeric
          >
            How long the oldest ready event may wait for more to join its batch, 0 to 10000. Empty: 0, send what is ready at once.
          </AdvancedField>
        </details>

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
