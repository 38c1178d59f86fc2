/** @jsxImportSource hono/jsx */
// A delivery log as the pages show it, for a webhook's deliveries and for the workspace's alerts alike: filters,
// pages, each delivery with its attempts and Retry, and one delivery found by its event id with what was sent.
import type { FC } from "hono/jsx";
import type { Ordering } from "../../delivery/ordering";
import type { ApiProblem } from "../api-client";
import { ActionButton } from "../components";
import { eventName, formatDuration, formatTime, waitingReason } from "../format";
import { DELIVERY_STATUSES, type Delivery, type DeliveryPage, type DeliveryWithPayload } from "../model";

export interface LogFilters {
  status?: string | undefined;
  type?: string | undefined;
  /** A W3C trace id: only the deliveries of that trace. */
  traceId?: string | undefined;
  cursor?: string | undefined;
}

export function logHref(basePath: string, filters: LogFilters): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(filters)) if (v) params.set(k, v);
  const qs = params.toString();
  return `${basePath}${qs ? `?${qs}` : ""}#log`;
}

/** A test event that failed is a check that said no, not a lost event: "failed", in the warning colour, not red "dropped". */
const statusBadge = (delivery: Delivery) =>
  delivery.test && delivery.status === "dropped" ? { text: "failed", cls: "failed" } : { text: delivery.status, cls: delivery.status };

export const DeliveryItem: FC<{
  basePath: string;
  delivery: Delivery;
  back: string;
  open?: boolean;
  page?: readonly Delivery[];
  /** The webhook's ordering, for why a pending event waits; an alerts lane keeps the default. */
  ordering?: Ordering;
}> = ({ basePath, delivery, back, open, page, ordering }) => {
  const last = delivery.attempts.at(-1);
  const badge = statusBadge(delivery);
  const waiting = waitingReason(delivery, page ?? [delivery], ordering);
  return (
    <details class="delivery" data-event-id={delivery.eventId} open={open}>
      <summary>
        <span class={`badge ${badge.cls}`}>{badge.text}</span>
        <strong>{eventName(delivery.type)}</strong>
        {delivery.test && <span class="badge test">test</span>}
        <code class="muted">{delivery.eventId}</code>
        <span class="muted">
          <time datetime={delivery.createdAt}>{formatTime(delivery.createdAt)}</time>
        </span>
        <span class="muted">
          {delivery.attempts.length} attempt{delivery.attempts.length === 1 ? "" : "s"}
          {last && ` · last: ${last.statusCode === null ? "no response" : `HTTP ${last.statusCode}`}, ${formatDuration(last.durationMs)}`}
        </span>
        {waiting && <span class="waiting">{waiting}</span>}
      </summary>
      <div>
        <p class="muted meta">
          Type <code>{delivery.type}</code>
          {delivery.deliveredAt && (
            <>
              {" "}
              · delivered <time datetime={delivery.deliveredAt}>{formatTime(delivery.deliveredAt)}</time>
            </>
          )}
          {delivery.nextAttemptAt && (
            <>
              {" "}
              · next attempt <time datetime={delivery.nextAttemptAt}>{formatTime(delivery.nextAttemptAt)}</time>
            </>
          )}
          {delivery.traceId && (
            <>
              {" "}
              · trace{" "}
              <a href={logHref(basePath, { traceId: delivery.traceId })} title="Every delivery of this trace">
                <code class="trace-id">{delivery.traceId}</code>
              </a>
            </>
          )}
        </p>
        {delivery.schemaWarning && (
          <p class="flash warning schema-warning" role="note">
            Did not match its event type's schema: {delivery.schemaWarning}
          </p>
        )}
        {delivery.attempts.length === 0 ? (
          <p>No attempt yet.</p>
        ) : (
          <table class="attempts">
            <caption class="visually-hidden">Attempts of {delivery.eventId}</caption>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Time</th>
                <th scope="col">Status code</th>
                <th scope="col">Duration</th>
                <th scope="col">Error</th>
                <th scope="col">Response</th>
              </tr>
            </thead>
            <tbody>
              {delivery.attempts.map((attempt, i) => (
                <tr>
                  <td data-label="#">{i + 1}</td>
                  <td data-label="Time">
                    <time datetime={attempt.at}>{formatTime(attempt.at)}</time>
                  </td>
                  <td data-label="Status code">{attempt.statusCode ?? "—"}</td>
                  <td data-label="Duration">{formatDuration(attempt.durationMs)}</td>
                  <td data-label="Error">{attempt.error ?? "—"}</td>
                  <td data-label="Response">{attempt.responseBody ? <pre>{attempt.responseBody}</pre> : "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <p>
          <a href={`${basePath}?event=${encodeURIComponent(delivery.eventId)}#found`}>What was sent</a>
        </p>
        {delivery.status !== "pending" && (
          <div class="row gap-top">
            <ActionButton
              action={`${basePath}/deliveries/${encodeURIComponent(delivery.eventId)}/retry`}
              back={back}
              label="Retry"
              accessibleLabel={`Retry ${delivery.eventId}`}
            />
          </div>
        )}
      </div>
    </details>
  );
};

export const DeliveryLog: FC<{
  basePath: string;
  /** The types the filter offers. */
  types: readonly { type: string; name: string }[];
  log: DeliveryPage | ApiProblem;
  filters: LogFilters;
  back: string;
  title?: string;
  empty?: string;
  ordering?: Ordering;
}> = ({
  basePath,
  types,
  log,
  filters,
  back,
  title = "Delivery log",
  empty = "No deliveries yet. Send a test event to see one here.",
  ordering,
}) => (
  <section aria-labelledby="log-title" id="log">
    <h2 id="log-title">{title}</h2>
    <form method="get" action={`${basePath}#log`} class="filters card">
      <div class="field">
        <label for="filter-status">Status</label>
        <select id="filter-status" name="status">
          <option value="">All</option>
          {DELIVERY_STATUSES.map((s) => (
            <option value={s} selected={filters.status === s}>
              {s}
            </option>
          ))}
        </select>
      </div>
      <div class="field">
        <label for="filter-type">Event type</label>
        <select id="filter-type" name="type">
          <option value="">All</option>
          {types.map((e) => (
            <option value={e.type} selected={filters.type === e.type}>
              {e.name}
            </option>
          ))}
        </select>
      </div>
      <button type="submit" class="button">
        Filter
      </button>
      {filters.traceId && <input type="hidden" name="traceId" value={filters.traceId} />}
      {(filters.status || filters.type || filters.traceId) && (
        <a class="button" href={logHref(basePath, {})}>
          Clear
        </a>
      )}
    </form>
    {"code" in log ? (
      <p class="flash error" role="alert">
        The delivery log could not be read: {log.message}
      </p>
    ) : log.data.length === 0 ? (
      <p class="card muted">{filters.status || filters.type || filters.traceId || filters.cursor ? "No deliveries match." : empty}</p>
    ) : (
      <>
        <div class="log">
          {log.data.map((delivery) => (
            <DeliveryItem basePath={basePath} delivery={delivery} back={back} page={log.data} ordering={ordering} />
          ))}
        </div>
        <nav class="pager" aria-label="Delivery log pages">
          {filters.cursor && (
            <a href={logHref(basePath, { status: filters.status, type: filters.type, traceId: filters.traceId })}>Newest</a>
          )}
          {log.nextCursor && (
            <a
              href={logHref(basePath, { status: filters.status, type: filters.type, traceId: filters.traceId, cursor: log.nextCursor })}
              rel="next"
            >
              Older deliveries
            </a>
          )}
        </nav>
      </>
    )}
  </section>
);

/** One delivery found by its event id: its attempts, and exactly what the endpoint got (body and headers of the last attempt). */
export const FoundDelivery: FC<{
  basePath: string;
  search: { eventId: string; delivery: DeliveryWithPayload | undefined };
  back: string;
  /** What is said when the event is not there. */
  missing?: string;
}> = ({
  basePath,
  search,
  back,
  missing = "This webhook has no delivery of that event (it may be another webhook's, filtered out, or past retention).",
}) => (
  <section class="card" aria-labelledby="found-title" id="found">
    <h2 id="found-title">
      Event <code>{search.eventId}</code>
    </h2>
    {!search.delivery ? (
      <p>{missing}</p>
    ) : (
      <>
        <DeliveryItem basePath={basePath} delivery={search.delivery} back={back} open />
        <details open>
          <summary>Body sent</summary>
          <pre class="payload" tabindex={0}>
            {JSON.stringify(search.delivery.payload, null, 2)}
          </pre>
        </details>
        <details>
          <summary>Headers of the last attempt</summary>
          {search.delivery.headers ? (
            <table class="headers">
              <caption class="visually-hidden">Headers sent with the last attempt of {search.delivery.eventId}</caption>
              <tbody>
                {Object.entries(search.delivery.headers).map(([name, value]) => (
                  <tr>
                    <th scope="row">
                      <code>{name}</code>
                    </th>
                    <td>
                      <code>{value}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p>No attempt yet.</p>
          )}
          {search.delivery.withheldHeaders && search.delivery.withheldHeaders.length > 0 && (
            <p class="hint">
              Not sent: {search.delivery.withheldHeaders.join(", ")}. These stored headers change how a request is made (or are the
              service's own), so attempts go out without them; remove them from the webhook's headers.
            </p>
          )}
        </details>
      </>
    )}
  </section>
);
