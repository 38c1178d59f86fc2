/** @jsxImportSource hono/jsx */
// The dead-letter banner: events the queue gave up on, how many, and a Replay button for each of the newest.
import type { FC } from "hono/jsx";
import { ActionButton } from "./components";
import { eventName, formatTime } from "./format";
import { BASE } from "./layout";
import type { DeadLetterPage } from "./model";

/** Where a Replay button posts (routes.tsx). */
export const DEAD_LETTER_REPLAY_ROUTE = "/integrations/dead-letters/:eventId/replay";
const replayPath = (eventId: string) => BASE + DEAD_LETTER_REPLAY_ROUTE.replace(":eventId", encodeURIComponent(eventId));

export const DeadLettersBanner: FC<{ page: DeadLetterPage | undefined; back: string }> = ({ page, back }) => {
  const waiting = page?.data.filter((d) => d.replayedAt === null) ?? [];
  if (!page || page.unreplayed === 0) return null;
  const n = page.unreplayed;
  return (
    <section class="banner" role="alert" aria-labelledby="dead-letters-title">
      <h2 id="dead-letters-title">
        {n === 1 ? "1 event could not be delivered to its webhooks" : `${n} events could not be delivered to their webhooks`}
      </h2>
      <p>
        The queue gave up handing {n === 1 ? "it" : "them"} to the webhooks' delivery lanes after its retries, and kept{" "}
        {n === 1 ? "it" : "them"} as dead letters (<code>GET /v1/dead-letters</code>). Replay sends an event through again; a webhook that
        already has it is not sent it twice.
      </p>
      <ul class="plain">
        {waiting.map((d) => (
          <li class="row">
            <code>{d.eventId}</code>
            <span>{eventName(d.type)}</span>
            <span class="muted">
              <time datetime={d.deadAt}>{formatTime(d.deadAt)}</time>: {d.reason}
            </span>
            {d.replayable ? (
              <ActionButton
                action={replayPath(d.eventId)}
                back={back}
                label="Replay"
                class="button primary"
                accessibleLabel={`Replay ${d.eventId}`}
              />
            ) : (
              <span class="muted">not a valid event; cannot be replayed</span>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
};
