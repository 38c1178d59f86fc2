// At most MAX_OUTGOING_PER_OBJECT requests out at once from one Durable Object, counted where tests can read it.
import { MAX_OUTGOING_PER_OBJECT } from "./ordering";

/**
 * Cloudflare waits for the response headers of at most 6 outgoing connections per I/O context, and a seventh
 * would wait with its delivery timeout already running; `wrangler dev` does not enforce this, so every object
 * that sends counts its own requests here: one past the limit waits before it starts (its timeout not yet running).
 */
export class OutgoingLimit {
  /** Requests out now, and the most there ever were at once (what the tests hold to the limit). */
  current = 0;
  peak = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly max = MAX_OUTGOING_PER_OBJECT) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    // A finished request hands its place straight to the next waiting one, so none can slip in between.
    if (this.current >= this.max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.current++;
    if (this.current > this.peak) this.peak = this.current;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.current--;
    }
  }
}
