// The Worker called in-process with a D1 binding that records every statement it prepares (each one D1 query), and
// with any binding replaced, so a test can count what a request costs D1 and run under another configuration.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { Env } from "../../src/env";
import worker from "../../src/index";

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

/** `overrides` replace bindings (e.g. `{ ADMIN_TOKEN: "short" }`); the real env is left as it is. */
export function countingWorker(overrides: Record<string, unknown> = {}) {
  const statements: string[] = [];
  const db = new Proxy(env.DB, {
    get(target, prop) {
      if (prop === "prepare") {
        return (sql: string) => {
          statements.push(sql);
          return target.prepare(sql);
        };
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const properties = Object.fromEntries(Object.entries({ DB: db, ...overrides }).map(([k, value]) => [k, { value }]));
  const counted = Object.create(env, properties) as Env;
  return {
    env: counted,
    /** Every statement prepared so far. */
    statements,
    /** Statements that name `table`. */
    touching: (table: string) => statements.filter((sql) => sql.includes(`"${table}"`)).length,
    /** A request to the Worker, waiting for what it does after answering. */
    async fetch(path: string, init: RequestInit & { address?: string } = {}): Promise<Answer> {
      const headers = new Headers(init.headers);
      if (init.address) headers.set("cf-connecting-ip", init.address);
      const ctx = createExecutionContext();
      const res = await worker.fetch(new Request(`http://edge.test${path}`, { ...init, headers, redirect: "manual" }), counted, ctx);
      const text = await res.text();
      await waitOnExecutionContext(ctx);
      let json: any;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      return { status: res.status, headers: res.headers, text, json };
    },
  };
}
