// The quota's decision as a pure function: what one failure does to its webhook and what the workspace is owed.
import { describe, expect, it } from "vitest";
import { decideFailure, type FailureReport } from "../../src/quota/decide";

const report = (statusCode: number | null): FailureReport => ({
  webhookId: "wh_1",
  workspaceId: "ws_1",
  url: "https://example.com/hook",
  eventId: "evt_1",
  at: Date.UTC(2026, 0, 1),
  statusCode,
  error: null,
});
const window = (failures: number) => ({ limit: 30, windowSeconds: 1800, failures });
const owedKinds = (owed: ReturnType<typeof decideFailure>["owed"]) => owed.map((o) => ("alert" in o ? o.alert.type : `email:${o.email}`));

describe("the quota's decision", () => {
  it("owes nothing below 80% of the limit, and disables nothing at the limit", () => {
    expect(decideFailure(report(500), window(23), false)).toEqual({ ...window(23), exceeded: false, disable: null, owed: [] });
    expect(decideFailure(report(500), window(30), true)).toMatchObject({ exceeded: false, disable: null, owed: [] });
  });

  it("warns once per window at 80%: an email and a quota.warning alert, never when already warned", () => {
    expect(owedKinds(decideFailure(report(500), window(24), false).owed)).toEqual(["email:warning", "quota.warning"]);
    expect(decideFailure(report(500), window(24), true).owed).toEqual([]);
    expect(decideFailure({ ...report(500), workspaceId: undefined }, window(24), false).owed).toEqual([]);
  });

  it("over the limit disables the webhook, owed an email and a webhook.disabled alert", () => {
    const decision = decideFailure(report(500), window(31), false);
    expect(decision).toMatchObject({ exceeded: true, disable: "failure_quota" });
    expect(owedKinds(decision.owed)).toEqual(["email:disable", "webhook.disabled"]);
  });

  it("a 410 Gone disables the webhook whatever the window, with an alert but no email", () => {
    const decision = decideFailure(report(410), window(1), false);
    expect(decision).toMatchObject({ exceeded: false, disable: "gone" });
    expect(decision.owed).toEqual([
      {
        alert: {
          workspaceId: "ws_1",
          type: "webhook.disabled",
          key: `wh_1\n${Date.UTC(2026, 0, 1)}`,
          at: Date.UTC(2026, 0, 1),
          data: { webhookId: "wh_1", url: "https://example.com/hook", reason: "gone", disabledAt: "2026-01-01T00:00:00.000Z" },
        },
      },
    ]);
  });
});
