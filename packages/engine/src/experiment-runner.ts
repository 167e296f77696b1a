/**
 * The forward path of an experiment: initiating (stop conditions read once, targets resolved), running (actions
 * started as their startAfter actions finish, their fault objects written and, at their end, deleted; alarms
 * polled), completed. Every step runs on the run's queue; a halt (halts.ts) cancels them.
 */
import type { LambdaClient } from "@aws-sdk/client-lambda";
import type { ResourceGroupsTaggingAPIClient } from "@aws-sdk/client-resource-groups-tagging-api";
import { type FaultConfig, faultObjectKey, serializeFaultConfig } from "@faultline/protocol";
import { actionDurationMs, faultOf, LAMBDA_TARGET_KEY } from "@faultline/rules";
import type { EngineContext } from "./context.ts";
import type { ExperimentLogs } from "./experiment-logs.ts";
import type { ExperimentStates } from "./experiment-states.ts";
import { faultlineActionOnAwsExtension } from "./extension-support.ts";
import type { ExtensionVersionProbe } from "./extension-version.ts";
import { awsFailure, type ExperimentError } from "./failures.ts";
import type { FaultObjects, FaultObjectWrite } from "./fault-objects.ts";
import type { Halts } from "./halts.ts";
import { type Experiment, type ExperimentTemplate, type ResolvedTarget, TERMINAL_ACTION } from "./model.ts";
import { newRun, REASONS, type Run, type Runs } from "./run.ts";
import { alarmArns, alarmsInAlarm, recordStopCondition } from "./stop-conditions.ts";
import {
  describeProblems,
  partitionReady,
  type ReadinessOptions,
  type ResolvedFunction,
  resolveTarget,
} from "./targets.ts";

/** The AWS clients and settings the forward path uses. */
export interface RunnerOptions {
  lambda: LambdaClient;
  tagging?: ResourceGroupsTaggingAPIClient;
  versions?: ExtensionVersionProbe;
  random: () => number;
  readiness: ReadinessOptions;
  /** How often stop-condition alarms are read while an experiment runs. */
  pollMs: number;
  /** Consecutive failed alarm reads after which a running experiment is stopped (fail safe). */
  alarmFailureLimit: number;
}

export class ExperimentRunner {
  constructor(
    private readonly ctx: EngineContext,
    private readonly runs: Runs,
    private readonly states: ExperimentStates,
    private readonly faults: FaultObjects,
    private readonly logs: ExperimentLogs,
    private readonly halts: Halts,
    private readonly options: RunnerOptions,
  ) {}

  /** Starts a stored `pending` experiment; `cancelledBecause` ends it `cancelled` instead (safety lever). */
  start(exp: Experiment, template: ExperimentTemplate, cancelledBecause?: string): Run {
    const run = newRun(exp, template);
    this.runs.set(exp.id, run);
    if (cancelledBecause === undefined) {
      this.enqueue(run, () => this.initiate(run));
      return run;
    }
    for (const name of Object.keys(run.exp.actions)) {
      this.states.setActionState(run, name, "cancelled", REASONS.actionCancelled);
    }
    void this.halts.finish(run, "cancelled", cancelledBecause);
    return run;
  }

  /** Resolves when every queued step of these experiments has run (for tests driving a ManualClock). */
  async idle(id?: string): Promise<void> {
    const runs = id ? [this.runs.get(id)].filter((r) => r !== undefined) : [...this.runs.values()];
    for (const run of runs) {
      let seen: Promise<void> | undefined;
      while (seen !== run.queue) {
        seen = run.queue;
        await seen;
      }
      await run.halted;
    }
  }

  private enqueue(run: Run, step: () => Promise<void>): void {
    run.queue = run.queue.then(step).catch((error: unknown) => {
      if (run.halting) return; // a step cancelled by the halt
      this.ctx.say(`experiment ${run.exp.id}: ${(error as Error).stack ?? error}`);
      this.halts.request(run, "failed", `Internal error: ${(error as Error).message}`, {
        code: "InternalFailure",
      });
    });
  }

  private timer(run: Run, ms: number, step: () => Promise<void>): void {
    if (run.halting) return;
    const cancel = this.ctx.clock.setTimer(ms, () => {
      run.timers.delete(cancel);
      this.enqueue(run, step);
    });
    run.timers.add(cancel);
  }

  private async initiate(run: Run): Promise<void> {
    if (run.halting) return;
    this.states.setExperimentState(run, "initiating", REASONS.initiating);
    this.logs.write(run, "experiment-start", {
      experiment_template_id: run.exp.experimentTemplateId,
      experiment_arn: run.exp.arn,
      experiment_template: run.template,
    });
    const alarms = alarmArns(run.exp.stopConditions);
    if (!(await this.alarmsQuietAtStart(run, alarms))) return;
    const resolved: ResolvedTarget[] = [];
    for (const [targetName, target] of Object.entries(run.exp.targets)) {
      const records = await this.resolve(run, targetName);
      if (records === undefined) return;
      resolved.push(...records);
      if (records.length === 0) {
        const byArn = (target.resourceArns?.length ?? 0) > 0;
        if (run.exp.experimentOptions.emptyTargetResolutionMode === "fail" || byArn) {
          this.ctx.store.putResolvedTargets(run.exp.id, resolved);
          return this.halts.request(
            run,
            "failed",
            `Target resolution returned an empty set for target ${targetName}.`,
            { code: "InvalidTarget", location: `targets.${targetName}` },
          );
        }
      }
    }
    this.ctx.store.putResolvedTargets(run.exp.id, resolved);
    const unsupported = faultlineActionOnAwsExtension(run.exp.actions, run.functions);
    if (unsupported) return this.halts.request(run, "failed", unsupported.reason, unsupported.error);
    this.states.setExperimentState(run, "running", REASONS.running);
    if (run.exp.experimentOptions.actionsMode === "skip-all") {
      for (const name of Object.keys(run.exp.actions))
        this.states.setActionState(run, name, "skipped", REASONS.preview);
      return this.halts.finish(run, "completed", REASONS.completed);
    }
    if (alarms.length > 0) this.timer(run, this.options.pollMs, () => this.pollAlarms(run, alarms));
    this.scheduleReady(run);
  }

  /** Stop-condition alarms are read once before anything happens: any in ALARM (or unreadable) fails the run. */
  private async alarmsQuietAtStart(run: Run, alarms: string[]): Promise<boolean> {
    if (alarms.length === 0) return true;
    let firing: string[];
    try {
      firing = await alarmsInAlarm(this.ctx, alarms);
    } catch (error) {
      this.halts.request(
        run,
        "failed",
        `Could not read the stop condition alarms: ${(error as Error).message}`,
        awsFailure(error, "stopConditions"),
      );
      return false;
    }
    if (firing.length === 0) return true;
    recordStopCondition(this.ctx, run.exp.id, firing, "ALARM", "in ALARM before the start");
    this.halts.request(
      run,
      "failed",
      `${REASONS.stopCondition}: ${firing.join(", ")} in ALARM before start`,
      { code: "ConfigurationFailure", location: "stopConditions" },
    );
    return false;
  }

  /** Resolves one target (logged as FIS does); undefined when the run halted or resolution failed (it halts). */
  private async resolve(run: Run, targetName: string): Promise<ResolvedTarget[] | undefined> {
    const target = run.exp.targets[targetName]!;
    this.logs.write(run, "target-resolution-start", { target_name: targetName });
    let fns: ResolvedFunction[];
    try {
      fns = await resolveTarget(target, {
        lambda: this.ctx.bounded(this.options.lambda, run.abort.signal),
        ...(this.options.tagging
          ? { tagging: this.ctx.bounded(this.options.tagging, run.abort.signal) }
          : {}),
        ...(this.options.versions ? { versions: this.options.versions } : {}),
        random: this.options.random,
        readiness: this.options.readiness,
        concurrency: this.ctx.concurrency,
        log: this.ctx.say,
      });
    } catch (error) {
      if (run.halting) return undefined;
      this.halts.request(
        run,
        "failed",
        `Target resolution failed for ${targetName}: ${(error as Error).message}`,
        awsFailure(error, `targets.${targetName}`),
      );
      return undefined;
    }
    if (run.halting) return undefined;
    run.functions.set(targetName, fns);
    const records = fns.map((fn) => ({
      resourceType: target.resourceType,
      targetName,
      targetInformation: {
        arn: fn.arn,
        functionName: fn.name,
        ...(fn.qualifier ? { qualifier: fn.qualifier } : {}),
        ready: String(fn.readiness.ready),
        ...(fn.extension ? { extension: fn.extension } : {}),
        ...(fn.extensionVersion ? { extensionVersion: fn.extensionVersion } : {}),
        ...(fn.readiness.problems.length > 0 ? { problems: fn.readiness.problems.join("; ") } : {}),
      },
    }));
    for (const r of records)
      this.logs.write(run, "target-resolution-detail", { target_name: targetName, target: r });
    this.logs.write(run, "target-resolution-end", {
      target_name: targetName,
      resolved_targets: records.length,
    });
    return records;
  }

  /** Starts every pending action whose startAfter actions have all finished; completes the experiment at the end. */
  private scheduleReady(run: Run): void {
    if (run.halting) return;
    const actions = run.exp.actions;
    const done = (n: string) => ["completed", "skipped"].includes(actions[n]!.state.status);
    for (const [name, action] of Object.entries(actions)) {
      if (action.state.status !== "pending") continue;
      if (!(action.startAfter ?? []).every(done)) continue;
      this.states.setActionState(run, name, "initiating", REASONS.actionInitiating);
      this.enqueue(run, () => this.startAction(run, name));
    }
    if (Object.values(actions).every((a) => TERMINAL_ACTION.has(a.state.status))) {
      this.enqueue(run, async () => {
        if (!run.halting) await this.halts.finish(run, "completed", REASONS.completed);
      });
    }
  }

  private async startAction(run: Run, name: string): Promise<void> {
    if (run.halting) return;
    const action = run.exp.actions[name]!;
    const durationMs = actionDurationMs(action);
    const actionId = action.actionId;
    let skipped: ResolvedFunction[] = [];
    const fault = faultOf(action);
    if (fault) {
      const targetName = action.targets?.[LAMBDA_TARGET_KEY] ?? "";
      const fns = run.functions.get(targetName) ?? [];
      if (fns.length === 0) {
        this.states.setActionState(run, name, "skipped", REASONS.noTargets);
        this.scheduleReady(run);
        return;
      }
      // Not-ready targets are left out (FIS writes and stays silent); none ready, or requireAllTargetsReady, fails.
      const { ready, notReady } = partitionReady(fns);
      if (notReady.length > 0 && (ready.length === 0 || this.options.readiness.requireAllTargetsReady)) {
        return this.failAction(
          run,
          name,
          `Targets are not ready for faultline: ${describeProblems(notReady)}`,
          "ConfigurationFailure",
        );
      }
      if (notReady.length > 0) skipped = notReady;
      const start = this.ctx.clock.now();
      const records: FaultObjectWrite[] = ready.map((fn) => {
        const config: FaultConfig = {
          version: 1,
          experimentId: run.exp.id,
          actionName: name,
          ...fault,
          ...(fn.qualifier ? { qualifier: fn.qualifier } : {}),
          startTime: new Date(start).toISOString(),
          endTime: new Date(start + durationMs).toISOString(),
        } as FaultConfig;
        return {
          bucket: fn.location!.bucket,
          key: faultObjectKey(fn.location!, fn.name, run.exp.id, name),
          experimentId: run.exp.id,
          actionName: name,
          body: serializeFaultConfig(config),
        };
      });
      try {
        await this.faults.write(run, records);
      } catch (error) {
        // Cancelled by a halt, which deletes whatever may have been written.
        if (run.halting) return;
        return this.failAction(
          run,
          name,
          `Could not write fault objects to S3: ${(error as Error).message}`,
          awsFailure(error, `actions.${name}`).code,
        );
      }
      if (run.halting) return;
    }
    const leftOut = skipped.length > 0 ? `; not ready, left out: ${describeProblems(skipped)}` : "";
    this.states.setActionState(run, name, "running", `${REASONS.actionRunning.slice(0, -1)}${leftOut}.`);
    this.logs.write(run, "action-start", {
      action_name: name,
      action_id: actionId,
      action_params: action.parameters ?? {},
      action_targets: action.targets ?? {},
      ...(skipped.length > 0 ? { not_ready_targets: skipped.map((fn) => fn.arn) } : {}),
    });
    this.timer(run, durationMs, () => this.endAction(run, name));
  }

  private async endAction(run: Run, name: string): Promise<void> {
    if (run.halting) return;
    const { failed } = await this.faults.removeRecorded(
      this.faults.recorded(run.exp.id).filter((r) => r.actionName === name),
    );
    if (run.halting) return;
    if (failed > 0) {
      return this.failAction(
        run,
        name,
        `Could not delete ${failed} fault objects from S3; the engine will retry.`,
        "DependentServiceFailure",
      );
    }
    this.states.setActionState(run, name, "completed", REASONS.actionCompleted);
    this.logs.write(run, "action-end", { action_name: name, action_state: run.exp.actions[name]!.state });
    this.scheduleReady(run);
  }

  private async failAction(
    run: Run,
    name: string,
    reason: string,
    code: ExperimentError["code"],
  ): Promise<void> {
    if (run.halting) return;
    this.states.setActionState(run, name, "failed", reason);
    this.logs.write(run, "action-error", { action_name: name, action_state: { status: "failed", reason } });
    this.halts.request(run, "failed", `Action ${name} failed: ${reason}`, {
      code,
      location: `actions.${name}`,
    });
  }

  private async pollAlarms(run: Run, alarms: string[]): Promise<void> {
    if (run.halting) return;
    try {
      const firing = await alarmsInAlarm(this.ctx, alarms);
      run.alarmReadFailures = 0;
      if (firing.length > 0) {
        recordStopCondition(this.ctx, run.exp.id, firing, "ALARM", REASONS.stopCondition);
        return this.halts.request(run, "stopped", REASONS.stopCondition);
      }
    } catch (error) {
      if (run.halting) return; // the read was cancelled by the halt
      const message = (error as Error).message;
      this.ctx.say(`experiment ${run.exp.id}: cannot read stop condition alarms: ${message}`);
      // A stop condition that cannot be read is treated as fired, after a few tries.
      run.alarmReadFailures = (run.alarmReadFailures ?? 0) + 1;
      if (run.alarmReadFailures >= this.options.alarmFailureLimit) {
        recordStopCondition(this.ctx, run.exp.id, alarms, "UNREADABLE", message);
        return this.halts.request(
          run,
          "stopped",
          `${REASONS.stopCondition}: the alarms could not be read ${run.alarmReadFailures} times in a row (${message})`,
        );
      }
    }
    if (!run.halting) this.timer(run, this.options.pollMs, () => this.pollAlarms(run, alarms));
  }
}
