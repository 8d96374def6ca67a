/** The planner's deadline check: quiet before the deadline, OUT_OF_TIME after it, without reading the clock on every call. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { deadlineCheck, OUT_OF_TIME } from "../../src/plan/deadline.ts";

describe("deadlineCheck", () => {
  it("lets a search run until its deadline", () => {
    const check = deadlineCheck(performance.now() + 60_000);
    for (let i = 0; i < 100_000; i++) check();
  });

  it("throws OUT_OF_TIME at the first call past the deadline, then within `every` calls", () => {
    assert.throws(deadlineCheck(performance.now() - 1), (e) => e === OUT_OF_TIME);
    const deadline = performance.now() + 20;
    const check = deadlineCheck(deadline, 100);
    let calls = 0;
    assert.throws(() => {
      for (;;) {
        check();
        if (performance.now() > deadline) calls++;
      }
    }, (e) => e === OUT_OF_TIME);
    assert.ok(calls <= 100, `${calls} calls past the deadline`);
  });
});
