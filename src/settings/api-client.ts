// The settings pages use the public API, in-process: the same routes, validation and error messages a
// curl user gets, called for the signed-in workspace without any key (see bindingsActingFor).
import type { ExecutionContext } from "hono";
import { bindingsActingFor } from "../api/auth";
import type { ErrorBody } from "../api/errors";
import type { WorkspaceRow } from "../db/schema";
import type { Env } from "../env";

/** How the pages reach the API: the API app's own fetch. */
export type ApiFetch = (request: Request, env: Env, ctx: ExecutionContext) => Response | Promise<Response>;

/** An error as the API answers it (its body's `error`): code, message, the field at fault, every problem found. */
export type ApiProblem = ErrorBody["error"];

export type ApiResult<T> = { ok: true; status: number; data: T } | { ok: false; status: number; error: ApiProblem };

export interface ApiClient {
  get<T>(path: string, query?: Record<string, string | undefined>): Promise<ApiResult<T>>;
  post<T>(path: string, body?: unknown): Promise<ApiResult<T>>;
  patch<T>(path: string, body: unknown): Promise<ApiResult<T>>;
  delete(path: string): Promise<ApiResult<null>>;
}

// Only the path matters to the router; the host is never contacted.
const INTERNAL_ORIGIN = "http://settings.internal";

export function apiClient(fetchApi: ApiFetch, env: Env, ctx: ExecutionContext, workspace: WorkspaceRow): ApiClient {
  const bindings = bindingsActingFor(env, workspace);

  async function send<T>(method: string, path: string, body?: unknown): Promise<ApiResult<T>> {
    const init: RequestInit = { method, headers: { accept: "application/json" } };
    if (body !== undefined) init.headers = { accept: "application/json", "content-type": "application/json" };
    if (body !== undefined) init.body = JSON.stringify(body);
    const res = await fetchApi(new Request(INTERNAL_ORIGIN + path, init), bindings, ctx);
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    if (res.ok) return { ok: true, status: res.status, data: json as T };
    const error = (json as { error?: ApiProblem } | null)?.error;
    return { ok: false, status: res.status, error: error ?? { code: "internal_error", message: `the API answered HTTP ${res.status}` } };
  }

  return {
    get: (path, query) => {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== "") params.set(k, v);
      const qs = params.toString();
      return send("GET", qs ? `${path}?${qs}` : path);
    },
    post: (path, body) => send("POST", path, body),
    patch: (path, body) => send("PATCH", path, body),
    delete: (path) => send("DELETE", path),
  };
}
