/**
 * Stopping experiments: a halt cancels the run's AWS calls and timers at once, deletes its fault objects until
 * they are gone, settles its actions and ends it. Also the reconciliation at open (experiments a previous process
 * left live are halted again). See docs/engine.md, "Stop guarantees".
 */
import { bestEffort, type EngineContext } from "./context.ts";
import { CallCancelledError } from "./errors.ts";
import type { ExperimentLogs } from "./experiment-logs.ts";
import type { ExperimentStates } from "./experiment-states.ts";
import type { ExperimentError } from "./failures.ts";
import type { FaultObjects } from "./fault-objects.ts";
import {
  type ExperimentStatus,
  type ExperimentTemplate,
  TERMINAL_ACTION,
  TERMINAL_EXPERIMENT,
} from "./model.ts";
import { newRun, REASONS, type Run, type Runs } from "./run.ts";
import type { HaltRequest } from "./store.ts";

export class Halts {
  constructor(
    private readonly ctx: EngineContext,
    private readonly runs: Runs,
    private readonly states: ExperimentStates,
    private readonly faults: FaultObjects,
    private readonly logs: ExperimentLogs,
  ) {}

  /**
   * Halts the run (the first request says how it ends): cancels its in-flight AWS calls and starts the cleanup
   * at once, outside the run's queue. Asked again while a halt that failed is not running, starts it anew.
   */
  request(run: Run, status: HaltRequest["status"], reason: string, error?: ExperimentError): void {
    if (TERMINAL_EXPERIMENT.has(run.exp.state.status)) return;
    if (!run.halting) {
      const request = { status, reason, ...(error ? { error } : {}) };
      run.halting = request;
      run.abort.abort(new CallCancelledError(`experiment ${run.exp.id} is halting: ${reason}`));
      // Kept so that a restart in the middle of the cleanup ends the experiment the same way.
      bestEffort(this.ctx, `record how experiment ${run.exp.id} ends`, () =>
        this.ctx.store.recordHaltRequest(run.exp.id, request),
      );
      if (status === "stopped" && run.exp.state.status !== "stopping") {
        this.states.setExperimentState(run, "stopping", REASONS.stopping);
      }
    }
    run.halted ??= this.halt(run).catch((error: unknown) => {
      this.ctx.say(
        `experiment ${run.exp.id}: the cleanup failed (${(error as Error).stack ?? error}); the next StopExperiment starts it again`,
      );
      run.halted = undefined;
    });
  }

  /**
   * The kill switch: stops every experiment and resolves once every fault object the engine wrote is deleted
   * (retrying with backoff while S3 refuses; during close(), until the shutdown budget runs out).
   */
  async stopAll(reason: string): Promise<{ stopped: string[] }> {
    const runs = [...this.runs.values()];
    for (const run of runs) this.request(run, "stopped", reason);
    this.faults.retryNow();
    await Promise.all(runs.map((r) => r.halted));
    await this.faults.sweep((id) => this.runs.has(id));
    return { stopped: runs.map((r) => r.exp.id) };
  }

  /**
   * Ends the run in a terminal state: its end is recorded (the report scheduler and the experiment log observe
   * it), the run forgotten, then the log delivery awaited.
   */
  async finish(run: Run, status: ExperimentStatus, reason: string, error?: ExperimentError): Promise<void> {
    if (TERMINAL_EXPERIMENT.has(run.exp.state.status)) return;
    for (const cancel of run.timers) cancel();
    run.timers.clear();
    this.states.setExperimentState(run, status, reason, error);
    this.runs.delete(run.exp.id);
    await this.logs.delivered(run.exp.id);
  }

  /**
   * On open, after a crash or a shutdown cut short: every experiment that was live is halted again — as its
   * recorded halt request says (a stop before the crash still ends `stopped`), else `failed` — and every
   * recorded fault object is deleted. Open waits for one round of deletes; what S3 refuses is retried in the
   * background, and those experiments end once their objects are gone.
   */
  async reconcile(): Promise<void> {
    const { failed } = await this.faults.removeRecorded(this.faults.recorded());
    if (failed > 0) this.ctx.say(`${failed} fault objects could not be removed at start; retrying`);
    for (const exp of this.ctx.store.activeExperiments()) {
      const template = this.ctx.store.getTemplate(exp.experimentTemplateId) ?? ({} as ExperimentTemplate);
      const run = newRun(exp, template);
      this.runs.set(exp.id, run);
      const request = this.ctx.store.haltRequest(exp.id) ?? this.interrupted(run);
      this.request(run, request.status, request.reason);
      if (this.faults.recorded(exp.id).length === 0) await run.halted;
    }
    if (this.faults.recorded().length > 0) void this.faults.sweep((id) => this.runs.has(id));
  }

  /**
   * Ends a halting run: cancels its timers, lets its cancelled uploads settle, deletes its fault objects until
   * they are gone, settles every action, records the end. Cut short only by a shutdown: the experiment then stays
   * `stopping` with its objects recorded, and the next engine on the data directory finishes the job.
   */
  private async halt(run: Run): Promise<void> {
    for (const cancel of run.timers) cancel();
    run.timers.clear();
    await Promise.allSettled(run.writes);
    const gone = await this.faults.removeUntilGone(`experiment ${run.exp.id}`, () =>
      this.faults.recorded(run.exp.id),
    );
    if (!gone) return;
    for (const [name, a] of Object.entries(run.exp.actions)) {
      if (a.state.status === "running" || a.state.status === "initiating") {
        this.states.setActionState(run, name, "stopped", REASONS.actionStopped);
      } else if (a.state.status === "pending") {
        this.states.setActionState(run, name, "cancelled", REASONS.actionCancelled);
      }
    }
    const { status, reason, error } = run.halting!;
    await this.finish(run, status, reason, error);
  }

  /** How a live experiment without a recorded halt request ends after a restart. */
  private interrupted(run: Run): HaltRequest {
    // StopExperiment was answered (`stopping` is written first) but the engine went down before it finished.
    if (run.exp.state.status === "stopping") return { status: "stopped", reason: REASONS.userStopped };
    for (const [name, a] of Object.entries(run.exp.actions)) {
      if (!TERMINAL_ACTION.has(a.state.status)) {
        const status = a.state.status === "pending" ? "cancelled" : "failed";
        this.states.setActionState(run, name, status, REASONS.restart);
      }
    }
    return { status: "failed", reason: REASONS.restart };
  }
}
