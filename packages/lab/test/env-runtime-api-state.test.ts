import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type RuntimeEvent, type RuntimeState, transition } from "../src/runtime-api/index.ts";

const states: RuntimeState[] = ["started", "init-error", "ready", "invoking", "responding", "response-sent"];
const events: RuntimeEvent[] = ["next", "init-error", "response", "response-done", "error"];

describe("Runtime API lifecycle table", () => {
  it("allows exactly Lambda's transitions and refuses every other pair", () => {
    const allowed = new Map<string, RuntimeState>([
      ["started/next", "ready"],
      ["started/init-error", "init-error"],
      ["invoking/response", "responding"],
      ["invoking/error", "response-sent"],
      ["responding/response-done", "response-sent"],
      ["response-sent/next", "ready"],
    ]);
    for (const s of states) {
      for (const e of events) {
        assert.equal(transition(s, e), allowed.get(`${s}/${e}`), `${s} --${e}-->`);
      }
    }
  });
});
