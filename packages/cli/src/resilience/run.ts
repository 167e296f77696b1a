/**
 * Runs one resilience test: starts what it needs (the lab and the engine, or uses a running `faultline up`), puts
 * the load on, runs warm-up → pre → the experiment → post, and returns every assertion's verdict. The experiment
 * goes through the FIS API with the AWS SDK, as every other CLI command does. Aborted (Ctrl-C, SIGTERM), it stops
 * the experiment (its faults are removed), the load and what it started, and returns what it measured so far.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  CreateExperimentTemplateCommand,
  type Experiment,
  FisClient,
  GetExperimentCommand,
  StartExperimentCommand,
  StopExperimentCommand,
} from "@aws-sdk/client-fis";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { scenarioNamed } from "@faultline/protocol/scenarios";
import { UsageError } from "../errors.ts";
import { readLabConfig } from "../lab-config.ts";
import {
  evaluate,
  evaluatePre,
  type Phase,
  skipped,
  type Timeline,
  type Verdict,
  verdict,
} from "./assertions.ts";
import { httpSender, invokeSender, LoadGenerator } from "./load.ts";
import { cloudWatchAt, metricName, metricVerdict, readMetric } from "./metrics.ts";
import { runProbe } from "./probes.ts";
import type { RequestRecord } from "./records.ts";
import type { TestSpec } from "./spec.ts";

export interface TestResult {
  name: string;
  file: string;
  passed: boolean;
  verdicts: Verdict[];
  experimentId?: string;
  timeline?: Timeline;
  records: RequestRecord[];
  durationMs: number;
  /** Why the run did not finish (e.g. "SIGTERM"); its unreached assertions are skipped. */
  interrupted?: string;
}

export interface RunOptions {
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /**
   * Interrupts the run: the experiment is stopped, the load and everything started are closed, and the result so
   * far comes back with `interrupted` set to the signal's reason (e.g. "SIGTERM").
   */
  signal?: AbortSignal;
}

const CREDENTIALS = { accessKeyId: "faultline", secretAccessKey: "faultline" };
const TERMINAL = ["completed", "stopped", "failed", "cancelled"];

/** The endpoints a test talks to, and how to close whatever was started for it. */
interface System {
  fis: string;
  lambda?: string | undefined;
  dynamodb?: string | undefined;
  cloudwatch?: string | undefined;
  apis: Record<string, string>;
  close(): Promise<void>;
}

async function startSystem(spec: TestSpec): Promise<System> {
  if (spec.endpoints) return { ...spec.endpoints, apis: {}, close: async () => {} };
  const config = await readLabConfig(resolve(spec.baseDir, spec.lab!), `${spec.file}: lab: `);
  const { awsAccess, startLab } = await import("@faultline/lab");
  const { serveFaultline } = await import("@faultline/api");
  const lab = await startLab(config);
  const dataDir = mkdtempSync(join(tmpdir(), "faultline-test-"));
  const close = async () => {
    await lab.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const f = await serveFaultline({ dataDir, ...awsAccess(lab), log: () => {} });
    return {
      fis: f.url,
      lambda: lab.endpoints.lambda,
      dynamodb: lab.endpoints.dynamodb,
      cloudwatch: lab.endpoints.cloudwatch,
      apis: lab.endpoints.apis,
      close: async () => {
        await f.close();
        await close();
      },
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The experiment's template: a scenario's (its fault lasting the during window) or a template file's. */
export function templateOf(spec: TestSpec): Record<string, unknown> {
  const during = spec.windows.during;
  if (spec.experiment.scenario) {
    const scenario = scenarioNamed(spec.experiment.scenario);
    const params = Object.fromEntries(
      Object.entries(spec.experiment.parameters).map(([k, v]) => [k, String(v)]),
    );
    if (during !== undefined && "durationSeconds" in scenario.parameters)
      params.durationSeconds ??= String(Math.ceil(during));
    if (during !== undefined && "stageSeconds" in scenario.parameters) {
      const stages = Object.keys(scenario.build(params).actions).length;
      params.stageSeconds ??= String(Math.max(1, Math.round(during / stages)));
    }
    return scenario.build(params) as unknown as Record<string, unknown>;
  }
  const file = resolve(spec.baseDir, spec.experiment.template!);
  let template: { actions?: Record<string, { parameters?: Record<string, string> }> };
  try {
    template = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new UsageError(
      `${spec.file}: experiment.template: cannot read ${file} as JSON (${(error as Error).message})`,
    );
  }
  if (during !== undefined) {
    for (const action of Object.values(template.actions ?? {})) {
      if (action.parameters?.duration) action.parameters.duration = `PT${during}S`;
    }
  }
  return template;
}

function loadFor(spec: TestSpec, system: System, lambda: () => LambdaClient): LoadGenerator {
  const { load } = spec;
  if (load.invoke) {
    return new LoadGenerator(
      invokeSender(lambda(), load.invoke.function, load.invoke.payload),
      load.rate,
      load.timeoutMs,
    );
  }
  const api = load.api!;
  const url = /^https?:\/\//.test(api) ? api : system.apis[api];
  if (!url)
    throw new UsageError(
      `${spec.file}: load.api: "${api}" is neither a URL nor an API of the lab (${Object.keys(system.apis).join(", ") || "none"})`,
    );
  return new LoadGenerator(httpSender(url, load.requests!), load.rate, load.timeoutMs);
}

/** What a run has reached, for the result of an interrupted one. */
interface Progress {
  stage: "starting" | "warm-up" | "pre" | "experiment" | "post";
  preStartMs?: number;
  /** When StartExperiment was sent: the fault's start, when the experiment does not say. */
  startRequestedMs?: number;
  experimentId?: string;
  experiment?: Experiment;
}

const PHASE_OF: Record<Progress["stage"], Phase> = {
  starting: "pre",
  "warm-up": "pre",
  pre: "pre",
  experiment: "during",
  post: "after",
};

export async function runResilienceTest(spec: TestSpec, options: RunOptions = {}): Promise<TestResult> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const signal = options.signal ?? new AbortController().signal;
  const template = templateOf(spec);
  const system = await startSystem(spec);
  const fis = new FisClient({ endpoint: system.fis, ...CLIENT });
  let lambdaClient: LambdaClient | undefined;
  const progress: Progress = { stage: "starting" };
  let load: LoadGenerator | undefined;
  const abandonLoad = () => void load?.abandon();
  const result = (verdicts: Verdict[], extra: Partial<TestResult>): TestResult => ({
    name: spec.name,
    file: spec.file,
    passed: verdicts.every((v) => v.passed),
    verdicts,
    ...(progress.experimentId ? { experimentId: progress.experimentId } : {}),
    records: load?.records ?? [],
    durationMs: Date.now() - started,
    ...extra,
  });
  try {
    load = loadFor(spec, system, () => {
      if (!system.lambda) throw new UsageError(`${spec.file}: load.invoke needs endpoints.lambda`);
      lambdaClient = new LambdaClient({ endpoint: system.lambda, ...CLIENT });
      return lambdaClient;
    });
    // Priming can take up to a minute of cold starts: an interrupt aborts it, and every request in flight.
    signal.addEventListener("abort", abandonLoad, { once: true });
    signal.throwIfAborted();
    const timeline = await drive(spec, template, { fis, load, progress, signal, log });
    const verdicts = [
      experimentVerdict(progress.experiment),
      ...evaluate(spec, load.records, timeline),
      ...(await metricVerdicts(spec, system, timeline)),
    ];
    const context = { records: load.records, dynamodb: system.dynamodb, cwd: spec.baseDir };
    for (const probe of spec.assertions.after.probes) verdicts.push(await runProbe(probe, context));
    return result(verdicts, { timeline });
  } catch (error) {
    if (!signal.aborted) throw error;
    const reason = String(signal.reason ?? "aborted");
    await load?.abandon();
    if (progress.experimentId) progress.experiment = await stopExperiment(fis, progress.experimentId);
    return result(interruptedVerdicts(spec, progress, load?.records ?? [], reason), { interrupted: reason });
  } finally {
    signal.removeEventListener("abort", abandonLoad);
    await load?.abandon();
    if (progress.experimentId && !TERMINAL.includes(progress.experiment?.state?.status ?? ""))
      await stopExperiment(fis, progress.experimentId);
    fis.destroy();
    lambdaClient?.destroy();
    await system.close();
  }
}

const CLIENT = { region: "us-east-1", credentials: CREDENTIALS, maxAttempts: 1 };

interface Drive {
  fis: FisClient;
  load: LoadGenerator;
  progress: Progress;
  signal: AbortSignal;
  log: (line: string) => void;
}

/** Warm-up → pre → the experiment (until it ends) → post; every wait ends early when the run is interrupted. */
async function drive(spec: TestSpec, template: Record<string, unknown>, d: Drive): Promise<Timeline> {
  const { fis, load, progress, signal, log } = d;
  const w = spec.windows;
  log(`${spec.name}: load ${spec.load.rate}/s; warm-up ${w.warmup} s, pre ${w.pre} s`);
  await load.prime(60_000);
  signal.throwIfAborted();
  load.start();
  progress.stage = "warm-up";
  await sleep(w.warmup * 1000, undefined, { signal });
  progress.stage = "pre";
  const preStartMs = Date.now();
  progress.preStartMs = preStartMs;
  await sleep(w.pre * 1000, undefined, { signal });
  const created = await fis.send(new CreateExperimentTemplateCommand(template as never));
  progress.stage = "experiment";
  progress.startRequestedMs = Date.now();
  const run = await fis.send(
    new StartExperimentCommand({ experimentTemplateId: created.experimentTemplate!.id! }),
  );
  const experimentId = run.experiment!.id!;
  progress.experimentId = experimentId;
  progress.experiment = run.experiment!;
  log(`${spec.name}: experiment ${experimentId} started (${String(template.description ?? "")})`);
  while (!TERMINAL.includes(progress.experiment.state?.status ?? "")) {
    await sleep(250, undefined, { signal });
    progress.experiment = (await fis.send(new GetExperimentCommand({ id: experimentId }))).experiment!;
  }
  const experiment = progress.experiment;
  const faultStartMs = experiment.startTime?.getTime() ?? progress.startRequestedMs;
  const faultEndMs = experiment.endTime?.getTime() ?? Date.now();
  progress.stage = "post";
  log(`${spec.name}: experiment ${experiment.state?.status}; post ${w.post} s`);
  await sleep(Math.max(0, faultEndMs + w.post * 1000 - Date.now()), undefined, { signal });
  await load.stop();
  return { preStartMs, faultStartMs, faultEndMs, postEndMs: faultEndMs + w.post * 1000 };
}

function experimentVerdict(experiment: Experiment | undefined): Verdict {
  const status = experiment?.state?.status ?? "unknown";
  const reason = experiment?.state?.reason ? ` (${experiment.state.reason})` : "";
  return verdict("during", "experiment completed", status === "completed", `${status}${reason}`, "completed");
}

/** StopExperiment, then its state once terminal (a few seconds at most): the faults are gone by then. */
async function stopExperiment(fis: FisClient, id: string): Promise<Experiment | undefined> {
  let experiment: Experiment | undefined;
  try {
    await fis.send(new StopExperimentCommand({ id }));
    const deadline = Date.now() + 5000;
    do {
      experiment = (await fis.send(new GetExperimentCommand({ id }))).experiment;
      if (TERMINAL.includes(experiment?.state?.status ?? "")) break;
      await sleep(100);
    } while (Date.now() < deadline);
  } catch {
    // Already over, or the API is gone: the engine stops every running experiment when it closes.
  }
  return experiment;
}

/** Each phase's named metrics over its window, from the lab's CloudWatch or endpoints.cloudwatch. */
async function metricVerdicts(spec: TestSpec, system: System, t: Timeline): Promise<Verdict[]> {
  const windows: [Phase, number, number][] = [
    ["pre", t.preStartMs, t.faultStartMs],
    ["during", t.faultStartMs, t.faultEndMs],
    ["after", t.faultEndMs, t.postEndMs],
  ];
  const wanted = windows.flatMap(([phase, from, to]) =>
    spec.assertions[phase].metrics.map((m) => ({ phase, m, from, to })),
  );
  if (wanted.length === 0) return [];
  const cloudwatch = cloudWatchAt(system.cloudwatch!);
  try {
    const out: Verdict[] = [];
    for (const { phase, m, from, to } of wanted)
      out.push(metricVerdict(phase, m, await readMetric(cloudwatch, m, from, to)));
    return out;
  } finally {
    cloudwatch.destroy();
  }
}

/**
 * The result so far of an interrupted run, in the order of a finished one: the pre checks if their window was
 * complete, the experiment's end state if it had started, the rest skipped; first, where it was interrupted.
 */
function interruptedVerdicts(
  spec: TestSpec,
  p: Progress,
  records: readonly RequestRecord[],
  reason: string,
): Verdict[] {
  const phase = PHASE_OF[p.stage];
  const where = p.stage === "experiment" ? "during the experiment" : `in the ${p.stage} stage`;
  const done = new Map<string, Verdict>();
  if (p.preStartMs !== undefined && p.startRequestedMs !== undefined) {
    const faultStartMs = p.experiment?.startTime?.getTime() ?? p.startRequestedMs;
    const t = { preStartMs: p.preStartMs, faultStartMs, faultEndMs: 0, postEndMs: 0 };
    for (const v of evaluatePre(spec, records, t)) done.set(v.name, v);
  }
  if (p.experiment) {
    const v = experimentVerdict(p.experiment);
    done.set(v.name, v);
  }
  const why = `interrupted by ${reason}`;
  const zero = { preStartMs: 0, faultStartMs: 0, faultEndMs: 0, postEndMs: 0 };
  const planned: [Phase, string][] = [
    ["during", "experiment completed"],
    ...evaluate(spec, [], zero).map((v): [Phase, string] => [v.phase, v.name.slice(v.phase.length + 2)]),
    ...(["pre", "during", "after"] as const).flatMap((ph) =>
      spec.assertions[ph].metrics.map((m): [Phase, string] => [ph, metricName(m)]),
    ),
    ...spec.assertions.after.probes.map((pr): [Phase, string] => ["after", `probe ${pr.name}`]),
  ];
  return [
    {
      ...verdict(phase, "run completed", false, `${why} ${where}`, "the run completes"),
      interrupted: true,
    },
    ...planned.map(([ph, what]) => done.get(`${ph}: ${what}`) ?? skipped(ph, what, why)),
  ];
}
