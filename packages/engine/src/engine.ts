import { tmpdir } from "node:os";
import { join } from "node:path";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import type { LambdaClient } from "@aws-sdk/client-lambda";
import type { ResourceGroupsTaggingAPIClient } from "@aws-sdk/client-resource-groups-tagging-api";
import type { S3Client } from "@aws-sdk/client-s3";
import {
  ACTIONS,
  QUOTAS,
  TARGET_RESOURCE_TYPES,
  validateCreateTemplate,
  validateUpdateTemplate,
} from "@faultline/rules";
import { boundedClient, DEFAULT_CALL_TIMEOUT_MS } from "./aws-calls.ts";
import { ChangeMarkers } from "./change-markers.ts";
import { type Clock, systemClock } from "./clock.ts";
import type { EngineContext } from "./context.ts";
import {
  CallCancelledError,
  ResourceNotFoundException,
  ServiceQuotaExceededException,
  ValidationException,
} from "./errors.ts";
import { EngineEvents, type ExperimentStateChangeEvent } from "./events.ts";
import { ExperimentLogs } from "./experiment-logs.ts";
import { ExperimentRunner } from "./experiment-runner.ts";
import { ExperimentStates } from "./experiment-states.ts";
import { ExtensionVersionProbe } from "./extension-version.ts";
import { FaultObjects } from "./fault-objects.ts";
import { Halts } from "./halts.ts";
import { type Account, actionArn, experimentArn, newId, parseFisArn, templateArn } from "./ids.ts";
import {
  type ActionStatus,
  type Experiment,
  type ExperimentReport,
  type ExperimentTemplate,
  TERMINAL_EXPERIMENT,
} from "./model.ts";
import { paginate } from "./paging.ts";
import { Reports } from "./reports.ts";
import { checkTagKeys, checkTags, parseStartInput } from "./requests.ts";
import { manyListenersController, REASONS, type Runs } from "./run.ts";
import { type SafetyLever, SafetyLevers } from "./safety-lever.ts";
import { type FaultObjectRecord, Store } from "./store.ts";
import { DEFAULT_READINESS, type ReadinessOptions } from "./targets.ts";

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

/**
 * The experiment engine: FIS templates and experiments over the AWS SDK (Lambda, S3, CloudWatch).
 * No HTTP here; the API package calls these methods one-to-one. A facade: the work is done by
 * experiment-runner.ts (the forward path), halts.ts (stops and recovery), fault-objects.ts (S3 writes and
 * deletes), experiment-states.ts (state changes through the lifecycle tables, persisted, published), and the
 * observers of the engine's events: reports.ts (report scheduling) and experiment-logs.ts (log delivery).
 */
export class Engine {
  readonly events = new EngineEvents();
  /** Rewrites each function's change marker after its fault objects change (see change-markers.ts). */
  readonly markers: ChangeMarkers;
  readonly account: Account;
  private readonly store: Store;
  private readonly clock: Clock;
  /** The live runs by experiment id, shared by the modules. */
  private readonly runs: Runs = new Map();
  private readonly states: ExperimentStates;
  private readonly faults: FaultObjects;
  private readonly logs: ExperimentLogs;
  private readonly reports: Reports;
  private readonly halts: Halts;
  private readonly runner: ExperimentRunner;
  private readonly lever: SafetyLevers;
  private readonly say: (message: string) => void;
  /** Aborted when close() runs out of time: every AWS call and delete retry of the engine ends. */
  private readonly shutdown = manyListenersController();
  private readonly shutdownTimeoutMs: number;
  private closing: Promise<void> | undefined;
  private closed = false;

  private constructor(options: EngineOptions) {
    this.account = {
      region: options.region ?? "us-east-1",
      accountId: options.accountId ?? "123456789012",
      partition: options.partition ?? "aws",
    };
    this.store = new Store(options.dataDir);
    this.clock = options.clock ?? systemClock;
    this.shutdownTimeoutMs = options.shutdownTimeoutMs ?? 8000;
    this.say = options.log ?? ((m) => console.error(`faultline engine: ${m}`));
    const ctx = this.context(options);
    const memory = options.dataDir === ":memory:";
    const live = (id: string) => this.runs.get(id)?.exp;
    const s3 = ctx.bounded(options.s3);
    this.markers = new ChangeMarkers(s3, this.say).follow(this.events);
    this.states = new ExperimentStates(ctx);
    this.faults = new FaultObjects(ctx, options.s3);
    // Observers of the engine's events, in this order: the log's experiment-end record, then the report.
    this.logs = new ExperimentLogs(
      ctx,
      options.logDir ?? (memory ? undefined : join(options.dataDir, "logs")),
      s3,
      live,
    );
    this.reports = new Reports(
      ctx,
      {
        dir:
          options.reportDir ??
          (memory ? join(tmpdir(), `faultline-reports-${process.pid}`) : join(options.dataDir, "reports")),
        pdf: options.reportPdf ?? "auto",
      },
      s3,
      live,
    );
    this.halts = new Halts(ctx, this.runs, this.states, this.faults, this.logs);
    const lambda = ctx.bounded(options.lambda);
    this.runner = new ExperimentRunner(ctx, this.runs, this.states, this.faults, this.logs, this.halts, {
      lambda: options.lambda,
      ...(options.tagging ? { tagging: options.tagging } : {}),
      ...(options.checkExtensionVersion === false ? {} : { versions: new ExtensionVersionProbe(lambda) }),
      random: options.random ?? Math.random,
      readiness: { ...DEFAULT_READINESS, ...options.readiness },
      pollMs: options.stopConditionPollMs ?? 5000,
      alarmFailureLimit: options.stopConditionFailureLimit ?? 3,
    });
    this.lever = new SafetyLevers(this.store, this.account, {
      stopEverything: (reason) => this.stopEverything(reason),
      changed: (lever) => this.events.emit("safety-lever", lever),
      say: this.say,
    });
  }

  /** What the modules share; AWS calls bounded by the call timeout and the shutdown (see aws-calls.ts). */
  private context(options: EngineOptions): EngineContext {
    const callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    const shutdown = this.shutdown.signal;
    let cloudwatch: CloudWatchClient | undefined;
    const bounded: EngineContext["bounded"] = (client, ...signals) =>
      boundedClient(client, callTimeoutMs, shutdown, ...signals);
    return {
      store: this.store,
      clock: this.clock,
      account: this.account,
      events: this.events,
      say: this.say,
      concurrency: options.concurrency ?? 16,
      shutdown,
      closed: () => this.closed,
      bounded,
      cloudwatch: () => {
        cloudwatch ??= bounded(options.cloudwatch ?? new CloudWatchClient({ region: this.account.region }));
        return cloudwatch;
      },
    };
  }

  /** Opens the store and reconciles whatever a previous process left unfinished. */
  static async open(options: EngineOptions): Promise<Engine> {
    const engine = new Engine(options);
    await engine.halts.reconcile();
    engine.reports.reconcile();
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
    // FIS: an experiment started while the safety lever is engaged ends `cancelled`, nothing injected.
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
    return structuredClone(this.runner.start(exp, template, blocked).exp);
  }

  getExperiment(id: string): Experiment {
    const live = this.runs.get(id)?.exp ?? this.states.unsavedCopy(id);
    if (live) return structuredClone(live);
    const e = this.store.getExperiment(id);
    if (!e) throw new ResourceNotFoundException(`Experiment ${id} not found.`);
    return e;
  }

  listExperiments(page: { maxResults?: number; nextToken?: string; experimentTemplateId?: string } = {}) {
    const all = this.store
      .listExperiments(page.experimentTemplateId)
      .map((e) => this.states.unsavedCopy(e.id) ?? e);
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
      if (this.faults.recorded(id).length > 0) void this.faults.sweep((x) => this.runs.has(x));
      this.faults.retryNow();
      return ended;
    }
    this.halts.request(run, "stopped", reason);
    this.faults.retryNow();
    return structuredClone(run.exp);
  }

  /**
   * The kill switch: stops every experiment and resolves once every fault object the engine wrote is deleted
   * (retrying with backoff while S3 refuses; during close(), until the shutdown budget runs out).
   */
  stopAll(reason = "Experiment stopped by the faultline kill switch."): Promise<{ stopped: string[] }> {
    return this.halts.stopAll(reason);
  }

  /** Resolves when every queued step of this experiment has run (for tests driving a ManualClock). */
  idle(id?: string): Promise<void> {
    return this.runner.idle(id);
  }

  /** Resolves with the experiment once it reaches a terminal state. */
  settled(id: string): Promise<Experiment> {
    const now = this.getExperiment(id);
    if (TERMINAL_EXPERIMENT.has(now.state.status)) return Promise.resolve(now);
    return new Promise((resolve) => {
      const onEvent = (e: ExperimentStateChangeEvent) => {
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
  buildExperimentReport(id: string): Promise<ExperimentReport> {
    return this.reports.build(this.getExperiment(id));
  }

  /** Local paths of the report files, once a report was built. */
  experimentReportFiles(id: string): { html?: string; pdf?: string } {
    this.getExperiment(id);
    return this.reports.files(id);
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
      await Promise.race([this.reports.close(), ended]);
    } finally {
      clearTimeout(budget);
      outOfTime();
    }
    // The halts cut short by the budget return at once now; let them, before the database goes.
    await Promise.allSettled([
      ...[...this.runs.values()].map((r) => r.halted),
      this.faults.sweepInProgress(),
    ]);
    this.saveUnsaved();
    const left = this.faults.recorded();
    if (left.length > 0) {
      this.say(
        `${left.length} fault objects are still recorded (S3 did not confirm their deletion in time); the next engine on this data directory deletes them, and each stops applying at its endTime regardless`,
      );
    }
    this.closed = true;
    this.store.close();
  }

  /** Writes what a full disk kept in memory (states, forgotten fault objects), as far as it now can. */
  private saveUnsaved(): void {
    this.states.saveUnsaved();
    this.faults.saveUnrecorded();
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
    const next = { ...r.tags, ...checkTags(tags) };
    if (Object.keys(next).length > QUOTAS.tagsPerResource) {
      throw new ValidationException("tags", `at most ${QUOTAS.tagsPerResource} tags per resource`);
    }
    r.save(next);
  }

  untagResource(arn: string, keys: string[]): void {
    const r = this.taggable(arn);
    const next = { ...r.tags };
    for (const k of checkTagKeys(keys)) delete next[k];
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
}
