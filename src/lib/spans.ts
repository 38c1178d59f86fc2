// The Worker's own traces (wrangler.toml [observability.traces]): attributes that tie Cloudflare's spans of one
// event together (ingestion, each delivery attempt) by the event's W3C trace id. No-ops where the runtime has no
// tracing API (older workerd, tests), so nothing here can fail a request.
import * as workers from "cloudflare:workers";

type Attributes = Record<string, string | number | boolean | undefined>;

/** The runtime's tracing API when it has one (`tracing` from cloudflare:workers, custom spans). */
const tracing = (workers as { tracing?: Tracing }).tracing;

/** Adds attributes to the span the runtime is recording now (the invocation's, or a custom span's). */
export function annotateSpan(attributes: Attributes): void {
  try {
    tracing?.getActiveSpan()?.setAttributes(attributes);
  } catch {
    // Tracing is best effort: never the reason a request fails.
  }
}

/** Runs `work` in a custom span named `name` with `attributes`; just runs it where there is no tracing API. */
export function inSpan<T>(name: string, attributes: Attributes, work: () => T): T {
  if (!tracing) return work();
  let ran = false;
  try {
    return tracing.enterSpan(name, (span) => {
      ran = true;
      try {
        span.setAttributes(attributes);
      } catch {}
      return work();
    });
  } catch (err) {
    // The work's own error goes on; a tracing API that failed before running it does not stop it.
    if (ran) throw err;
    return work();
  }
}
