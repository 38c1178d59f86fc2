// The pages' wording: status reasons as respond.io users read them, the quota window, times in UTC.
import { describe, expect, it } from "vitest";
import {
  attemptSummary,
  disabledReasonLabel,
  eventName,
  formatDuration,
  formatTime,
  formatWindow,
  isoToUtcInput,
  utcInputToIso,
  waitingReason,
} from "../../src/settings/format";
import { chartScale } from "../../src/settings/pages/health";
import { failuresFromDeleted } from "../../src/settings/pages/webhook-list";

describe("settings pages wording", () => {
  it("names why a webhook is disabled", () => {
    expect(disabledReasonLabel("failure_quota")).toBe("too many failures");
    expect(disabledReasonLabel("gone")).toBe("endpoint answered 410");
    expect(disabledReasonLabel("manual")).toBe("turned off");
  });

  it("says the quota window as people do", () => {
    expect(formatWindow(1800)).toBe("30 minutes");
    expect(formatWindow(60)).toBe("1 minute");
    expect(formatWindow(7200)).toBe("2 hours");
    expect(formatWindow(45)).toBe("45 seconds");
  });

  it("shows times in UTC and durations in ms or s", () => {
    expect(formatTime("2026-11-21T10:04:05.123Z")).toBe("2026-11-21 10:04:05 UTC");
    expect(formatTime(null)).toBe("—");
    expect(formatDuration(212)).toBe("212 ms");
    expect(formatDuration(1530)).toBe("1.53 s");
  });

  it("uses respond.io's event names", () => {
    expect(eventName("message.received")).toBe("New Incoming Message");
    expect(eventName("contact.assignee.updated")).toBe("Contact Assignee Updated");
  });

  it("reads the recover form's UTC time as ISO 8601, and leaves anything else for the API to judge", () => {
    expect(utcInputToIso("2026-11-21T10:00")).toBe("2026-11-21T10:00:00Z");
    expect(utcInputToIso("2026-11-21T10:00:30")).toBe("2026-11-21T10:00:30Z");
    expect(utcInputToIso("yesterday")).toBe("yesterday");
    expect(utcInputToIso("2026-11-21 10:00")).toBe("2026-11-21T10:00:00Z");
    expect(utcInputToIso(" 2026-11-21 10:00 UTC ")).toBe("2026-11-21T10:00:00Z");
    expect(utcInputToIso("2026-11-21 10:00:30Z")).toBe("2026-11-21T10:00:30Z");
    expect(isoToUtcInput("2026-11-21T10:00:59.000Z")).toBe("2026-11-21 10:00");
    // What the field shows reads back as the same minute.
    expect(utcInputToIso(isoToUtcInput("2026-11-21T10:00:59.000Z"))).toBe("2026-11-21T10:00:00Z");
  });

  it("says an attempt once: the status, and the error only when it adds something", () => {
    expect(attemptSummary({ statusCode: 401, error: "endpoint answered HTTP 401", durationMs: 12 })).toBe("HTTP 401 in 12 ms");
    expect(attemptSummary({ statusCode: 302, error: "redirect to /x not followed", durationMs: 40 })).toBe(
      "HTTP 302 (redirect to /x not followed) in 40 ms",
    );
    expect(attemptSummary({ statusCode: null, error: "timeout: no response within 5000 ms", durationMs: 5001 })).toBe(
      "timeout: no response within 5000 ms in 5.00 s",
    );
    expect(attemptSummary({ statusCode: 200, error: null, durationMs: 3 })).toBe("HTTP 200 in 3 ms");
  });

  it("says why a pending delivery waits: its own retry, the retrying event before it, or its place in line", () => {
    const at = (s: number) => new Date(Date.UTC(2026, 11, 4, 17, 0, s)).toISOString();
    const head = { eventId: "evt_a", status: "pending", createdAt: at(0), nextAttemptAt: "2026-12-04T17:04:12.000Z", attempts: [{}] };
    const behind = { eventId: "evt_b", status: "pending", createdAt: at(1), nextAttemptAt: at(1), attempts: [] };
    const later = { eventId: "evt_c", status: "pending", createdAt: at(2), nextAttemptAt: at(2), attempts: [] };
    const page = [later, behind, head];
    expect(waitingReason(head, page)).toBe("scheduled retry at 17:04:12 UTC");
    expect(waitingReason(behind, page)).toBe("waiting behind evt_a (retry at 17:04:12 UTC)");
    expect(waitingReason(later, page)).toBe("waiting behind evt_a (retry at 17:04:12 UTC)");
    // No retrying event before it on the page: its place in line.
    expect(waitingReason(behind, [later, behind])).toBe("next in line");
    expect(waitingReason(later, [later, behind])).toBe("in line behind 1 earlier event");
    expect(waitingReason({ ...head, status: "delivered" }, page)).toBeUndefined();
    // Under "key" the log does not know the keys: an event of another contact is not named as the one it waits for.
    expect(waitingReason(behind, page, "key")).toBe("waiting for the earlier events of its ordering key, then a free request slot");
    expect(waitingReason(head, page, "key")).toBe("scheduled retry at 17:04:12 UTC");
    // Under "none" nothing holds an event back but a free slot.
    expect(waitingReason(later, page, "none")).toBe("sent as soon as a request slot is free (no order kept)");
  });

  it("scales the health chart to whole marks at 0, a round step and twice it, at least as high as the busiest bar", () => {
    expect(chartScale(0)).toEqual({ step: 1, top: 2 });
    expect(chartScale(1)).toEqual({ step: 1, top: 2 });
    expect(chartScale(4)).toEqual({ step: 2, top: 4 });
    expect(chartScale(7)).toEqual({ step: 5, top: 10 });
    expect(chartScale(30)).toEqual({ step: 20, top: 40 });
    expect(chartScale(1000)).toEqual({ step: 500, top: 1000 });
    for (let busiest = 0; busiest <= 5000; busiest++) {
      const { step, top } = chartScale(busiest);
      expect(top).toBeGreaterThanOrEqual(busiest);
      expect(top).toBeLessThanOrEqual(Math.max(2, busiest * 2.5));
      expect(String(step)).toMatch(/^[125]0*$/);
    }
  });

  it("tells how many counted failures came from a webhook deleted since, only when it can", () => {
    const quota = { limit: 30, windowSeconds: 1800, failures: 5 };
    const hook = { id: "wh_a" } as never;
    const stats = (failed: number) => new Map([["wh_a", { failed } as never]]);
    expect(failuresFromDeleted(quota, [hook], stats(2))).toBe(3);
    expect(failuresFromDeleted(quota, [hook], stats(7))).toBe(0);
    expect(failuresFromDeleted(quota, [], new Map())).toBe(5);
    // A webhook's figures missing, or a window longer than the figures' day: nothing is claimed.
    expect(failuresFromDeleted(quota, [hook], new Map())).toBe(0);
    expect(failuresFromDeleted({ ...quota, windowSeconds: 2 * 86400 }, [hook], stats(0))).toBe(0);
  });
});
