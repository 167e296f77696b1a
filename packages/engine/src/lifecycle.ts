/**
 * The experiment, action and safety-lever lifecycles as explicit transition tables (the lab's Runtime API
 * state.ts is the model). A move that is not in its table is an illegal transition and is refused by
 * construction: `move()` throws IllegalTransitionError before anything is changed or written.
 */
import type { ActionStatus, ExperimentStatus } from "./model.ts";

/** The safety lever's states, as the FIS API model has them (SafetyLeverStatus). */
export type SafetyLeverStatus = "disengaged" | "engaging" | "engaged";

/** Raised by `Lifecycle.move` for a transition the table does not list: a bug in the caller. */
export class IllegalTransitionError extends Error {
  override readonly name = "IllegalTransitionError";
  constructor(
    readonly lifecycle: string,
    readonly from: string,
    readonly to: string,
  ) {
    super(`illegal ${lifecycle} transition: ${from} → ${to}`);
  }
}

/** One lifecycle: each state lists the states it may move to; states with no exits are terminal. */
export class Lifecycle<S extends string> {
  readonly terminal: ReadonlySet<S>;

  constructor(
    readonly name: string,
    readonly table: Readonly<Record<S, readonly S[]>>,
  ) {
    this.terminal = new Set((Object.keys(table) as S[]).filter((s) => table[s].length === 0));
  }

  can(from: S, to: S): boolean {
    return this.table[from].includes(to);
  }

  /** Returns `to` when the table allows the move, else throws IllegalTransitionError. */
  move(from: S, to: S): S {
    if (!this.can(from, to)) throw new IllegalTransitionError(this.name, from, to);
    return to;
  }
}

/**
 * FIS's ExperimentStatus. A halt moves a live experiment to `stopping` (stopped by a person, a stop condition,
 * the safety lever, a shutdown) or straight to `failed`; `cancelled` is an experiment that never began (started
 * while the safety lever was engaged).
 */
export const EXPERIMENT_LIFECYCLE = new Lifecycle<ExperimentStatus>("experiment", {
  pending: ["initiating", "stopping", "failed", "cancelled"],
  initiating: ["running", "stopping", "failed"],
  running: ["completed", "stopping", "failed"],
  // A stop that cannot finish cleanly (its cleanup was interrupted by a restart) still ends as asked: stopped.
  stopping: ["stopped", "failed"],
  completed: [],
  stopped: [],
  failed: [],
  cancelled: [],
});

/**
 * FIS's ActionStatus. `skipped`: preview, or no targets; `cancelled`: never started because the experiment
 * halted; `stopped`: halted while it ran; `failed`: its faults could not be written or removed, or a restart
 * interrupted it.
 */
export const ACTION_LIFECYCLE = new Lifecycle<ActionStatus>("action", {
  pending: ["initiating", "skipped", "cancelled"],
  initiating: ["running", "skipped", "failed", "stopped", "stopping"],
  running: ["completed", "failed", "stopped", "stopping"],
  stopping: ["stopped", "failed"],
  completed: [],
  cancelled: [],
  stopped: [],
  failed: [],
  skipped: [],
});

/**
 * The safety lever (one per account and Region, id "default"). Engaging waits for every running experiment to
 * stop before it is `engaged`; disengaging is immediate (nothing to wait for).
 */
export const SAFETY_LEVER_LIFECYCLE = new Lifecycle<SafetyLeverStatus>("safety lever", {
  disengaged: ["engaging"],
  engaging: ["engaged"],
  engaged: ["disengaged"],
});
