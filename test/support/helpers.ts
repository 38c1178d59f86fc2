// Test helpers: call the Worker like a client would, and make workspaces and webhooks to test against.
import { exports } from "cloudflare:workers";

export const ADMIN_TOKEN = "test-admin-token-at-least-32-characters";

/** A client address of its own: an IPv6 address in a /64 no other test uses (per-address limits count an IPv6 /64). */
export const randomAddress = () => {
  const [a, b] = crypto.getRandomValues(new Uint16Array(2));
  return `2001:db8:${a!.toString(16)}:${b!.toString(16)}::1`;
};

export interface CallOptions {
  key?: string | null;
  body?: unknown;
  rawBody?: BodyInit;
  headers?: Record<string, string>;
}

export async function call(method: string, path: string, options: CallOptions = {}) {
  const headers = new Headers(options.headers);
  // Each call from its own address unless it names one, so the per-address limits on failures (unknown keys, wrong
  // admin tokens) are only met by the tests about them.
  if (!headers.has("cf-connecting-ip")) headers.set("cf-connecting-ip", randomAddress());
  if (options.key) headers.set("authorization", `Bearer ${options.key}`);
  let body = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
  }
  const res = await exports.default.fetch(new Request(`http://edge.test${path}`, { method, headers, body }));
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
}

export async function createWorkspace(name = "Acme", notificationEmail?: string) {
  const res = await call("POST", "/v1/admin/workspaces", {
    key: ADMIN_TOKEN,
    body: notificationEmail ? { name, notificationEmail } : { name },
  });
  if (res.status !== 201) throw new Error(`createWorkspace: ${res.status} ${res.text}`);
  return res.json as { id: string; name: string; notificationEmail: string | null; apiKey: string };
}

export async function createWebhook(key: string, body: Record<string, unknown> = {}) {
  const res = await call("POST", "/v1/webhooks", {
    key,
    body: { url: "https://receiver.example.com/hooks", events: ["message.received"], ...body },
  });
  if (res.status !== 201) throw new Error(`createWebhook: ${res.status} ${res.text}`);
  return res.json;
}

export async function sendEvent(key: string, event: Record<string, unknown>) {
  const res = await call("POST", "/v1/events", { key, body: event });
  if (res.status !== 202) throw new Error(`sendEvent: ${res.status} ${res.text}`);
  return res.json.id as string;
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 15_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `levels` nested containers, alternating objects and arrays, with a leaf at the bottom. */
export function nested(levels: number): Record<string, unknown> {
  let value: unknown = "leaf";
  for (let i = levels - 1; i >= 1; i--) value = i % 2 ? [value] : { k: value };
  return { d: value };
}

/** Changes a workspace's limits through the admin API (docs/limits.md): for tests that send more than a user would. */
export async function setLimits(workspaceId: string, limits: Record<string, number | null>) {
  const res = await call("PATCH", `/v1/admin/workspaces/${workspaceId}`, { key: ADMIN_TOKEN, body: { limits } });
  if (res.status !== 200) throw new Error(`setLimits: ${res.status} ${res.text}`);
  return res.json;
}
