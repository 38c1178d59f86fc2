// The tests' side of the real receiver: make an endpoint, script how it answers, read what it got.
import { inject } from "vitest";
import type { Behaviour, BucketReport, RecordedRequest } from "./receiver-types";

export type { Behaviour, BucketReport, RecordedRequest };

export interface Endpoint {
  url: string;
  /** Answers in this order, then `fallback` for ever after; `secrets` are used to verify signatures. */
  program(options: { script?: Behaviour[]; fallback?: Behaviour; secrets?: string[]; capacity?: number | null }): Promise<void>;
  /** Requests served at once (one arriving while as many are open gets a 503 at once); null: no limit. */
  setCapacity(capacity: number | null): Promise<void>;
  requests(): Promise<RecordedRequest[]>;
  /** The requests and the most the endpoint ever had open at once. */
  report(): Promise<BucketReport>;
  /** Whether each request that arrived (or each of `requests`) carries a `v1a` signature by a key of `jwks`, checked in Node (docs/snippets/verify-v1a-node.mjs). */
  verifyV1aInNode(jwks: unknown, requests?: Pick<RecordedRequest, "headers" | "body">[]): Promise<boolean[]>;
  /** Polls until at least `count` requests arrived; fails with what did arrive after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<RecordedRequest[]>;
}

export function endpoint(): Endpoint {
  const base = inject("receiverUrl");
  const name = crypto.randomUUID();
  const control = `${base}/_control/${name}`;
  const report = async () => (await (await fetch(control)).json()) as BucketReport;
  const requests = async () => (await report()).requests;
  return {
    url: `${base}/hooks/${name}`,
    async program(options) {
      const res = await fetch(control, { method: "PUT", body: JSON.stringify(options) });
      if (!res.ok) throw new Error(`receiver control failed: ${res.status}`);
    },
    async setCapacity(capacity) {
      const res = await fetch(control, { method: "PATCH", body: JSON.stringify({ capacity }) });
      if (!res.ok) throw new Error(`receiver control failed: ${res.status}`);
    },
    requests,
    report,
    async verifyV1aInNode(jwks, requests) {
      const res = await fetch(control, { method: "POST", body: JSON.stringify({ jwks, requests }) });
      if (!res.ok) throw new Error(`receiver control failed: ${res.status}`);
      return ((await res.json()) as { valid: boolean[] }).valid;
    },
    async waitFor(count, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const got = await requests();
        if (got.length >= count) return got;
        if (Date.now() > deadline) throw new Error(`expected ${count} request(s) at the receiver, got ${got.length} after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

export const eventIdsOf = (requests: RecordedRequest[]) => requests.map((r) => JSON.parse(r.body).event_id as string);
