// Durable Objects move their storage forward in numbered steps (src/lib/storage-steps.ts): each step once, in
// order, recorded with it; storage a newer version moved forward is refused, not misread.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { LANE_STORAGE_STEPS } from "../../src/delivery/lane/schema";
import { QUOTA_STORAGE_STEPS } from "../../src/quota/workspace-quota";
import { runStorageSteps, StorageTooNewError } from "../../src/lib/storage-steps";

const stepsOf = (storage: DurableObjectStorage) =>
  Object.fromEntries(
    storage.sql
      .exec<{ name: string; version: number }>("SELECT name, version FROM _storage_steps")
      .toArray()
      .map((r) => [r.name, r.version]),
  );

describe("storage steps", () => {
  it("records the lane's and the quota object's steps when they start", async () => {
    const lane = env.ENDPOINT_LANE.get(env.ENDPOINT_LANE.idFromName(`steps-${crypto.randomUUID()}`));
    await runInDurableObject(lane, async (_instance, state) => {
      expect(stepsOf(state.storage)).toEqual({ lane: LANE_STORAGE_STEPS.length });
    });
    const quota = env.WORKSPACE_QUOTA.get(env.WORKSPACE_QUOTA.idFromName(`steps-${crypto.randomUUID()}`));
    await runInDurableObject(quota, async (_instance, state) => {
      expect(stepsOf(state.storage)).toEqual({ quota: QUOTA_STORAGE_STEPS.length });
    });
  });

  it("runs each step once, in order, keeps what earlier steps stored, and refuses storage moved past its steps", async () => {
    const lane = env.ENDPOINT_LANE.get(env.ENDPOINT_LANE.idFromName(`steps-${crypto.randomUUID()}`));
    await runInDurableObject(lane, async (_instance, state) => {
      const v1 = ["CREATE TABLE t (a INTEGER)"];
      expect(runStorageSteps(state.storage, "t", v1)).toBe(1);
      state.storage.sql.exec("INSERT INTO t (a) VALUES (7)");
      // The same list again runs nothing (a second CREATE TABLE would throw).
      expect(runStorageSteps(state.storage, "t", v1)).toBe(1);
      // A later version adds a step: only it runs, and the row stored under step 1 is carried forward.
      const v2 = [...v1, "ALTER TABLE t ADD COLUMN b TEXT NOT NULL DEFAULT 'x'"];
      expect(runStorageSteps(state.storage, "t", v2)).toBe(2);
      expect(state.storage.sql.exec("SELECT a, b FROM t").toArray()).toEqual([{ a: 7, b: "x" }]);
      // A failing step leaves no record, so it runs again next time (its transaction rolled back).
      expect(() => runStorageSteps(state.storage, "t", [...v2, "ALTER TABLE nope ADD COLUMN c"])).toThrow();
      expect(stepsOf(state.storage).t).toBe(2);
      // Older code on newer storage: refused.
      expect(() => runStorageSteps(state.storage, "t", v1)).toThrow(StorageTooNewError);
      expect(stepsOf(state.storage)).toMatchObject({ lane: LANE_STORAGE_STEPS.length, t: 2 });
    });
  });
});
