/**
 * Experiment reports, scheduled by observing the engine's events: when an experiment with
 * `experimentReportConfiguration` ends, its report is `pending` (or `cancelled`) at once and is built when the
 * post-experiment window has elapsed. Pending reports survive restarts (the `reports` table).
 */
import { join } from "node:path";
import type { S3Client } from "@aws-sdk/client-s3";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { CloudWatchMetricSource, generateExperimentReport } from "@faultline/report";
import { parseDurationMs } from "@faultline/rules";
import { bestEffort, type EngineContext } from "./context.ts";
import { ConflictException, ResourceNotFoundException } from "./errors.ts";
import type { ExperimentStateChangeEvent } from "./events.ts";
import {
  type Experiment,
  type ExperimentReport,
  type ExperimentStatus,
  TERMINAL_EXPERIMENT,
} from "./model.ts";
import { REASONS } from "./run.ts";

export interface ReportOptions {
  /** Where reports are written (`<dir>/<experimentId>/`). */
  dir: string;
  /** PDF next to the HTML report: "auto" (when Chromium is installed), true or false. */
  pdf: "auto" | boolean;
}

export class Reports {
  /** Armed report timers and reports being built, by experiment id. */
  private readonly timers = new Map<string, () => void>();
  private readonly builds = new Map<string, Promise<ExperimentReport>>();

  constructor(
    private readonly ctx: EngineContext,
    private readonly options: ReportOptions,
    private readonly s3: S3Client,
    /** The live experiment of an id while it ends (its state is being written), else undefined. */
    private readonly live: (id: string) => Experiment | undefined,
  ) {
    ctx.events.on("experiment", (e) => this.onStateChange(e));
  }

  /** Builds (or rebuilds) the report of an ended experiment now, without waiting for the window. */
  build(exp: Experiment): Promise<ExperimentReport> {
    if (!TERMINAL_EXPERIMENT.has(exp.state.status)) {
      throw new ConflictException(
        `Experiment ${exp.id} is ${exp.state.status}; its report is built once it ends.`,
      );
    }
    this.timers.get(exp.id)?.();
    this.timers.delete(exp.id);
    return this.generate(exp.id, true);
  }

  /** Local paths of the report files, once a report was built. */
  files(id: string): { html?: string; pdf?: string } {
    const job = this.ctx.store.reportJob(id);
    if (!job?.html) throw new ResourceNotFoundException(`Experiment ${id} has no report yet.`);
    return { html: job.html, ...(job.pdf ? { pdf: job.pdf } : {}) };
  }

  /** Reports that were pending or being built when the last engine stopped: armed again (due now if late). */
  reconcile(): void {
    for (const job of this.ctx.store.unfinishedReportJobs()) {
      if (this.timers.has(job.experimentId)) continue;
      if (!this.ctx.store.getExperiment(job.experimentId)) {
        this.ctx.store.putReportJob({ ...job, status: "failed" });
        continue;
      }
      this.arm(job.experimentId, job.dueMs);
    }
  }

  /** Pending reports stay pending in the store (the next engine builds them); builds in flight are returned. */
  close(): Promise<unknown> {
    for (const cancel of this.timers.values()) cancel();
    this.timers.clear();
    return Promise.allSettled([...this.builds.values()]);
  }

  /**
   * At the terminal state change, before anyone can read the experiment: FIS shows `experimentReport` pending (or
   * cancelled) from the moment the experiment ends. The timer is armed synchronously, so a caller that saw the
   * terminal state can move a manual clock past it.
   */
  private onStateChange(e: ExperimentStateChangeEvent): void {
    const status = e.detail["new-state"].status;
    if (!TERMINAL_EXPERIMENT.has(status)) return;
    const exp = this.live(e.detail["experiment-id"]);
    if (!exp?.experimentReportConfiguration) return;
    bestEffort(this.ctx, `schedule the report of experiment ${exp.id}`, () => {
      const postMs = this.plan(exp, status);
      this.ctx.store.putExperiment(exp);
      if (postMs === undefined) return;
      const dueMs = (exp.endTime?.getTime() ?? this.ctx.clock.now()) + postMs;
      this.ctx.store.putReportJob({ experimentId: exp.id, status: "pending", dueMs });
      this.arm(exp.id, dueMs);
    });
  }

  /** Sets the experiment's report state; returns the post-experiment window when a report is to be built. */
  private plan(exp: Experiment, status: ExperimentStatus): number | undefined {
    if (status === "cancelled" || exp.experimentOptions.actionsMode === "skip-all") {
      exp.experimentReport = {
        state: { status: "cancelled", reason: REASONS.reportCancelled },
        s3Reports: [],
      };
      return undefined;
    }
    exp.experimentReport = { state: { status: "pending", reason: REASONS.reportPending }, s3Reports: [] };
    const config = exp.experimentReportConfiguration!;
    return parseDurationMs(config.postExperimentDuration ?? "PT20M", "postExperimentDuration");
  }

  private arm(id: string, dueMs: number): void {
    this.timers.get(id)?.();
    const cancel = this.ctx.clock.setTimer(Math.max(0, dueMs - this.ctx.clock.now()), () => {
      this.timers.delete(id);
      void this.generate(id);
    });
    this.timers.set(id, cancel);
  }

  /** One build per experiment at a time; a rebuild request waits for the build in flight, then runs again. */
  private generate(id: string, again = false): Promise<ExperimentReport> {
    const inFlight = this.builds.get(id);
    if (inFlight && !again) return inFlight;
    const build = (inFlight ?? Promise.resolve())
      .catch(() => {})
      .then(() => this.run(id))
      .finally(() => {
        if (this.builds.get(id) === build) this.builds.delete(id);
      });
    this.builds.set(id, build);
    return build;
  }

  private async run(id: string): Promise<ExperimentReport> {
    const exp = this.ctx.store.getExperiment(id);
    if (!exp) throw new ResourceNotFoundException(`Experiment ${id} not found.`);
    const job = { experimentId: id, status: "running", dueMs: this.ctx.clock.now() };
    this.ctx.store.putReportJob(job);
    this.set(id, { state: { status: "running", reason: REASONS.reportRunning }, s3Reports: [] });
    const s3 = this.s3;
    const result = await generateExperimentReport({
      // An experiment that failed before running has no startTime; its window then starts at its creation.
      experiment: { ...exp, startTime: exp.startTime ?? exp.creationTime },
      resolvedTargets: this.ctx.store.resolvedTargets(id),
      stopConditionEvents: this.ctx.store.stopConditionEvents(id),
      actionsMode: exp.experimentOptions.actionsMode,
      configuration: exp.experimentReportConfiguration ?? {},
      source: new CloudWatchMetricSource(this.ctx.cloudwatch()),
      dir: join(this.options.dir, id),
      uploader: {
        put: async (Bucket, Key, Body, ContentType) => {
          await s3.send(new PutObjectCommand({ Bucket, Key, Body, ContentType }));
        },
      },
      pdf: this.options.pdf,
      generatedAt: this.ctx.clock.now(),
    });
    const report: ExperimentReport = result.experimentReport;
    if (report.state.status === "failed") this.ctx.say(`experiment ${id}: ${report.state.reason}`);
    if (this.ctx.closed()) return report;
    this.ctx.store.putReportJob({
      ...job,
      status: report.state.status,
      ...(result.html ? { html: result.html } : {}),
      ...(result.pdf ? { pdf: result.pdf } : {}),
    });
    this.set(id, report);
    return report;
  }

  private set(id: string, report: ExperimentReport): void {
    const exp = this.ctx.store.getExperiment(id);
    if (!exp) return;
    exp.experimentReport = report;
    this.ctx.store.putExperiment(exp);
    this.ctx.events.emit("report", { experimentId: id, experimentReport: structuredClone(report) });
  }
}
