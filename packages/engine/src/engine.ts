import { setMaxListeners } from "node:events";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CloudWatchClient, DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import type { LambdaClient } from "@aws-sdk/client-lambda";
import type { ResourceGroupsTaggingAPIClient } from "@aws-sdk/client-resource-groups-tagging-api";
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import {
  type FaultConfig,
  faultActionFromFisParameters,
  faultObjectKey,
  isLambdaActionId,
  serializeFaultConfig,
} from "@faultline/protocol";
import { CloudWatchMetricSource, generateExperimentReport } from "@faultline/report";
import { boundedClient, DEFAULT_CALL_TIMEOUT_MS } from "./aws-calls.ts";
import { ACTIONS, TARGET_RESOURCE_TYPES } from "./catalog.ts";
import { type Clock, systemClock } from "./clock.ts";
import { parseDurationMs } from "./duration.ts";
import {
  CallCancelledError,
  ConflictException,
  ResourceNotFoundException,
  ServiceQuotaExceededException,
  ValidationException,
} from "./errors.ts";
import { EngineEvents } from "./events.ts";
import { ExtensionVersionProbe } from "./extension-version.ts";
import { type Account, actionArn, experimentArn, newId, parseFisArn, templateArn } from "./ids.ts";
import { ACTION_LIFECYCLE, EXPERIMENT_LIFECYCLE } from "./lifecycle.ts";
import { ExperimentLog, type LogType } from "./logs.ts";
import {
  type ActionStatus,
  type Experiment,
  type ExperimentReport,
  type ExperimentStatus,
  type ExperimentTemplate,
  type ResolvedTarget,
  TERMINAL_ACTION,
  TERMINAL_EXPERIMENT,
} from "./model.ts";
import { paginate } from "./paging.ts";
import { QUOTAS } from "./quotas.ts";
import { type SafetyLever, SafetyLevers } from "./safety-lever.ts";
import { type FaultObjectRecord, type HaltRequest, Store } from "./store.ts";
import {
  DEFAULT_READINESS,
  describeProblems,
  mapLimit,
  partitionReady,
  type ReadinessOptions,
  type ResolvedFunction,
  resolveTarget,
} from "./targets.ts";
import {
  actionDurationMs,
  LAMBDA_TARGET_KEY,
  validateCreateTemplate,
  validateUpdateTemplate,
} from "./template.ts";

export interface EngineOptions {
  /** Directory for the SQLite database and experiment logs; ":memory:" for throwaway engines in tests. */
  dataDir: string;
  lambda: LambdaClient;
  s3: S3Client;
  /** Needed only for `aws:cloudwatch:alarm` stop conditions. */
  cloudwatch?: CloudWatchClient;
  /**
   * Resource Groups Tagging API for tag-selected targets: one paged GetResources, as FIS does. Without it
   * (or when it fails) the engine reads tags with one ListTags per function.
   */
  tagging?: ResourceGroupsTaggingAPIClient;
  region?: string;
  accountId?: string;
  partition?: string;
  clock?: Clock;
  /** Drives COUNT/PERCENT selection; inject for repeatable tests. */
  random?: () => number;
  /** How often stop-condition alarms are read while an experiment runs. Default 5000 ms. */
  stopConditionPollMs?: number;
  /** Consecutive failed alarm reads after which a running experiment is stopped (fail safe). Default 3. */
  stopConditionFailureLimit?: number;
  readiness?: Partial<ReadinessOptions>;
  /**
   * Read each target's faultline layer (GetLayerVersionByArn + its zip) and refuse extensions older than the
   * engine. Default true.
   */
  checkExtensionVersion?: boolean;
  /** Parallel AWS calls during resolution and fault writes. Default 16. */
  concurrency?: number;
  /** Where FIS v2 experiment logs go. Default `<dataDir>/logs`; none for ":memory:". */
  logDir?: string;
  /** Where experiment reports are written (`<reportDir>/<experimentId>/`). Default `<dataDir>/reports`. */
  reportDir?: string;
  /** PDF next to the HTML report: "auto" (when Chromium is installed, the default), true or false. */
  reportPdf?: "auto" | boolean;
  /** Operational messages (cleanup failures and the like). Default: console.error. */
  log?: (message: string) => void;
  /**
   * Deadline of every AWS call the engine makes, the SDK's own retries included. Default 10000 ms. A stop does not
   * wait for it: it cancels its experiment's calls at once.
   */
  callTimeoutMs?: number;
  /**
   * How long close() keeps removing fault objects before it gives up; what is left stays recorded and the next
   * engine on the data directory removes it. Default 8000 ms.
   */
  shutdownTimeoutMs?: number;
}

/** Backoff between rounds of deletes that S3 refused: 1 s, doubling, at most 30 s (on the engine's clock). */
const DELETE_RETRY = { firstMs: 1000, maxMs: 30_000 };
/** Per-object delete failures logged in one round; the round's summary line counts the rest. */
const DELETE_ERRORS_LOGGED = 3;

interface Run {
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
  /** This experiment's log lines, for delivery to logConfiguration.s3Configuration at the end. */
  logLines: string[];
  halting?: HaltRequest;
  /** The halt in progress (or done); cleared if it failed, so the next stop starts it anew. */
  halted?: Promise<void>;
}

function newRun(exp: Experiment, template: ExperimentTemplate): Run {
  return {
    exp,
    template,
    functions: new Map(),
    timers: new Set(),
    queue: Promise.resolve(),
    abort: manyListenersController(),
    writes: new Set(),
    logLines: [],
  };
}

const REASONS = {
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
  actionRunning: "Action is running.",
  actionCompleted: "Action was completed.",
  actionStopped: "Action was stopped.",
  actionCancelled: "Action was cancelled.",
  preview: "Action was skipped: actionsMode is skip-all (target preview, nothing injected).",
  noTargets: "Action was skipped: no targets were resolved.",
} as const;

/**
 * The experiment engine: FIS templates and experiments over the AWS SDK (Lambda, S3, CloudWatch).
 * No HTTP here; the API package calls these methods one-to-one.
 */
export class Engine {
  readonly events = new EngineEvents();
  readonly account: Account;
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly readiness: ReadinessOptions;
  private readonly versions: ExtensionVersionProbe | undefined;
  private readonly concurrency: number;
  private readonly pollMs: number;
  private readonly alarmFailureLimit: number;
  private readonly logs: ExperimentLog;
  private readonly runs = new Map<string, Run>();
  private readonly reportDir: string;
  /** Armed report timers and reports being built, by experiment id. */
  private readonly reportTimers = new Map<string, () => void>();
  private readonly reportBuilds = new Map<string, Promise<ExperimentReport>>();
  private readonly say: (message: string) => void;
  /** Aborted when close() runs out of time: every AWS call and delete retry of the engine ends. */
  private readonly shutdown = manyListenersController();
  private readonly callTimeoutMs: number;
  private readonly shutdownTimeoutMs: number;
  /** The caller's clients, every call bounded (see aws-calls.ts). */
  private readonly lambda: LambdaClient;
  private readonly s3: S3Client;
  private readonly tagging: ResourceGroupsTaggingAPIClient | undefined;
  private cloudwatchClient: CloudWatchClient | undefined;
  /** Delete retry loops waiting for their next round; woken early by a repeated stop or a shutdown. */
  private readonly retryWaiters = new Set<() => void>();
  /** The sweep of fault objects left by experiments that already ended (a failed round at open). */
  private sweeping: Promise<boolean> | undefined;
  /** Experiments whose latest state could not be written (full disk): served from memory, written later. */
  private readonly unsaved = new Map<string, Experiment>();
  /** Fault objects deleted from S3 whose record could not be removed yet (full disk), as `bucket/key`. */
  private readonly deletedUnrecorded = new Set<string>();
  private closing: Promise<void> | undefined;
  private closed = false;
  private readonly lever: SafetyLevers;

  private constructor(private readonly options: EngineOptions) {
    this.account = {
      region: options.region ?? "us-east-1",
      accountId: options.accountId ?? "123456789012",
      partition: options.partition ?? "aws",
    };
    this.store = new Store(options.dataDir);
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.readiness = { ...DEFAULT_READINESS, ...options.readiness };
    this.callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.shutdownTimeoutMs = options.shutdownTimeoutMs ?? 8000;
    this.lambda = this.bounded(options.lambda);
    this.s3 = this.bounded(options.s3);
    this.tagging = options.tagging ? this.bounded(options.tagging) : undefined;
    this.shutdown.signal.addEventListener("abort", () => this.retryNow());
    this.versions =
      options.checkExtensionVersion === false ? undefined : new ExtensionVersionProbe(this.lambda);
    this.concurrency = options.concurrency ?? 16;
    this.pollMs = options.stopConditionPollMs ?? 5000;
    this.alarmFailureLimit = options.stopConditionFailureLimit ?? 3;
    this.logs = new ExperimentLog(
      options.logDir ?? (options.dataDir === ":memory:" ? undefined : join(options.dataDir, "logs")),
    );
    this.reportDir =
      options.reportDir ??
      (options.dataDir === ":memory:"
        ? join(tmpdir(), `faultline-reports-${process.pid}`)
        : join(options.dataDir, "reports"));
    this.say = options.log ?? ((m) => console.error(`faultline engine: ${m}`));
    this.lever = new SafetyLevers(this.store, this.account, {
      stopEverything: (reason) => this.stopEverything(reason),
      changed: (lever) => this.events.emit("safety-lever", lever),
      say: this.say,
    });
  }

  /** Opens the store and reconciles whatever a previous process left unfinished. */
  static async open(options: EngineOptions): Promise<Engine> {
    const engine = new Engine(options);
    await engine.reconcile();
    engine.lever.resume();
    return engine;
  }

  // ---------------------------------------------------------------- templates

  async createExperimentTemplate(input: unknown): Promise<ExperimentTemplate> {
    const { body, tags, clientToken } = validateCreateTemplate(input);
    if (clientToken) {
      const earlier = this.store.templateByToken(clientToken);
      if (earlier) return earlier;
    }
    if (this.store.countTemplates() >= QUOTAS.templates) {
      throw new ServiceQuotaExceededException(`at most ${QUOTAS.templates} experiment templates`);
    }
    const id = newId("EXT");
    const now = new Date(this.clock.now());
    const template: ExperimentTemplate = {
      id,
      arn: templateArn(this.account, id),
      ...body,
      creationTime: now,
      lastUpdateTime: now,
      tags,
      targetAccountConfigurationsCount: 0,
    };
    this.store.putTemplate(template, clientToken);
    return template;
  }

  getExperimentTemplate(id: string): ExperimentTemplate {
    const t = this.store.getTemplate(id);
    if (!t) throw new ResourceNotFoundException(`Experiment template ${id} not found.`);
    return t;
  }

  updateExperimentTemplate(id: string, input: unknown): ExperimentTemplate {
    const current = this.getExperimentTemplate(id);
    const body = validateUpdateTemplate(current, input);
    const updated: ExperimentTemplate = { ...current, ...body, lastUpdateTime: new Date(this.clock.now()) };
    this.store.putTemplate(updated);
    return updated;
  }

  deleteExperimentTemplate(id: string): ExperimentTemplate {
    const t = this.getExperimentTemplate(id);
    this.store.deleteTemplate(id);
    return t;
  }

  listExperimentTemplates(page: { maxResults?: number; nextToken?: string } = {}) {
    const { items, nextToken } = paginate(this.store.listTemplates(), page);
    return {
      experimentTemplates: items.map((t) => ({
        id: t.id,
        arn: t.arn,
        description: t.description,
        creationTime: t.creationTime,
        lastUpdateTime: t.lastUpdateTime,
        tags: t.tags,
      })),
      ...(nextToken ? { nextToken } : {}),
    };
  }

  // -------------------------------------------------------------- experiments

  async startExperiment(input: unknown): Promise<Experiment> {
    const req = parseStartInput(input);
    if (req.clientToken) {
      const earlier = this.store.experimentByToken(req.clientToken);
      if (earlier) return earlier;
    }
    const template = this.getExperimentTemplate(req.experimentTemplateId);
    const blocked = this.lever.blocking();
    if (!blocked && this.store.activeExperiments().length >= QUOTAS.activeExperiments) {
      throw new ServiceQuotaExceededException(
        `at most ${QUOTAS.activeExperiments} active experiments; stop one or wait for one to finish`,
      );
    }
    const id = newId("EXP");
    const exp: Experiment = {
      id,
      arn: experimentArn(this.account, id),
      experimentTemplateId: template.id,
      roleArn: template.roleArn,
      state: { status: "pending", reason: REASONS.pending },
      targets: template.targets,
      actions: Object.fromEntries(
        Object.entries(template.actions).map(([name, a]) => [
          name,
          { ...a, state: { status: "pending" as ActionStatus, reason: REASONS.actionPending } },
        ]),
      ),
      stopConditions: template.stopConditions,
      creationTime: new Date(this.clock.now()),
      tags: req.tags,
      ...(template.logConfiguration ? { logConfiguration: template.logConfiguration } : {}),
      ...(template.experimentReportConfiguration
        ? { experimentReportConfiguration: template.experimentReportConfiguration }
        : {}),
      experimentOptions: {
        accountTargeting: template.experimentOptions.accountTargeting,
        emptyTargetResolutionMode: template.experimentOptions.emptyTargetResolutionMode,
        actionsMode: req.actionsMode,
      },
      targetAccountConfigurationsCount: 0,
    };
    this.store.putExperiment(exp, req.clientToken);
    const run = newRun(exp, template);
    this.runs.set(id, run);
    // FIS: an experiment started while the safety lever is engaged ends `cancelled`, nothing injected.
    if (blocked) this.cancel(run, blocked);
    else this.enqueue(run, () => this.initiate(run));
    return structuredClone(run.exp);
  }

  private cancel(run: Run, reason: string): void {
    for (const name of Object.keys(run.exp.actions)) {
      this.setActionState(run, name, "cancelled", REASONS.actionCancelled);
    }
    void this.finish(run, "cancelled", reason);
  }

  getExperiment(id: string): Experiment {
    const live = this.runs.get(id)?.exp ?? this.unsaved.get(id);
    if (live) return structuredClone(live);
    const e = this.store.getExperiment(id);
    if (!e) throw new ResourceNotFoundException(`Experiment ${id} not found.`);
    return e;
  }

  listExperiments(page: { maxResults?: number; nextToken?: string; experimentTemplateId?: string } = {}) {
    const all = this.store.listExperiments(page.experimentTemplateId).map((e) => this.unsaved.get(e.id) ?? e);
    const { items, nextToken } = paginate(all, page);
    return {
      experiments: items.map((e) => ({
        id: e.id,
        arn: e.arn,
        experimentTemplateId: e.experimentTemplateId,
        state: e.state,
        creationTime: e.creationTime,
        tags: e.tags,
        experimentOptions: e.experimentOptions,
      })),
      ...(nextToken ? { nextToken } : {}),
    };
  }

  listExperimentResolvedTargets(
    id: string,
    page: { maxResults?: number; nextToken?: string; targetName?: string } = {},
  ) {
    this.getExperiment(id);
    const { items, nextToken } = paginate(this.store.resolvedTargets(id, page.targetName), page);
    return { resolvedTargets: items, ...(nextToken ? { nextToken } : {}) };
  }

  /**
   * StopExperiment: returns at once in `stopping`, without waiting for anything the experiment was doing (its
   * AWS calls are cancelled); it turns `stopped` once every fault object is deleted. Idempotent: asked again,
   * it retries the deletes now instead of at the next backoff step.
   */
  stopExperiment(id: string, reason: string = REASONS.userStopped): Experiment {
    this.saveUnsaved();
    const run = this.runs.get(id);
    if (!run) {
      const ended = this.getExperiment(id);
      if (this.recorded(id).length > 0) void this.sweep();
      this.retryNow();
      return ended;
    }
    this.requestHalt(run, "stopped", reason);
    this.retryNow();
    return structuredClone(run.exp);
  }

  /**
   * The kill switch: stops every experiment and resolves once every fault object the engine wrote is deleted
   * (retrying with backoff while S3 refuses; during close(), until the shutdown budget runs out).
   */
  async stopAll(reason = "Experiment stopped by the faultline kill switch."): Promise<{ stopped: string[] }> {
    const runs = [...this.runs.values()];
    for (const run of runs) this.requestHalt(run, "stopped", reason);
    this.retryNow();
    await Promise.all(runs.map((r) => r.halted));
    await this.sweep();
    return { stopped: runs.map((r) => r.exp.id) };
  }

  // ------------------------------------------------------------ safety lever

  getSafetyLever(id: string): SafetyLever {
    return this.lever.get(id);
  }

  /** UpdateSafetyLeverState: engaging answers `engaging` at once and stops every running experiment. */
  updateSafetyLeverState(id: string, input: unknown): SafetyLever {
    return this.lever.update(id, input);
  }

  /** Resolves once an engage in progress is done: every experiment it stopped has ended, the lever engaged. */
  safetyLeverSettled(): Promise<SafetyLever> {
    return this.lever.settled();
  }

  /** The lever's engaging → engaged wait: every live experiment stopped and ended (its faults removed). */
  private async stopEverything(reason: string): Promise<void> {
    const ids = [...this.runs.keys()];
    await this.stopAll(reason);
    await Promise.all(ids.map((id) => this.settled(id)));
  }

  /** Resolves when every queued step of this experiment has run (for tests driving a ManualClock). */
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

  /** Resolves with the experiment once it reaches a terminal state. */
  settled(id: string): Promise<Experiment> {
    const now = this.getExperiment(id);
    if (TERMINAL_EXPERIMENT.has(now.state.status)) return Promise.resolve(now);
    return new Promise((resolve) => {
      const onEvent = (e: {
        detail: { "experiment-id": string; "new-state": { status: ExperimentStatus } };
      }) => {
        if (e.detail["experiment-id"] === id && TERMINAL_EXPERIMENT.has(e.detail["new-state"].status)) {
          this.events.off("experiment", onEvent);
          resolve(this.getExperiment(id));
        }
      };
      this.events.on("experiment", onEvent);
    });
  }

  /** Fault objects recorded as (possibly) present in S3. Empty after every experiment ends cleanly. */
  recordedFaultObjects(): FaultObjectRecord[] {
    return this.store.faultObjects();
  }

  logPath(experimentId: string): string | undefined {
    return this.logs.path(experimentId);
  }

  // ---------------------------------------------------------------- reports

  /** Stop conditions that fired for this experiment (time, alarm ARN, state), oldest first. */
  stopConditionEvents(id: string) {
    this.getExperiment(id);
    return this.store.stopConditionEvents(id);
  }

  /**
   * Builds (or rebuilds) the report of an ended experiment now, without waiting for the post-experiment window.
   * An experiment without experimentReportConfiguration gets FIS's defaults (PT20M windows, no dashboard, local files).
   */
  async buildExperimentReport(id: string): Promise<ExperimentReport> {
    const exp = this.getExperiment(id);
    if (!TERMINAL_EXPERIMENT.has(exp.state.status)) {
      throw new ConflictException(
        `Experiment ${id} is ${exp.state.status}; its report is built once it ends.`,
      );
    }
    this.reportTimers.get(id)?.();
    this.reportTimers.delete(id);
    return this.generateReport(id, true);
  }

  /** Local paths of the report files, once a report was built. */
  experimentReportFiles(id: string): { html?: string; pdf?: string } {
    this.getExperiment(id);
    const job = this.store.reportJob(id);
    if (!job?.html) throw new ResourceNotFoundException(`Experiment ${id} has no report yet.`);
    return { html: job.html, ...(job.pdf ? { pdf: job.pdf } : {}) };
  }

  /** Resolves with the experiment once its report is completed, failed or cancelled (or it will have none). */
  reportSettled(id: string): Promise<Experiment> {
    const done = (e: Experiment) =>
      TERMINAL_EXPERIMENT.has(e.state.status) &&
      (!e.experimentReportConfiguration ||
        ["completed", "failed", "cancelled"].includes(e.experimentReport?.state.status ?? ""));
    const now = this.getExperiment(id);
    if (done(now)) return Promise.resolve(now);
    return new Promise((resolve) => {
      const check = () => {
        const e = this.getExperiment(id);
        if (!done(e)) return;
        this.events.off("report", check);
        this.events.off("experiment", check);
        resolve(e);
      };
      this.events.on("report", check);
      this.events.on("experiment", check);
    });
  }

  /**
   * Before the terminal state is written: FIS shows `experimentReport` pending (or cancelled) from the moment the
   * experiment ends. Returns the post-experiment window when a report is to be built.
   */
  private planReport(exp: Experiment, status: ExperimentStatus): number | undefined {
    const config = exp.experimentReportConfiguration;
    if (!config) return undefined;
    if (status === "cancelled" || exp.experimentOptions.actionsMode === "skip-all") {
      exp.experimentReport = {
        state: { status: "cancelled", reason: REASONS.reportCancelled },
        s3Reports: [],
      };
      return undefined;
    }
    exp.experimentReport = { state: { status: "pending", reason: REASONS.reportPending }, s3Reports: [] };
    return parseDurationMs(config.postExperimentDuration ?? "PT20M", "postExperimentDuration");
  }

  /** After the terminal state is written: the report is due when the post-experiment window has elapsed. */
  private scheduleReport(exp: Experiment, postMs: number | undefined): void {
    if (postMs === undefined) return;
    const dueMs = (exp.endTime?.getTime() ?? this.clock.now()) + postMs;
    this.store.putReportJob({ experimentId: exp.id, status: "pending", dueMs });
    this.armReport(exp.id, dueMs);
  }

  private armReport(id: string, dueMs: number): void {
    this.reportTimers.get(id)?.();
    const cancel = this.clock.setTimer(Math.max(0, dueMs - this.clock.now()), () => {
      this.reportTimers.delete(id);
      void this.generateReport(id);
    });
    this.reportTimers.set(id, cancel);
  }

  /** One build per experiment at a time; a rebuild request waits for the build in flight, then runs again. */
  private generateReport(id: string, again = false): Promise<ExperimentReport> {
    const inFlight = this.reportBuilds.get(id);
    if (inFlight && !again) return inFlight;
    const build = (inFlight ?? Promise.resolve())
      .catch(() => {})
      .then(() => this.runReport(id))
      .finally(() => {
        if (this.reportBuilds.get(id) === build) this.reportBuilds.delete(id);
      });
    this.reportBuilds.set(id, build);
    return build;
  }

  private async runReport(id: string): Promise<ExperimentReport> {
    const exp = this.store.getExperiment(id);
    if (!exp) throw new ResourceNotFoundException(`Experiment ${id} not found.`);
    const configuration = exp.experimentReportConfiguration ?? {};
    const job = { experimentId: id, status: "running", dueMs: this.clock.now() };
    this.store.putReportJob(job);
    this.setReport(id, { state: { status: "running", reason: REASONS.reportRunning }, s3Reports: [] });
    const s3 = this.s3;
    const result = await generateExperimentReport({
      // An experiment that failed before running has no startTime; its window then starts at its creation.
      experiment: { ...exp, startTime: exp.startTime ?? exp.creationTime },
      resolvedTargets: this.store.resolvedTargets(id),
      stopConditionEvents: this.store.stopConditionEvents(id),
      actionsMode: exp.experimentOptions.actionsMode,
      configuration,
      source: new CloudWatchMetricSource(this.cloudwatch()),
      dir: join(this.reportDir, id),
      uploader: {
        put: async (Bucket, Key, Body, ContentType) => {
          await s3.send(new PutObjectCommand({ Bucket, Key, Body, ContentType }));
        },
      },
      pdf: this.options.reportPdf ?? "auto",
      generatedAt: this.clock.now(),
    });
    const report: ExperimentReport = result.experimentReport;
    if (report.state.status === "failed") this.say(`experiment ${id}: ${report.state.reason}`);
    if (this.closed) return report;
    this.store.putReportJob({
      ...job,
      status: report.state.status,
      ...(result.html ? { html: result.html } : {}),
      ...(result.pdf ? { pdf: result.pdf } : {}),
    });
    this.setReport(id, report);
    return report;
  }

  private setReport(id: string, report: ExperimentReport): void {
    const exp = this.store.getExperiment(id);
    if (!exp) return;
    exp.experimentReport = report;
    this.store.putExperiment(exp);
    this.events.emit("report", { experimentId: id, experimentReport: structuredClone(report) });
  }

  private cloudwatch(): CloudWatchClient {
    this.cloudwatchClient ??= this.bounded(
      this.options.cloudwatch ?? new CloudWatchClient({ region: this.account.region }),
    );
    return this.cloudwatchClient;
  }

  /** A view of an SDK client whose calls end within the call timeout, at shutdown, or when `signals` abort. */
  private bounded<C extends { send(command: never, options?: never): Promise<unknown> }>(
    client: C,
    ...signals: AbortSignal[]
  ): C {
    return boundedClient(client, this.callTimeoutMs, this.shutdown.signal, ...signals);
  }

  /**
   * Graceful shutdown, bounded by shutdownTimeoutMs: stops every experiment and removes its faults; what S3 has
   * not confirmed by then stays recorded (the experiment `stopping`) and the next engine on this data directory
   * finishes it. Then closes the database.
   */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    const outOfTime = () => this.shutdown.abort(new CallCancelledError("the engine is shutting down"));
    const budget = setTimeout(outOfTime, this.shutdownTimeoutMs);
    const ended = new Promise<void>((resolve) =>
      this.shutdown.signal.addEventListener("abort", () => resolve()),
    );
    try {
      await this.stopAll("Experiment stopped: the faultline engine shut down.");
      // Pending reports stay pending in the store; the next engine on this data directory builds them.
      for (const cancel of this.reportTimers.values()) cancel();
      this.reportTimers.clear();
      await Promise.race([Promise.allSettled([...this.reportBuilds.values()]), ended]);
    } finally {
      clearTimeout(budget);
      outOfTime();
    }
    // The halts cut short by the budget return at once now; let them, before the database goes.
    await Promise.allSettled([...[...this.runs.values()].map((r) => r.halted), this.sweeping]);
    this.saveUnsaved();
    const left = this.recorded();
    if (left.length > 0) {
      this.say(
        `${left.length} fault objects are still recorded (S3 did not confirm their deletion in time); the next engine on this data directory deletes them, and each stops applying at its endTime regardless`,
      );
    }
    this.closed = true;
    this.store.close();
  }

  // ------------------------------------------------------- actions, resources, tags

  listActions(page: { maxResults?: number; nextToken?: string } = {}) {
    const { items, nextToken } = paginate([...ACTIONS], page);
    return {
      actions: items.map((a) => ({
        id: a.id,
        arn: actionArn(this.account, a.id),
        description: a.description,
        targets: a.targets,
        tags: {},
      })),
      ...(nextToken ? { nextToken } : {}),
    };
  }

  getAction(id: string) {
    const a = ACTIONS.find((x) => x.id === id);
    if (!a) throw new ResourceNotFoundException(`Action ${id} not found.`);
    return { ...a, arn: actionArn(this.account, a.id), tags: {} };
  }

  listTargetResourceTypes(page: { maxResults?: number; nextToken?: string } = {}) {
    const { items, nextToken } = paginate([...TARGET_RESOURCE_TYPES], page);
    return {
      targetResourceTypes: items.map((t) => ({ resourceType: t.resourceType, description: t.description })),
      ...(nextToken ? { nextToken } : {}),
    };
  }

  getTargetResourceType(resourceType: string) {
    const t = TARGET_RESOURCE_TYPES.find((x) => x.resourceType === resourceType);
    if (!t) throw new ResourceNotFoundException(`Target resource type ${resourceType} not found.`);
    return t;
  }

  listTagsForResource(arn: string): Record<string, string> {
    return this.taggable(arn).tags;
  }

  tagResource(arn: string, tags: Record<string, string>): void {
    const r = this.taggable(arn);
    const next = { ...r.tags, ...tags };
    if (Object.keys(next).length > QUOTAS.tagsPerResource) {
      throw new ValidationException("tags", `at most ${QUOTAS.tagsPerResource} tags per resource`);
    }
    r.save(next);
  }

  untagResource(arn: string, keys: string[]): void {
    const r = this.taggable(arn);
    const next = { ...r.tags };
    for (const k of keys) delete next[k];
    r.save(next);
  }

  private taggable(arn: string): {
    tags: Record<string, string>;
    save: (tags: Record<string, string>) => void;
  } {
    const parsed = parseFisArn(arn);
    if (parsed?.kind === "experiment-template") {
      const t = this.getExperimentTemplate(parsed.id);
      return { tags: t.tags, save: (tags) => this.store.putTemplate({ ...t, tags }) };
    }
    if (parsed?.kind === "experiment") {
      const e = this.getExperiment(parsed.id);
      return {
        tags: e.tags,
        save: (tags) => {
          const run = this.runs.get(e.id);
          if (run) run.exp.tags = tags;
          this.store.putExperiment({ ...(run?.exp ?? e), tags });
        },
      };
    }
    throw new ResourceNotFoundException(`Resource ${arn} not found.`);
  }

  // ---------------------------------------------------------------- the run

  private enqueue(run: Run, step: () => Promise<void>): void {
    run.queue = run.queue.then(step).catch((error: unknown) => {
      if (run.halting) return; // a step cancelled by the halt
      this.say(`experiment ${run.exp.id}: ${(error as Error).stack ?? error}`);
      this.requestHalt(run, "failed", `Internal error: ${(error as Error).message}`);
    });
  }

  private timer(run: Run, ms: number, step: () => Promise<void>): void {
    if (run.halting) return;
    const cancel = this.clock.setTimer(ms, () => {
      run.timers.delete(cancel);
      this.enqueue(run, step);
    });
    run.timers.add(cancel);
  }

  /**
   * Halts the run (the first request says how it ends): cancels its in-flight AWS calls and starts the cleanup
   * at once, outside the run's queue. Asked again while a halt that failed is not running, starts it anew.
   */
  private requestHalt(run: Run, status: HaltRequest["status"], reason: string): void {
    if (TERMINAL_EXPERIMENT.has(run.exp.state.status)) return;
    if (!run.halting) {
      const request = { status, reason };
      run.halting = request;
      run.abort.abort(new CallCancelledError(`experiment ${run.exp.id} is halting: ${reason}`));
      // Kept so that a restart in the middle of the cleanup ends the experiment the same way.
      this.bestEffort(`record how experiment ${run.exp.id} ends`, () =>
        this.store.recordHaltRequest(run.exp.id, request),
      );
      if (status === "stopped" && run.exp.state.status !== "stopping") {
        this.setExperimentState(run, "stopping", REASONS.stopping);
      }
    }
    run.halted ??= this.halt(run).catch((error: unknown) => {
      this.say(
        `experiment ${run.exp.id}: the cleanup failed (${(error as Error).stack ?? error}); the next StopExperiment starts it again`,
      );
      run.halted = undefined;
    });
  }

  /** A write on the way to removing faults: a failure (a full disk) is logged and never stops the cleanup. */
  private bestEffort(what: string, write: () => void): void {
    try {
      write();
    } catch (error) {
      this.say(`cannot ${what}: ${(error as Error).message}; carrying on`);
    }
  }

  /**
   * Writes the run's experiment before the engine acts on the change. While the run halts, a failed write (a full
   * disk) is logged and the experiment is served from memory, so the cleanup goes on; otherwise the change is
   * undone and the error ends the run (fail safe).
   */
  private save(run: Run, undo: () => void): void {
    try {
      this.store.putExperiment(run.exp);
      this.unsaved.delete(run.exp.id);
    } catch (error) {
      if (!run.halting) {
        undo();
        throw error;
      }
      this.unsaved.set(run.exp.id, run.exp);
      this.say(
        `experiment ${run.exp.id}: cannot record its state (${(error as Error).message}); kept in memory, the cleanup goes on`,
      );
    }
  }

  /** Writes what a full disk kept in memory (states, forgotten fault objects), as far as it now can. */
  private saveUnsaved(): void {
    for (const [id, exp] of this.unsaved) {
      try {
        this.store.putExperiment(exp);
        this.unsaved.delete(id);
      } catch {}
    }
    for (const id of this.deletedUnrecorded) {
      const [bucket, key] = splitObjectId(id);
      try {
        this.store.forgetFaultObject(bucket, key);
        this.deletedUnrecorded.delete(id);
      } catch {}
    }
  }

  private setExperimentState(run: Run, status: ExperimentStatus, reason: string): void {
    const old = run.exp.state;
    const { startTime, endTime } = run.exp;
    run.exp.state = { status: EXPERIMENT_LIFECYCLE.move(old.status, status), reason };
    if (status === "running" && !run.exp.startTime) run.exp.startTime = new Date(this.clock.now());
    if (TERMINAL_EXPERIMENT.has(status)) run.exp.endTime = new Date(this.clock.now());
    this.save(run, () => Object.assign(run.exp, { state: old, startTime, endTime }));
    this.events.emit("experiment", {
      version: "0",
      id: `${run.exp.id}-${status}`,
      "detail-type": "FIS Experiment State Change",
      source: "aws.fis",
      account: this.account.accountId,
      time: new Date(this.clock.now()).toISOString(),
      region: this.account.region,
      resources: [run.exp.arn],
      detail: {
        "experiment-id": run.exp.id,
        "experiment-template-id": run.exp.experimentTemplateId,
        "new-state": { status, reason },
        "old-state": { status: old.status, reason: old.reason },
      },
    });
  }

  private setActionState(run: Run, name: string, status: ActionStatus, reason: string): void {
    const action = run.exp.actions[name]!;
    const { state, startTime, endTime } = action;
    action.state = { status: ACTION_LIFECYCLE.move(state.status, status), reason };
    if ((status === "running" || status === "initiating") && !action.startTime) {
      action.startTime = new Date(this.clock.now());
    }
    if (TERMINAL_ACTION.has(status)) action.endTime = new Date(this.clock.now());
    this.save(run, () => Object.assign(action, { state, startTime, endTime }));
    this.events.emit("action", { experimentId: run.exp.id, actionName: name, status, reason });
  }

  private log(run: Run, type: LogType, details: Record<string, unknown>): void {
    const write = () =>
      run.logLines.push(JSON.stringify(this.logs.write(run.exp.id, type, this.clock.now(), details)));
    if (run.halting) this.bestEffort(`write the ${type} log record of experiment ${run.exp.id}`, write);
    else write();
  }

  private async initiate(run: Run): Promise<void> {
    if (run.halting) return;
    this.setExperimentState(run, "initiating", REASONS.initiating);
    this.log(run, "experiment-start", {
      experiment_template_id: run.exp.experimentTemplateId,
      experiment_arn: run.exp.arn,
      experiment_template: run.template,
    });
    const alarms = run.exp.stopConditions
      .filter((s) => s.source === "aws:cloudwatch:alarm")
      .map((s) => s.value!);
    if (alarms.length > 0) {
      let firing: string[];
      try {
        firing = await this.alarmsInAlarm(alarms);
      } catch (error) {
        return this.requestHalt(
          run,
          "failed",
          `Could not read the stop condition alarms: ${(error as Error).message}`,
        );
      }
      if (firing.length > 0) {
        this.recordStopCondition(run, firing, "ALARM", "in ALARM before the start");
        return this.requestHalt(
          run,
          "failed",
          `${REASONS.stopCondition}: ${firing.join(", ")} in ALARM before start`,
        );
      }
    }
    const resolved: ResolvedTarget[] = [];
    for (const [targetName, target] of Object.entries(run.exp.targets)) {
      this.log(run, "target-resolution-start", { target_name: targetName });
      let fns: ResolvedFunction[];
      try {
        fns = await resolveTarget(target, {
          lambda: this.bounded(this.options.lambda, run.abort.signal),
          ...(this.options.tagging ? { tagging: this.bounded(this.options.tagging, run.abort.signal) } : {}),
          ...(this.versions ? { versions: this.versions } : {}),
          random: this.random,
          readiness: this.readiness,
          concurrency: this.concurrency,
          log: this.say,
        });
      } catch (error) {
        if (run.halting) return;
        return this.requestHalt(
          run,
          "failed",
          `Target resolution failed for ${targetName}: ${(error as Error).message}`,
        );
      }
      if (run.halting) return;
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
      resolved.push(...records);
      for (const r of records)
        this.log(run, "target-resolution-detail", { target_name: targetName, target: r });
      this.log(run, "target-resolution-end", { target_name: targetName, resolved_targets: records.length });
      if (fns.length === 0) {
        const byArn = (target.resourceArns?.length ?? 0) > 0;
        if (run.exp.experimentOptions.emptyTargetResolutionMode === "fail" || byArn) {
          this.store.putResolvedTargets(run.exp.id, resolved);
          return this.requestHalt(
            run,
            "failed",
            `Target resolution returned an empty set for target ${targetName}.`,
          );
        }
      }
    }
    this.store.putResolvedTargets(run.exp.id, resolved);
    this.setExperimentState(run, "running", REASONS.running);
    if (run.exp.experimentOptions.actionsMode === "skip-all") {
      for (const name of Object.keys(run.exp.actions))
        this.setActionState(run, name, "skipped", REASONS.preview);
      return this.finish(run, "completed", REASONS.completed);
    }
    if (alarms.length > 0) this.timer(run, this.pollMs, () => this.pollAlarms(run, alarms));
    this.scheduleReady(run);
  }

  /** Starts every pending action whose startAfter actions have all finished; completes the experiment at the end. */
  private scheduleReady(run: Run): void {
    if (run.halting) return;
    const actions = run.exp.actions;
    const done = (n: string) => ["completed", "skipped"].includes(actions[n]!.state.status);
    for (const [name, action] of Object.entries(actions)) {
      if (action.state.status !== "pending") continue;
      if (!(action.startAfter ?? []).every(done)) continue;
      this.setActionState(run, name, "initiating", "Action is initiating.");
      this.enqueue(run, () => this.startAction(run, name));
    }
    if (Object.values(actions).every((a) => TERMINAL_ACTION.has(a.state.status))) {
      this.enqueue(run, async () => {
        if (!run.halting) await this.finish(run, "completed", REASONS.completed);
      });
    }
  }

  private async startAction(run: Run, name: string): Promise<void> {
    if (run.halting) return;
    const action = run.exp.actions[name]!;
    const durationMs = actionDurationMs(action);
    const actionId = action.actionId;
    let skipped: ResolvedFunction[] = [];
    if (isLambdaActionId(actionId)) {
      const targetName = action.targets?.[LAMBDA_TARGET_KEY] ?? "";
      const fns = run.functions.get(targetName) ?? [];
      if (fns.length === 0) {
        this.setActionState(run, name, "skipped", REASONS.noTargets);
        this.scheduleReady(run);
        return;
      }
      // Not-ready targets are left out (FIS writes and stays silent); none ready, or requireAllTargetsReady, fails.
      const { ready, notReady } = partitionReady(fns);
      if (notReady.length > 0 && (ready.length === 0 || this.readiness.requireAllTargetsReady)) {
        return this.failAction(
          run,
          name,
          `Targets are not ready for faultline: ${describeProblems(notReady)}`,
        );
      }
      if (notReady.length > 0) skipped = notReady;
      const fault = faultActionFromFisParameters(actionId, action.parameters ?? {});
      const start = this.clock.now();
      const records: (FaultObjectRecord & { body: string })[] = ready.map((fn) => {
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
      // Recorded before writing: after a crash, reconciliation deletes whatever may have reached S3.
      this.store.recordFaultObjects(records);
      const s3 = this.bounded(this.options.s3, run.abort.signal);
      try {
        await mapLimit(records, this.concurrency, async (r) => {
          const put = s3.send(
            new PutObjectCommand({
              Bucket: r.bucket,
              Key: r.key,
              Body: r.body,
              ContentType: "application/json",
            }),
          );
          const settled = put.then(noop, noop);
          run.writes.add(settled);
          void settled.then(() => run.writes.delete(settled));
          await put;
          this.events.emit("fault-object", { ...pick(r), change: "written" });
        });
      } catch (error) {
        // Cancelled by a halt, which deletes whatever may have been written.
        if (run.halting) return;
        return this.failAction(run, name, `Could not write fault objects to S3: ${(error as Error).message}`);
      }
      if (run.halting) return;
    }
    const leftOut = skipped.length > 0 ? `; not ready, left out: ${describeProblems(skipped)}` : "";
    this.setActionState(run, name, "running", `${REASONS.actionRunning.slice(0, -1)}${leftOut}.`);
    this.log(run, "action-start", {
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
    const { failed } = await this.removeRecorded(
      this.recorded(run.exp.id).filter((r) => r.actionName === name),
    );
    if (run.halting) return;
    if (failed > 0) {
      return this.failAction(
        run,
        name,
        `Could not delete ${failed} fault objects from S3; the engine will retry.`,
      );
    }
    this.setActionState(run, name, "completed", REASONS.actionCompleted);
    this.log(run, "action-end", { action_name: name, action_state: run.exp.actions[name]!.state });
    this.scheduleReady(run);
  }

  private async failAction(run: Run, name: string, reason: string): Promise<void> {
    if (run.halting) return;
    this.setActionState(run, name, "failed", reason);
    this.log(run, "action-error", { action_name: name, action_state: { status: "failed", reason } });
    this.requestHalt(run, "failed", `Action ${name} failed: ${reason}`);
  }

  private async pollAlarms(run: Run, alarms: string[]): Promise<void> {
    if (run.halting) return;
    try {
      const firing = await this.alarmsInAlarm(alarms);
      run.alarmReadFailures = 0;
      if (firing.length > 0) {
        this.recordStopCondition(run, firing, "ALARM", REASONS.stopCondition);
        return this.requestHalt(run, "stopped", REASONS.stopCondition);
      }
    } catch (error) {
      if (run.halting) return; // the read was cancelled by the halt
      const message = (error as Error).message;
      this.say(`experiment ${run.exp.id}: cannot read stop condition alarms: ${message}`);
      // A safety lever that cannot be read is treated as pulled, after a few tries.
      run.alarmReadFailures = (run.alarmReadFailures ?? 0) + 1;
      if (run.alarmReadFailures >= this.alarmFailureLimit) {
        this.recordStopCondition(run, alarms, "UNREADABLE", message);
        return this.requestHalt(
          run,
          "stopped",
          `${REASONS.stopCondition}: the alarms could not be read ${run.alarmReadFailures} times in a row (${message})`,
        );
      }
    }
    if (!run.halting) this.timer(run, this.pollMs, () => this.pollAlarms(run, alarms));
  }

  private recordStopCondition(run: Run, sources: string[], state: string, reason: string): void {
    const time = new Date(this.clock.now());
    for (const source of sources)
      this.store.addStopConditionEvent(run.exp.id, { time, source, state, reason });
  }

  private async alarmsInAlarm(arns: string[]): Promise<string[]> {
    const cw = this.cloudwatch();
    const names = arns.map((arn) => arn.slice(arn.indexOf(":alarm:") + ":alarm:".length));
    const out = await cw.send(new DescribeAlarmsCommand({ AlarmNames: names }));
    const found = [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])];
    const missing = names.filter((n) => !found.some((a) => a.AlarmName === n));
    if (missing.length > 0) throw new Error(`alarm not found: ${missing.join(", ")}`);
    return found.filter((a) => a.StateValue === "ALARM").map((a) => a.AlarmArn ?? a.AlarmName ?? "?");
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
    const gone = await this.removeUntilGone(`experiment ${run.exp.id}`, () => this.recorded(run.exp.id));
    if (!gone) return;
    for (const [name, a] of Object.entries(run.exp.actions)) {
      if (a.state.status === "running" || a.state.status === "initiating") {
        this.setActionState(run, name, "stopped", REASONS.actionStopped);
      } else if (a.state.status === "pending") {
        this.setActionState(run, name, "cancelled", REASONS.actionCancelled);
      }
    }
    const { status, reason } = run.halting!;
    await this.finish(run, status, reason);
  }

  private async finish(run: Run, status: ExperimentStatus, reason: string): Promise<void> {
    if (TERMINAL_EXPERIMENT.has(run.exp.state.status)) return;
    for (const cancel of run.timers) cancel();
    run.timers.clear();
    const reportAfterMs = this.planReport(run.exp, status);
    this.setExperimentState(run, status, reason);
    // The end is recorded (or kept in memory): what follows is bookkeeping that must not undo it.
    this.bestEffort(`log the end of experiment ${run.exp.id}`, () =>
      this.log(run, "experiment-end", { experiment_state: run.exp.state }),
    );
    this.runs.delete(run.exp.id);
    // Armed before any await, so a caller that saw the terminal state can move a manual clock past it.
    this.bestEffort(`schedule the report of experiment ${run.exp.id}`, () =>
      this.scheduleReport(run.exp, reportAfterMs),
    );
    await this.deliverLog(run);
  }

  /** FIS's S3 log delivery: one object per experiment under `<prefix>/AWSLogs/<account>/fis/<region>/<id>/…`. */
  private async deliverLog(run: Run): Promise<void> {
    const target = run.exp.logConfiguration?.s3Configuration;
    if (!target) return;
    const { accountId: acct, region } = this.account;
    const at = new Date(this.clock.now()).toISOString();
    const [y, m, d] = [at.slice(0, 4), at.slice(5, 7), at.slice(8, 10)];
    const stamp = `${y}${m}${d}${at.slice(11, 13)}${at.slice(14, 16)}`;
    const prefix = target.prefix ? `${target.prefix.replace(/\/+$/, "")}/` : "";
    const key = `${prefix}AWSLogs/${acct}/fis/${region}/${run.exp.id}/${y}/${m}/${d}/${acct}_awsfislogs_${region}_${run.exp.id}_${stamp}Z_${run.exp.id.slice(3, 11)}.log`;
    try {
      await this.s3.send(
        new PutObjectCommand({ Bucket: target.bucketName, Key: key, Body: `${run.logLines.join("\n")}\n` }),
      );
    } catch (error) {
      this.say(
        `experiment ${run.exp.id}: cannot deliver its log to s3://${target.bucketName}/${key}: ${(error as Error).message}`,
      );
    }
  }

  /** Recorded fault objects (of one experiment, or all) not yet known to be deleted. */
  private recorded(experimentId?: string): FaultObjectRecord[] {
    const all = this.store.faultObjects(experimentId ? { experimentId } : {});
    return this.deletedUnrecorded.size === 0
      ? all
      : all.filter((r) => !this.deletedUnrecorded.has(objectId(r)));
  }

  /**
   * Deletes fault objects until none of `left()` remains: each round's calls bounded by the call timeout, then a
   * pause on the engine's clock (DELETE_RETRY: 1 s doubling to 30 s) that a repeated StopExperiment cuts short.
   * Every failed round is logged. False only when the engine shuts down first (the objects stay recorded).
   */
  private async removeUntilGone(what: string, left: () => FaultObjectRecord[]): Promise<boolean> {
    let pauseMs = DELETE_RETRY.firstMs;
    for (let attempt = 1; ; attempt++) {
      if (this.closed) return false;
      const records = left();
      if (records.length === 0) return true;
      if (this.shutdown.signal.aborted) return false;
      const { failed, firstError } = await this.removeRecorded(records);
      if (failed === 0) continue; // objects recorded meanwhile are picked up by the next look
      if (this.shutdown.signal.aborted) return false;
      this.say(
        `${what}: ${failed} fault objects not deleted yet (attempt ${attempt}); retrying in ${pauseMs} ms (${firstError})`,
      );
      await this.retryPause(pauseMs);
      pauseMs = Math.min(pauseMs * 2, DELETE_RETRY.maxMs);
    }
  }

  private retryPause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        cancel();
        this.retryWaiters.delete(wake);
        resolve();
      };
      const cancel = this.clock.setTimer(ms, wake);
      this.retryWaiters.add(wake);
    });
  }

  /** Delete retry loops go now rather than at their next backoff step. */
  private retryNow(): void {
    for (const wake of [...this.retryWaiters]) wake();
  }

  /** Removes the fault objects of experiments that have no live run (left by a failed round at open). */
  private sweep(): Promise<boolean> {
    this.sweeping ??= this.removeUntilGone("cleanup", () =>
      this.recorded().filter((r) => !this.runs.has(r.experimentId)),
    ).finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }

  /**
   * One round of deletes. A deleted object's record is removed; if that write fails (a full disk), the object is
   * remembered as deleted so no round repeats it. Returns how many deletes failed and the first error.
   */
  private async removeRecorded(
    records: FaultObjectRecord[],
  ): Promise<{ failed: number; firstError?: string }> {
    let failed = 0;
    let firstError: string | undefined;
    await mapLimit(records, this.concurrency, async (r) => {
      try {
        await this.s3.send(new DeleteObjectCommand({ Bucket: r.bucket, Key: r.key }));
      } catch (error) {
        const message = (error as Error).message;
        firstError ??= message;
        if (++failed <= DELETE_ERRORS_LOGGED) this.say(`cannot delete s3://${r.bucket}/${r.key}: ${message}`);
        return;
      }
      this.events.emit("fault-object", { ...pick(r), change: "deleted" });
      try {
        this.store.forgetFaultObject(r.bucket, r.key);
        this.deletedUnrecorded.delete(objectId(r));
      } catch (error) {
        this.deletedUnrecorded.add(objectId(r));
        this.say(`deleted s3://${r.bucket}/${r.key} but cannot record it: ${(error as Error).message}`);
      }
    });
    return { failed, ...(firstError ? { firstError } : {}) };
  }

  /**
   * On open, after a crash or a shutdown cut short: every experiment that was live is halted again — as its
   * recorded halt request says (a stop before the crash still ends `stopped`), else `failed` — and every
   * recorded fault object is deleted. Open waits for one round of deletes; what S3 refuses is retried in the
   * background, and those experiments end once their objects are gone.
   */
  private async reconcile(): Promise<void> {
    const { failed } = await this.removeRecorded(this.recorded());
    if (failed > 0) this.say(`${failed} fault objects could not be removed at start; retrying`);
    for (const exp of this.store.activeExperiments()) {
      const run = newRun(exp, this.store.getTemplate(exp.experimentTemplateId) ?? ({} as ExperimentTemplate));
      this.runs.set(exp.id, run);
      const request = this.store.haltRequest(exp.id) ?? this.interrupted(run);
      this.requestHalt(run, request.status, request.reason);
      if (this.recorded(exp.id).length === 0) await run.halted;
    }
    if (this.recorded().length > 0) void this.sweep();
    // Reports that were pending or being built: armed again (due now if their window has passed).
    for (const job of this.store.unfinishedReportJobs()) {
      if (this.reportTimers.has(job.experimentId)) continue;
      const exp = this.store.getExperiment(job.experimentId);
      if (!exp) {
        this.store.putReportJob({ ...job, status: "failed" });
        continue;
      }
      this.armReport(job.experimentId, job.dueMs);
    }
  }

  /** How a live experiment without a recorded halt request ends after a restart. */
  private interrupted(run: Run): HaltRequest {
    // StopExperiment was answered (`stopping` is written first) but the engine went down before it finished.
    if (run.exp.state.status === "stopping") return { status: "stopped", reason: REASONS.userStopped };
    for (const [name, a] of Object.entries(run.exp.actions)) {
      if (!TERMINAL_ACTION.has(a.state.status)) {
        const status = a.state.status === "pending" ? "cancelled" : "failed";
        this.setActionState(run, name, status, REASONS.restart);
      }
    }
    return { status: "failed", reason: REASONS.restart };
  }
}

const noop = () => {};

/** An AbortController whose signal every concurrent AWS call listens to (`concurrency` of them, and more). */
function manyListenersController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}
const objectId = (r: { bucket: string; key: string }) => `${r.bucket}/${r.key}`;
/** Bucket names have no "/", so the first one separates bucket and key. */
function splitObjectId(id: string): [string, string] {
  const slash = id.indexOf("/");
  return [id.slice(0, slash), id.slice(slash + 1)];
}

function pick(r: FaultObjectRecord): FaultObjectRecord {
  return { bucket: r.bucket, key: r.key, experimentId: r.experimentId, actionName: r.actionName };
}

function parseStartInput(input: unknown): {
  clientToken?: string;
  experimentTemplateId: string;
  actionsMode: "run-all" | "skip-all";
  tags: Record<string, string>;
} {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new ValidationException("(body)", "the request body must be a JSON object");
  }
  const body = input as Record<string, unknown>;
  for (const key of Object.keys(body)) {
    if (!["clientToken", "experimentTemplateId", "experimentOptions", "tags"].includes(key)) {
      throw new ValidationException(key, "is not a known field");
    }
  }
  const id = body.experimentTemplateId;
  if (typeof id !== "string" || id === "")
    throw new ValidationException("experimentTemplateId", "is required");
  const token = body.clientToken;
  if (token !== undefined && (typeof token !== "string" || token.length === 0 || token.length > 1024)) {
    throw new ValidationException("clientToken", "must be a string of 1 to 1024 characters");
  }
  const options = (body.experimentOptions ?? {}) as Record<string, unknown>;
  const mode = options.actionsMode ?? "run-all";
  if (mode !== "run-all" && mode !== "skip-all") {
    throw new ValidationException("experimentOptions.actionsMode", 'must be "run-all" or "skip-all"');
  }
  const tags = (body.tags ?? {}) as Record<string, string>;
  if (
    typeof tags !== "object" ||
    Array.isArray(tags) ||
    Object.values(tags).some((v) => typeof v !== "string")
  ) {
    throw new ValidationException("tags", "must be an object of strings");
  }
  return {
    ...(typeof token === "string" ? { clientToken: token } : {}),
    experimentTemplateId: id,
    actionsMode: mode,
    tags,
  };
}
