// The pages' wording: status reasons as respond.io users read them, the quota window, times in UTC.
import { describe, expect, it } from "vitest";
import { disabledReasonLabel, eventName, formatDuration, formatTime, formatWindow, isoToUtcInput, utcInputToIso } from "../../src/settings/format";

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
});
