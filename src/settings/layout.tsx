/** @jsxImportSource hono/jsx */
// The page shell every settings page shares: header with the workspace and sign-out, breadcrumbs, flash message.
import type { Child, FC } from "hono/jsx";
import type { Flash } from "./session";

export const BASE = "/settings";
export const WEBHOOKS = `${BASE}/integrations/webhooks`;
export const ALERTS = `${BASE}/integrations/alerts`;
export const ASSET_VERSION = "7";

export interface Crumb {
  label: string;
  href?: string;
}

export const Layout: FC<{
  title: string;
  workspaceName?: string;
  crumbs?: Crumb[];
  flash?: Flash | undefined;
  /**
   * Reload the page every this many seconds while something is pending: done by the script, said on the page with a
   * button to stop it (a meta refresh could not be stopped, WCAG 2.2.1), and held off while a row is open or a field has focus.
   */
  refreshSeconds?: number | undefined;
  /** A page whose table needs the whole width (the list). */
  wide?: boolean;
  children?: Child;
}> = ({ title, workspaceName, crumbs, flash, refreshSeconds, wide, children }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="referrer" content="same-origin" />
      <title>{`${title} · Edge Webhooks`}</title>
      <link rel="stylesheet" href={`${BASE}/assets/settings.css?v=${ASSET_VERSION}`} />
      <script src={`${BASE}/assets/settings.js?v=${ASSET_VERSION}`} defer></script>
    </head>
    <body>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href={WEBHOOKS}>
          Edge Webhooks
        </a>
        {workspaceName !== undefined && (
          <div class="row">
            <span class="who">
              Workspace: <strong>{workspaceName}</strong>
            </span>
            <form method="post" action={`${BASE}/sign-out`}>
              <button type="submit" class="button">
                Sign out
              </button>
            </form>
          </div>
        )}
      </header>
      <main id="main" tabindex={-1} class={wide ? "wide" : undefined}>
        {crumbs && crumbs.length > 0 && (
          <nav class="crumbs" aria-label="Breadcrumb">
            <ol>
              {crumbs.map((crumb, i) => (
                <li>
                  {crumb.href && i < crumbs.length - 1 ? (
                    <a href={crumb.href}>{crumb.label}</a>
                  ) : (
                    <span aria-current={i === crumbs.length - 1 ? "page" : undefined}>{crumb.label}</span>
                  )}
                </li>
              ))}
            </ol>
          </nav>
        )}
        {flash && (
          <div class={`flash ${flash.kind}`} role={flash.kind === "error" ? "alert" : "status"}>
            {flash.text}
          </div>
        )}
        {refreshSeconds !== undefined && (
          <p class="auto-refresh muted" data-refresh={String(refreshSeconds)} hidden>
            Deliveries are on their way: this page reloads every {refreshSeconds} seconds (not while a row is open or you are typing).{" "}
            <button type="button" class="link">
              Stop reloading
            </button>
          </p>
        )}
        {children}
      </main>
    </body>
  </html>
);

/** Workspace Settings › Integrations › Webhooks, then whatever follows. */
export function webhookCrumbs(...more: Crumb[]): Crumb[] {
  return [{ label: "Workspace Settings" }, { label: "Integrations" }, { label: "Webhooks", href: WEBHOOKS }, ...more];
}

/** Workspace Settings › Integrations › Webhooks › Alerts (reached from the list), then whatever follows. */
export function alertCrumbs(...more: Crumb[]): Crumb[] {
  return [...webhookCrumbs(), { label: "Alerts", href: ALERTS }, ...more];
}
