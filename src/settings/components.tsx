/** @jsxImportSource hono/jsx */
// Pieces several pages share: a webhook's status and actions, the auto-disable banner, the quota meter, form errors.
import type { FC } from "hono/jsx";
import type { ApiProblem } from "./api-client";
import { disabledReasonLabel, formatTime, formatWindow, webhookLabel } from "./format";
import { WEBHOOKS } from "./layout";
import type { Quota, Webhook, Workspace } from "./model";

export const webhookPath = (id: string) => `${WEBHOOKS}/${encodeURIComponent(id)}`;

/** Enabled, or Disabled with why and when; `compact` (the list) keeps it to one line, the time in its tooltip. */
export const WebhookStatus: FC<{ webhook: Webhook; compact?: boolean }> = ({ webhook, compact }) =>
  webhook.enabled ? (
    <span class="badge ok">Enabled</span>
  ) : compact ? (
    <span title={webhook.disabledAt ? `Disabled ${formatTime(webhook.disabledAt)}` : undefined}>
      <span class="badge off">Disabled</span> <span class="reason">{disabledReasonLabel(webhook.disabledReason)}</span>
    </span>
  ) : (
    <span>
      <span class="badge off">Disabled</span>{" "}
      <span class="reason">
        {disabledReasonLabel(webhook.disabledReason)}
        {webhook.disabledAt && (
          <>
            , <time datetime={webhook.disabledAt}>{formatTime(webhook.disabledAt)}</time>
          </>
        )}
      </span>
    </span>
  );

/** A one-button form that posts to an action route and comes back to `back`. */
export const ActionButton: FC<{
  action: string;
  back: string;
  label: string;
  name?: string;
  value?: string;
  class?: string;
  accessibleLabel?: string;
}> = (props) => (
  <form method="post" action={props.action}>
    <input type="hidden" name="back" value={props.back} />
    {props.name && <input type="hidden" name={props.name} value={props.value ?? ""} />}
    <button type="submit" class={props.class ?? "button"} aria-label={props.accessibleLabel}>
      {props.label}
    </button>
  </form>
);

/**
 * Enable / Disable, Edit, Send test event, Rotate secret, Delete: what respond.io's Action column offers, and more.
 * `compact` (the list's one-line rows) puts Rotate secret and Delete under "More"; the webhook's page has its own
 * test control, so it leaves the button out (`test={false}`).
 */
export const WebhookActions: FC<{ webhook: Webhook; back: string; compact?: boolean; test?: boolean }> = ({
  webhook,
  back,
  compact,
  test = true,
}) => {
  const path = webhookPath(webhook.id);
  const about = ` for ${webhookLabel(webhook)}`;
  const rare = (
    <>
      <a class="button" href={`${path}/rotate-secret?back=${encodeURIComponent(back)}`} aria-label={`Rotate secret${about}`}>
        Rotate secret
      </a>
      <a class="button danger-outline" href={`${path}/delete`} aria-label={`Delete${about}`}>
        Delete
      </a>
    </>
  );
  return (
    <div class="actions">
      {webhook.enabled ? (
        <ActionButton action={`${path}/disable`} back={back} label="Disable" accessibleLabel={`Disable${about}`} />
      ) : (
        <ActionButton action={`${path}/enable`} back={back} label="Enable" class="button primary" accessibleLabel={`Enable${about}`} />
      )}
      <a class="button" href={`${path}/edit`} aria-label={`Edit${about}`}>
        Edit
      </a>
      {test && (
        <ActionButton
          action={`${path}/test`}
          back={back}
          label="Send test event"
          name="type"
          value={webhook.events[0] ?? ""}
          accessibleLabel={`Send test event${about}`}
        />
      )}
      {compact ? (
        <details class="menu">
          <summary class="button" aria-label={`More actions${about}`}>
            More
          </summary>
          <div class="menu-items">{rare}</div>
        </details>
      ) : (
        rare
      )}
    </div>
  );
};

/** Shown while any webhook is off because of the failure quota: the rule, and the way back. */
export const AutoDisabledBanner: FC<{ webhooks: Webhook[]; quota: Quota | undefined; workspace: Workspace | undefined; back: string }> = ({
  webhooks,
  quota,
  workspace,
  back,
}) => {
  const disabled = webhooks.filter((w) => !w.enabled && w.disabledReason === "failure_quota");
  if (disabled.length === 0) return null;
  const limit = quota?.limit ?? 30;
  const window = formatWindow(quota?.windowSeconds ?? 1800);
  return (
    <section class="banner" role="alert" aria-labelledby="auto-disabled-title">
      <h2 id="auto-disabled-title">
        {disabled.length === 1 ? "A webhook was disabled automatically" : `${disabled.length} webhooks were disabled automatically`}
      </h2>
      <p>
        When this workspace's webhooks fail more than {limit} times in {window} (all webhooks together), the webhook whose failure crosses
        that line is switched off, to protect the workspace.{" "}
        {workspace?.notificationEmailStatus === "confirmed"
          ? `A notice went to ${workspace.notificationEmail}.`
          : workspace?.notificationEmail
            ? `No notice was sent: ${workspace.notificationEmail} has not confirmed it wants them.`
            : "No notification email is set, so nobody was emailed."}{" "}
        Its events are kept as skipped: after fixing the endpoint, enable it and use “Recover since …” on its page to send them.
      </p>
      <ul class="plain">
        {disabled.map((w) => (
          <li class="row">
            <a href={webhookPath(w.id)}>
              <code>{webhookLabel(w)}</code>
            </a>
            <span class="muted">
              disabled <time datetime={w.disabledAt ?? ""}>{formatTime(w.disabledAt)}</time>
            </span>
            <ActionButton
              action={`${webhookPath(w.id)}/enable`}
              back={back}
              label="Enable"
              class="button primary"
              accessibleLabel={`Enable ${webhookLabel(w)}`}
            />
          </li>
        ))}
      </ul>
    </section>
  );
};

/**
 * The workspace's failure count against its limit. `fromDeleted`: how many of the counted failures no listed webhook
 * accounts for (they came from one deleted since); said in words, so a count with no failing webhook makes sense.
 */
export const QuotaMeter: FC<{ quota: Quota | undefined; fromDeleted?: number }> = ({ quota, fromDeleted = 0 }) => {
  if (!quota) return null;
  const window = formatWindow(quota.windowSeconds);
  return (
    <section class="card quota" aria-labelledby="quota-title">
      <h2 id="quota-title">Failure quota</h2>
      <meter
        id="quota-meter"
        min={0}
        max={quota.limit}
        low={quota.limit * 0.5}
        high={quota.limit * 0.8}
        optimum={0}
        value={Math.min(quota.failures, quota.limit)}
        aria-describedby="quota-text"
      >
        {quota.failures} / {quota.limit}
      </meter>
      <span id="quota-text">
        <strong>
          {quota.failures} / {quota.limit}
        </strong>{" "}
        failed attempts in the last {window}, across all webhooks. More than {quota.limit} disables the webhook that failed.
        {quota.failures > 0 && ` Each failure leaves the count ${window} after it happened.`}
        {fromDeleted > 0 &&
          ` ${fromDeleted === quota.failures ? (fromDeleted === 1 ? "It" : "All of them") : `${fromDeleted} of them`} came from a webhook deleted since; ${fromDeleted === 1 ? "it still counts" : "they still count"} until then.`}
      </span>
    </section>
  );
};

/** The form field an API error is about: `events[2]` belongs to the events fieldset. */
export function fieldOf(error: ApiProblem | undefined): string | undefined {
  const param = error?.param;
  if (!param) return undefined;
  return param.split(/[.[]/)[0];
}

/** Every problem of a refused request: the API lists them all in `errors` (the first being the error itself). */
export function problemsOf(error: ApiProblem | undefined): ApiProblem[] {
  if (!error) return [];
  return error.errors && error.errors.length > 0 ? error.errors : [error];
}

/** The problem with one form field, if any. */
export function problemWith(error: ApiProblem | undefined, field: string): ApiProblem | undefined {
  return problemsOf(error).find((p) => fieldOf(p) === field);
}

/** `"true"` for aria-invalid when the field has a problem. */
export const invalidIf = (error: ApiProblem | undefined, field: string) => (problemWith(error, field) ? "true" : undefined);

/** The API's message, without the `param: ` it starts with when it is shown next to that very field. */
export function messageFor(error: ApiProblem): string {
  const prefix = `${error.param}: `;
  return error.param && error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
}

export const FieldError: FC<{ id: string; error: ApiProblem | undefined; field: string }> = ({ id, error, field }) => {
  const problem = problemWith(error, field);
  return problem ? (
    <p class="field-error" id={id}>
      <span class="visually-hidden">Error: </span>
      {messageFor(problem)}
    </p>
  ) : null;
};

/**
 * At the top of a refused form: every problem, each in words under the field's label and linking to the field
 * (the script focuses the summary).
 */
export const ErrorSummary: FC<{
  error: ApiProblem | undefined;
  fields: Record<string, { target: string; label: string }>;
  title?: string;
}> = ({ error, fields, title = "Nothing was saved" }) => {
  // In the form's order, as a person reads it.
  const order = Object.keys(fields);
  const rank = (p: ApiProblem) => {
    const i = order.indexOf(fieldOf(p) ?? "");
    return i < 0 ? order.length : i;
  };
  const problems = problemsOf(error).toSorted((a, b) => rank(a) - rank(b));
  if (problems.length === 0) return null;
  return (
    <div class="error-summary" role="alert" tabindex={-1} aria-labelledby="error-summary-title">
      <h2 id="error-summary-title">
        {title}
        {problems.length > 1 ? `: ${problems.length} things to fix` : ""}
      </h2>
      <ul>
        {problems.map((problem) => {
          const field = fieldOf(problem);
          const known = field ? fields[field] : undefined;
          const sub = problem.param && problem.param !== field ? ` (${problem.param.slice(field!.length).replace(/^\./, "")})` : "";
          return <li>{known ? <a href={`#${known.target}`}>{`${known.label}${sub}: ${messageFor(problem)}`}</a> : problem.message}</li>;
        })}
      </ul>
    </div>
  );
};

/** A secret shown once: read-only, with the Copy button the script reveals and where it says it copied. */
export const SecretField: FC<{ label: string; secret: string; id?: string }> = ({ label, secret, id = "secret" }) => (
  <div class="secret">
    <label for={id} class="visually-hidden">
      {label}
    </label>
    <input id={id} type="text" readonly value={secret} autocomplete="off" spellcheck={false} />
    <button type="button" class="button" data-copy={id} hidden>
      Copy
    </button>
    <span id={`${id}-status`} role="status" aria-live="polite"></span>
  </div>
);

/** The confirm step of a secret rotation (a webhook's or the alerts'): posts to `action`, Cancel leads to `cancel`. */
export const RotateConfirmForm: FC<{ action: string; cancel: string; back?: string }> = ({ action, cancel, back }) => (
  <form method="post" action={action} class="row">
    {back !== undefined && <input type="hidden" name="back" value={back} />}
    <button type="submit" class="button danger">
      Rotate secret
    </button>
    <a class="button" href={cancel} autofocus>
      Cancel
    </a>
  </form>
);
