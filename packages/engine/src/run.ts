/** One live experiment as the engine's modules share it, and the state reasons they write. */
import { setMaxListeners } from "node:events";
import type { Experiment, ExperimentTemplate } from "./model.ts";
import type { HaltRequest } from "./store.ts";
import type { ResolvedFunction } from "./targets.ts";

export interface Run {
  exp: Experiment;
  template: ExperimentTemplate;
  functions: Map<string, ResolvedFunction[]>;
  timers: Set<() => void>;
  /** The run's steps, one after another. A halt does not queue behind them: it cancels them. */
  queue: Promise<void>;
  /** Aborted when the run halts: every AWS call of its steps carries it, so nothing in flight outlives a stop. */
  abort: AbortController;
  /** Fault-object uploads in flight; a halt lets them settle (they are cancelled) before it deletes. */
  writes: Set<Promise<unknown>>;
  alarmReadFailures?: number;
  halting?: HaltRequest;
  /** The halt in progress (or done); cleared if it failed, so the next stop starts it anew. */
  halted?: Promise<void>;
}

export function newRun(exp: Experiment, template: ExperimentTemplate): Run {
  return {
    exp,
    template,
    functions: new Map(),
    timers: new Set(),
    queue: Promise.resolve(),
    abort: manyListenersController(),
    writes: new Set(),
  };
}

/** The live runs by experiment id: an experiment is live from StartExperiment (or a restart) to its end. */
export type Runs = Map<string, Run>;

/** An AbortController whose signal every concurrent AWS call listens to (`concurrency` of them, and more). */
export function manyListenersController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}

export const REASONS = {
  pending: "Experiment is pending.",
  initiating: "Experiment is initiating.",
  running: "Experiment is running.",
  completed: "Experiment completed.",
  stopping: "Stopping experiment.",
  userStopped: "Experiment stopped by user.",
  stopCondition: "Experiment halted by stop condition",
  restart: "Experiment was interrupted: the engine restarted; every fault object it wrote was removed.",
  reportPending: "Report generation is pending: waiting for the post-experiment window to elapse.",
  reportRunning: "Report generation is running.",
  reportCancelled: "Reports are not generated for cancelled or preview experiments.",
  actionPending: "Action is pending.",
  actionInitiating: "Action is initiating.",
  actionRunning: "Action is running.",
  actionCompleted: "Action was completed.",
  actionStopped: "Action was stopped.",
  actionCancelled: "Action was cancelled.",
  preview: "Action was skipped: actionsMode is skip-all (target preview, nothing injected).",
  noTargets: "Action was skipped: no targets were resolved.",
} as const;
