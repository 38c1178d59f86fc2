// The settings pages where a user meets a limit (docs/limits.md): the Add Webhook button says why it is off, the
// form's refusals name the limit, and the form tells the filter's limits before they are met.
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, call, createWebhook, createWorkspace } from "../support/helpers";
import { page, signIn } from "../support/pages";
import { endpoint } from "../support/receiver";

const LIST = "/settings/integrations/webhooks";

describe("settings pages: limits", () => {
  it("turns Add Webhook off at the webhooks limit, says why, and sends /new back to the list with the reason", async () => {
    const ws = await createWorkspace("Full");
    await call("PATCH", `/v1/admin/workspaces/${ws.id}`, { key: ADMIN_TOKEN, body: { limits: { webhooks: 2 } } });
    await createWebhook(ws.apiKey, { url: endpoint().url });
    const cookie = await signIn(ws.apiKey);
    const room = await page("GET", LIST, { cookie });
    expect(room.html).toContain(`href="${LIST}/new"`);
    expect(room.html).not.toContain('id="webhook-limit"');

    await createWebhook(ws.apiKey, { url: endpoint().url });
    const full = await page("GET", LIST, { cookie });
    expect(full.status).toBe(200);
    expect(full.html).not.toContain(`href="${LIST}/new"`);
    expect(full.html).toMatch(/<button type="button" class="primary" disabled="" aria-describedby="webhook-limit">Add Webhook<\/button>/);
    expect(full.html).toContain("This workspace has 2 webhooks, its limit of 2.");

    const form = await page("GET", `${LIST}/new`, { cookie });
    expect(form.status).toBe(303);
    expect(form.location).toBe(LIST);
    const told = await page("GET", LIST, { cookie: `${cookie}; ${form.headers.getSetCookie()[0]?.split(";")[0] ?? ""}` });
    expect(told.html).toContain("its limit of 2: delete one to add another");
  });

  it("shows the API's refusal on the form when the limit is met while it was open, keeping what was typed", async () => {
    const ws = await createWorkspace("Racing");
    await call("PATCH", `/v1/admin/workspaces/${ws.id}`, { key: ADMIN_TOKEN, body: { limits: { webhooks: 1 } } });
    const cookie = await signIn(ws.apiKey);
    await createWebhook(ws.apiKey, { url: endpoint().url });
    const url = endpoint().url;
    const res = await page("POST", LIST, { cookie, form: { url, events: "contact.created", description: "typed" } });
    expect(res.status).toBe(400);
    expect(res.html).toContain("limit of 1 webhooks");
    expect(res.html).toContain(`value="${url}"`);
  });

  it("names the filter's limits on the form and marks a filter value over them", async () => {
    const ws = await createWorkspace("Filters");
    const cookie = await signIn(ws.apiKey);
    const form = await page("GET", `${LIST}/new`, { cookie });
    expect(form.html).toContain("Each value at most 256 characters");
    expect(form.html).toContain("at most 16 KiB");
    const res = await page("POST", LIST, {
      cookie,
      form: { url: endpoint().url, events: "contact.created", filter: JSON.stringify({ "contact.name": "x".repeat(300) }) },
    });
    expect(res.status).toBe(400);
    expect(res.html).toContain("over this workspace&#39;s limit of 256 (filterValueLength)");
  });
});
