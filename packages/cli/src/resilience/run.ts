/**
 * Runs one resilience test: starts what it needs (the lab and the engine, or uses a running `faultline up`), puts
 * the load on, runs warm-up → pre → the experiment → post, and returns every assertion's verdict. The experiment
 * goes through the FIS API with the AWS SDK, as every other CLI command does.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  CreateExperimentTemplateCommand,
  FisClient,
  GetExperimentCommand,
  StartExperimentCommand,
  StopExperimentCommand,
} from "@aws-sdk/client-fis";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { scenarioNamed } from "@faultline/protocol/scenarios";
import { UsageError } from "../errors.ts";
import { evaluate, type Timeline, type Verdict, verdict } from "./assertions.ts";
import { httpSender, invokeSender, LoadGenerator } from "./load.ts";
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
}

export interface RunOptions {
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** Aborts the run (the experiment is stopped, everything started is closed). */
  signal?: AbortSignal;
}

const CREDENTIALS = { accessKeyId: "faultline", secretAccessKey: "faultline" };
const TERMINAL = ["completed", "stopped", "failed", "cancelled"];

/** The endpoints a test talks to, and how to close whatever was started for it. */
interface System {
  fis: string;
  lambda?: string | undefined;
  dynamodb?: string | undefined;
  apis: Record<string, string>;
  close(): Promise<void>;
}

async function startSystem(spec: TestSpec): Promise<System> {
  if (spec.endpoints) return { ...spec.endpoints, apis: {}, close: async () => {} };
  const { awsAccess, LabConfigError, loadLabConfig, startLab } = await import("@faultline/lab");
  const { serveFaultline } = await import("@faultline/api");
  let config: ReturnType<typeof loadLabConfig>;
  try {
    config = loadLabConfig(resolve(spec.baseDir, spec.lab!));
  } catch (error) {
    if (error instanceof LabConfigError) throw new UsageError(`${spec.file}: lab: ${error.message}`);
    throw error;
  }
  const lab = await startLab(config);
  const dataDir = mkdtempSync(join(tmpdir(), "faultline-test-"));
  const close = async () => {
    await lab.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const f = await serveFaultline({
      dataDir,
      region: config.region,
      accountId: config.accountId,
      ...awsAccess(lab),
      log: () => {},
    });
    return {
      fis: f.url,
      lambda: lab.endpoints.lambda,
      dynamodb: lab.endpoints.dynamodb,
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

export async function runResilienceTest(spec: TestSpec, options: RunOptions = {}): Promise<TestResult> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const template = templateOf(spec);
  const system = await startSystem(spec);
  let lambdaClient: LambdaClient | undefined;
  const fis = new FisClient({
    endpoint: system.fis,
    region: "us-east-1",
    credentials: CREDENTIALS,
    maxAttempts: 1,
  });
  const sleep = (ms: number) =>
    new Promise<void>((res, rej) => {
      const timer = setTimeout(() => {
        options.signal?.removeEventListener("abort", abort);
        res();
      }, ms);
      const abort = () => {
        clearTimeout(timer);
        rej(options.signal!.reason);
      };
      options.signal?.addEventListener("abort", abort, { once: true });
    });
  let load: LoadGenerator | undefined;
  let experimentId: string | undefined;
  try {
    load = loadFor(spec, system, () => {
      if (!system.lambda) throw new UsageError(`${spec.file}: load.invoke needs endpoints.lambda`);
      lambdaClient = new LambdaClient({
        endpoint: system.lambda,
        region: "us-east-1",
        credentials: CREDENTIALS,
        maxAttempts: 1,
      });
      return lambdaClient;
    });
    const w = spec.windows;
    log(`${spec.name}: load ${spec.load.rate}/s; warm-up ${w.warmup} s, pre ${w.pre} s`);
    await load.prime(60_000);
    load.start();
    await sleep(w.warmup * 1000);
    const preStartMs = Date.now();
    await sleep(w.pre * 1000);
    const created = await fis.send(new CreateExperimentTemplateCommand(template as never));
    const run = await fis.send(
      new StartExperimentCommand({ experimentTemplateId: created.experimentTemplate!.id! }),
    );
    experimentId = run.experiment!.id!;
    log(`${spec.name}: experiment ${experimentId} started (${String(template.description ?? "")})`);
    let experiment = run.experiment!;
    while (!TERMINAL.includes(experiment.state?.status ?? "")) {
      await sleep(250);
      experiment = (await fis.send(new GetExperimentCommand({ id: experimentId }))).experiment!;
    }
    const faultStartMs = experiment.startTime?.getTime() ?? preStartMs + w.pre * 1000;
    const faultEndMs = experiment.endTime?.getTime() ?? Date.now();
    log(`${spec.name}: experiment ${experiment.state?.status}; post ${w.post} s`);
    await sleep(Math.max(0, faultEndMs + w.post * 1000 - Date.now()));
    await load.stop();
    const timeline = { preStartMs, faultStartMs, faultEndMs, postEndMs: faultEndMs + w.post * 1000 };
    const status = experiment.state?.status ?? "unknown";
    const verdicts = [
      verdict(
        "during",
        "experiment completed",
        status === "completed",
        `${status}${experiment.state?.reason ? ` (${experiment.state.reason})` : ""}`,
        "completed",
      ),
      ...evaluate(spec, load.records, timeline),
    ];
    const context = { records: load.records, dynamodb: system.dynamodb, cwd: spec.baseDir };
    for (const probe of spec.assertions.after.probes) verdicts.push(await runProbe(probe, context));
    return {
      name: spec.name,
      file: spec.file,
      passed: verdicts.every((v) => v.passed),
      verdicts,
      experimentId,
      timeline,
      records: load.records,
      durationMs: Date.now() - started,
    };
  } finally {
    await load?.stop();
    if (experimentId) await fis.send(new StopExperimentCommand({ id: experimentId })).catch(() => {});
    fis.destroy();
    lambdaClient?.destroy();
    await system.close();
  }
}
