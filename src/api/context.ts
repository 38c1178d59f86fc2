// The typed Hono environment every router shares, and the router factory that applies the error hook.
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Db } from "../db/client";
import type { WebhookRow, WorkspaceRow } from "../db/schema";
import type { Env } from "../env";
import { onValidation } from "./validation";

export interface AppEnv {
  Bindings: Env;
  Variables: {
    db: Db;
    /** The caller's workspace; set by the workspace-key middleware. */
    workspace: WorkspaceRow;
    /** The webhook a poll token authenticated (poll-auth.ts), read with the token: its poll route needs no second read. */
    pollWebhook?: WebhookRow;
  };
}

export function newRouter() {
  return new OpenAPIHono<AppEnv>({ defaultHook: onValidation });
}
