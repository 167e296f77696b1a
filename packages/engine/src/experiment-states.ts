/**
 * Every experiment and action state change: checked against its lifecycle table, written to the store before
 * the engine acts on it, then published on the event bus (which the report scheduler and the experiment log
 * observe).
 */
import type { EngineContext } from "./context.ts";
import { type ExperimentError, experimentState, fitReason } from "./failures.ts";
import { ACTION_LIFECYCLE, EXPERIMENT_LIFECYCLE } from "./lifecycle.ts";
import {
  type ActionStatus,
  type Experiment,
  type ExperimentStatus,
  TERMINAL_ACTION,
  TERMINAL_EXPERIMENT,
} from "./model.ts";
import type { Run } from "./run.ts";

export class ExperimentStates {
  /** Experiments whose latest state could not be written (full disk): served from memory, written later. */
  private readonly unsaved = new Map<string, Experiment>();

  constructor(private readonly ctx: EngineContext) {}

  /** The in-memory copy of an experiment whose latest state is not written yet, if any. */
  unsavedCopy(id: string): Experiment | undefined {
    return this.unsaved.get(id);
  }

  /** A `failed` state carries `error` (state.error; InternalFailure when not given); reasons are cut to 512. */
  setExperimentState(run: Run, status: ExperimentStatus, reason: string, error?: ExperimentError): void {
    const { clock, account } = this.ctx;
    const old = run.exp.state;
    const { startTime, endTime } = run.exp;
    run.exp.state = experimentState(EXPERIMENT_LIFECYCLE.move(old.status, status), reason, error);
    if (status === "running" && !run.exp.startTime) run.exp.startTime = new Date(clock.now());
    if (TERMINAL_EXPERIMENT.has(status)) run.exp.endTime = new Date(clock.now());
    this.save(run, () => Object.assign(run.exp, { state: old, startTime, endTime }));
    this.ctx.events.emit("experiment", {
      version: "0",
      id: `${run.exp.id}-${status}`,
      "detail-type": "FIS Experiment State Change",
      source: "aws.fis",
      account: account.accountId,
      time: new Date(clock.now()).toISOString(),
      region: account.region,
      resources: [run.exp.arn],
      detail: {
        "experiment-id": run.exp.id,
        "experiment-template-id": run.exp.experimentTemplateId,
        "new-state": { status, reason: run.exp.state.reason },
        "old-state": { status: old.status, reason: old.reason },
      },
    });
  }

  setActionState(run: Run, name: string, status: ActionStatus, reason: string): void {
    const action = run.exp.actions[name]!;
    const { state, startTime, endTime } = action;
    action.state = { status: ACTION_LIFECYCLE.move(state.status, status), reason: fitReason(reason) };
    if ((status === "running" || status === "initiating") && !action.startTime) {
      action.startTime = new Date(this.ctx.clock.now());
    }
    if (TERMINAL_ACTION.has(status)) action.endTime = new Date(this.ctx.clock.now());
    this.save(run, () => Object.assign(action, { state, startTime, endTime }));
    this.ctx.events.emit("action", {
      experimentId: run.exp.id,
      actionName: name,
      status,
      reason: action.state.reason,
    });
  }

  /**
   * Writes the run's experiment before the engine acts on the change. While the run halts, a failed write (a full
   * disk) is logged and the experiment is served from memory, so the cleanup goes on; otherwise the change is
   * undone and the error ends the run (fail safe).
   */
  save(run: Run, undo: () => void = () => {}): void {
    try {
      this.ctx.store.putExperiment(run.exp);
      this.unsaved.delete(run.exp.id);
    } catch (error) {
      if (!run.halting) {
        undo();
        throw error;
      }
      this.unsaved.set(run.exp.id, run.exp);
      this.ctx.say(
        `experiment ${run.exp.id}: cannot record its state (${(error as Error).message}); kept in memory, the cleanup goes on`,
      );
    }
  }

  /** Writes the states a full disk kept in memory, as far as it now can. */
  saveUnsaved(): void {
    for (const [id, exp] of this.unsaved) {
      try {
        this.ctx.store.putExperiment(exp);
        this.unsaved.delete(id);
      } catch {}
    }
  }
}
