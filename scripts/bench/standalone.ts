/**
 * The standalone layer on an OS-only runtime (issue 12 item 4): a provided.al2023 function (a bash custom runtime
 * of builtins only, scripts/bench/fixtures/provided) in the lab, with no node in its environment (the namespace
 * sandbox hides the host's), with each standalone build and without any layer, in one run:
 *  - zip size, unzipped size (what Lambda counts against its 250 MB limit for function + layers);
 *  - Init Duration as the lab reports it (extensions started and registered + runtime init), and what the layer
 *    adds to it over the same function without a layer, paired per round;
 *  - warm Invoke p50 and what the layer adds; Max Memory Used (the environment's processes).
 * Rounds alternate the variants so machine load hits all alike; medians over rounds, spread as min–max.
 * Run alone: `node --import tsx scripts/bench/standalone.ts`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type BuiltLayer,
  buildLayer,
  STANDALONE_BUILDS,
  type StandaloneBuild,
} from "../../packages/extension/src/layer.ts";
import type { ExecutionEnvironment, FunctionSpec } from "../../packages/lab/src/contract.ts";
import { createEnvironmentFactory } from "../../packages/lab/src/environment/index.ts";
import { CollectingLogSink, makeInput } from "../../packages/testing/src/index.ts";
import { startFaultBucket } from "./shared.ts";

const CODE = fileURLToPath(new URL("./fixtures/provided/", import.meta.url));
const LAMBDA_UNZIPPED_LIMIT = 250 * 1000 * 1000; // "250 MB" (Lambda quotas), for function + all layers
const MIB = 1024 * 1024;

type Variant = "none" | StandaloneBuild;

interface Sample {
  initMs: number;
  p50Ms: number;
  maxMemoryMb: number;
  /** The cold start failed (e.g. Sandbox.Timedout: Lambda's 10 s init limit): NaN figures, counted apart. */
  failed?: string;
}

export interface StandaloneVariantFigures {
  zipMiB?: number;
  unzippedMiB?: number;
  percentOfUnzippedLimit?: number;
  buildSeconds?: number;
  initMs: string;
  addedInitMs?: number;
  p50Ms: number;
  addedP50Ms?: number;
  maxMemoryMb: number;
  /** Cold starts that failed, by error type (e.g. the xz unpack overrunning the 10 s init limit under load). */
  failedInits?: string;
}

export async function benchStandalone(
  log: (line: string) => void = console.log,
  options: { rounds?: number; invokes?: number } = {},
): Promise<Record<string, unknown>> {
  const rounds = options.rounds ?? 7;
  const invokes = options.invokes ?? 300;
  const factory = createEnvironmentFactory({ shutdownGraceMs: 2000 });
  if (factory.sandbox !== "namespace") {
    log(
      "standalone: no namespace sandbox (not root?): the host's node stays visible; figures still comparable",
    );
  }
  const dir = mkdtempSync(join(tmpdir(), "faultline-standalone-"));
  const s3 = await startFaultBucket(dir);
  const s3Endpoint = s3.endpoint;
  try {
    const layers: Partial<Record<StandaloneBuild, BuiltLayer & { seconds: number }>> = {};
    for (const build of STANDALONE_BUILDS) {
      const started = performance.now();
      const built = await buildLayer({ out: join(dir, `${build}.zip`), standalone: build });
      if (built.standalone !== build)
        throw new Error(`asked for the ${build} build, got ${built.standalone}`);
      layers[build] = { ...built, seconds: (performance.now() - started) / 1000 };
      log(`built ${build}: zip ${mib(built.zipBytes)} MiB, unzipped ${mib(built.unzippedBytes)} MiB`);
    }
    const variants: Variant[] = ["none", ...STANDALONE_BUILDS];
    const samples = Object.fromEntries(variants.map((v) => [v, [] as Sample[]])) as Record<Variant, Sample[]>;
    for (let round = 0; round < rounds; round++) {
      for (const variant of variants) {
        const layer = variant === "none" ? undefined : layers[variant]?.zipPath;
        const sample = await oneEnvironment(factory, s3Endpoint, layer, invokes);
        samples[variant].push(sample);
        log(
          `round ${round + 1} ${variant.padEnd(8)}${sample.failed ? ` FAILED ${sample.failed}` : ""} init ${sample.initMs.toFixed(1)} ms  p50 ${sample.p50Ms.toFixed(3)} ms  max memory ${sample.maxMemoryMb} MB`,
        );
      }
    }
    const figures: Record<string, StandaloneVariantFigures> = {};
    for (const variant of variants) {
      const all = samples[variant];
      const s = all.filter((x) => !x.failed);
      const failed = all.filter((x) => x.failed).map((x) => x.failed);
      const paired = (pick: (x: Sample) => number) =>
        median(all.map((x, i) => pick(x) - pick(samples.none[i] as Sample)).filter((n) => !Number.isNaN(n)));
      const layer = variant === "none" ? undefined : layers[variant];
      figures[variant] = {
        ...(layer
          ? {
              zipMiB: mib(layer.zipBytes),
              unzippedMiB: mib(layer.unzippedBytes),
              percentOfUnzippedLimit: round1((100 * layer.unzippedBytes) / LAMBDA_UNZIPPED_LIMIT),
              buildSeconds: round1(layer.seconds),
            }
          : {}),
        initMs: spread(s.map((x) => x.initMs)),
        ...(layer ? { addedInitMs: round1(paired((x) => x.initMs)) } : {}),
        p50Ms: round3(median(s.map((x) => x.p50Ms))),
        ...(layer ? { addedP50Ms: round3(paired((x) => x.p50Ms)) } : {}),
        maxMemoryMb: median(s.map((x) => x.maxMemoryMb)),
        ...(failed.length
          ? { failedInits: `${failed.length}/${all.length} ${[...new Set(failed)].join(", ")}` }
          : {}),
      };
    }
    return { rounds, invokesPerRound: invokes, sandbox: factory.sandbox, ...figures };
  } finally {
    await s3.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One environment: cold start (Init Duration), `invokes` warm invokes after 50 of warm-up, spin-down. */
async function oneEnvironment(
  factory: ReturnType<typeof createEnvironmentFactory>,
  s3Endpoint: string,
  layer: string | undefined,
  invokes: number,
): Promise<Sample> {
  const env: ExecutionEnvironment = factory.create(
    spec(layer),
    { extraEnvironment: {}, s3Endpoint },
    new CollectingLogSink(),
  );
  try {
    const invoke = async () => {
      const report = await env.invoke(makeInput({ payload: Buffer.from('{"n":1}') }));
      if (report.outcome.kind !== "response")
        throw new Error(`unexpected ${JSON.stringify(report.outcome)}\n${report.log}`);
      return report;
    };
    const cold = await env.invoke(makeInput({ payload: Buffer.from('{"n":1}') }));
    if (cold.outcome.kind !== "response") {
      const failed = cold.outcome.kind === "function-error" ? cold.outcome.errorType : cold.outcome.kind;
      return { initMs: Number.NaN, p50Ms: Number.NaN, maxMemoryMb: Number.NaN, failed };
    }
    const first = cold;
    const times: number[] = [];
    let last = first;
    for (let i = 0; i < invokes + 50; i++) {
      const started = process.hrtime.bigint();
      last = await invoke();
      if (i >= 50) times.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    return {
      initMs: first.initDurationMs ?? Number.NaN,
      p50Ms: median(times),
      maxMemoryMb: last.maxMemoryUsedMb,
    };
  } finally {
    await env.shutdown("spindown");
  }
}

function spec(layer: string | undefined): FunctionSpec {
  return {
    name: "standalone-bench",
    arn: "arn:aws:lambda:us-east-1:123456789012:function:standalone-bench",
    region: "us-east-1",
    accountId: "123456789012",
    runtime: "provided.al2023",
    handler: "function.handler",
    codeDir: CODE,
    layers: layer ? [layer] : [],
    environment: {
      AWS_FIS_CONFIGURATION_LOCATION: "arn:aws:s3:::faults/fis/",
      AWS_ACCESS_KEY_ID: "S3RVER",
      AWS_SECRET_ACCESS_KEY: "S3RVER",
    },
    tags: {},
    timeoutSeconds: 10,
    memorySizeMb: 512,
  };
}

function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** "median (min–max)". */
function spread(values: number[]): string {
  if (values.length === 0) return "n/a";
  return `${round1(median(values))} (${round1(Math.min(...values))}–${round1(Math.max(...values))})`;
}

const mib = (bytes: number) => round1(bytes / MIB);
const round1 = (n: number) => Math.round(n * 10) / 10;
const round3 = (n: number) => Math.round(n * 1000) / 1000;

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await benchStandalone(), null, 2));
}
