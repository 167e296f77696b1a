// The lifecycles as tables: what is listed moves, everything else is refused before anything changes.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  ACTION_LIFECYCLE,
  type ActionStatus,
  EXPERIMENT_LIFECYCLE,
  type ExperimentStatus,
  IllegalTransitionError,
  SAFETY_LEVER_LIFECYCLE,
  TERMINAL_ACTION,
  TERMINAL_EXPERIMENT,
} from "../src/index.ts";

const EXPERIMENT_STATES: ExperimentStatus[] = [
  "pending",
  "initiating",
  "running",
  "completed",
  "stopping",
  "stopped",
  "failed",
  "cancelled",
];
const ACTION_STATES: ActionStatus[] = [
  "pending",
  "initiating",
  "running",
  "completed",
  "cancelled",
  "stopping",
  "stopped",
  "failed",
  "skipped",
];

/** Every (from, to) pair of a state set. */
const pairs = <S>(states: S[]) => states.flatMap((from) => states.map((to) => [from, to] as const));

describe("experiment lifecycle (FIS ExperimentStatus)", () => {
  test("covers FIS's eight states; terminal ones are the model's", () => {
    assert.deepEqual(Object.keys(EXPERIMENT_LIFECYCLE.table).sort(), [...EXPERIMENT_STATES].sort());
    assert.deepEqual([...EXPERIMENT_LIFECYCLE.terminal].sort(), [...TERMINAL_EXPERIMENT].sort());
  });

  test("the legal moves, exactly", () => {
    const legal = pairs(EXPERIMENT_STATES)
      .filter(([from, to]) => EXPERIMENT_LIFECYCLE.can(from, to))
      .map(([from, to]) => `${from}→${to}`);
    assert.deepEqual(legal, [
      "pending→initiating",
      "pending→stopping",
      "pending→failed",
      "pending→cancelled",
      "initiating→running",
      "initiating→stopping",
      "initiating→failed",
      "running→completed",
      "running→stopping",
      "running→failed",
      "stopping→stopped",
      "stopping→failed",
    ]);
  });

  test("an illegal move throws IllegalTransitionError naming both states", () => {
    assert.throws(
      () => EXPERIMENT_LIFECYCLE.move("completed", "running"),
      (e: unknown) =>
        e instanceof IllegalTransitionError &&
        /illegal experiment transition: completed → running/.test(e.message),
    );
    assert.throws(() => EXPERIMENT_LIFECYCLE.move("pending", "completed"), IllegalTransitionError);
    assert.throws(() => EXPERIMENT_LIFECYCLE.move("running", "running"), IllegalTransitionError);
    assert.equal(EXPERIMENT_LIFECYCLE.move("running", "stopping"), "stopping");
  });
});

describe("action lifecycle (FIS ActionStatus)", () => {
  test("covers FIS's nine states; terminal ones are the model's", () => {
    assert.deepEqual(Object.keys(ACTION_LIFECYCLE.table).sort(), [...ACTION_STATES].sort());
    assert.deepEqual([...ACTION_LIFECYCLE.terminal].sort(), [...TERMINAL_ACTION].sort());
  });

  test("no way back from a terminal state, none into pending", () => {
    for (const [from, to] of pairs(ACTION_STATES)) {
      if (TERMINAL_ACTION.has(from) || to === "pending") assert.equal(ACTION_LIFECYCLE.can(from, to), false);
    }
    assert.equal(ACTION_LIFECYCLE.can("pending", "running"), false, "an action initiates first");
    assert.equal(ACTION_LIFECYCLE.can("pending", "stopped"), false, "a never-started action is cancelled");
    assert.equal(ACTION_LIFECYCLE.can("running", "completed"), true);
  });
});

describe("safety lever lifecycle (FIS SafetyLeverStatus)", () => {
  test("disengaged → engaging → engaged → disengaged, nothing else", () => {
    const states = ["disengaged", "engaging", "engaged"] as const;
    const legal = pairs([...states])
      .filter(([from, to]) => SAFETY_LEVER_LIFECYCLE.can(from, to))
      .map(([from, to]) => `${from}→${to}`);
    assert.deepEqual(legal, ["disengaged→engaging", "engaging→engaged", "engaged→disengaged"]);
    assert.deepEqual([...SAFETY_LEVER_LIFECYCLE.terminal], []);
  });
});
