/**
 * Extension benchmark (issue 12). `npm run bench -- extension [--quick]`, or alone:
 * `node --import tsx scripts/bench/extension.ts [--quick | memory]`.
 *
 * Four modes side by side, in rounds that alternate them so machine load hits all alike: no layer, the floor
 * (our ~40-line pass-through proxy, minimal-proxy.cjs: the least any Node proxy costs), the external proxy and
 * in-process. Every figure is a median over rounds with its spread (min–max), next to its same-round baselines:
 * `added` = mode − no layer, `÷none` = mode / no layer, `÷floor` = added / the floor's added.
 *  - warm Invoke p50 of a trivial function (official aws-lambda-ric);
 *  - cold start (first process spawned → runtime parked in /next, extensions ready), the part of it before the
 *    runtime may start (→ extension registered), and the first invoke after it (it may hold the first poll);
 *  - private memory (Private_Clean + Private_Dirty, /proc/<pid>/smaps_rollup) of the environment's processes;
 *  - the proxy process's RSS after 1,000, 10,000 and 50,000 invocations (external vs the floor): flat memory;
 *  - S3 requests per poll.
 * --quick (or FAULTLINE_BENCH_QUICK=1): fewer rounds and 5,000 invocations for the memory figure (~1 min);
 * FAULTLINE_BENCH_MEMORY_ROUNDS=n repeats the memory figure (default once: 2 × 50,000 invocations is most of the run).
 * RSS moves with machine load; extension-heap.ts gives the heap's growth per invocation, which it does not.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { FaultPoller, Logger, S3ObjectStore, systemClock } from "../../packages/extension/src/index.ts";
import { buildLayer } from "../../packages/extension/src/layer.ts";
import { type Environment, MODES, type Mode, rssKb, startEnvironment } from "./extension-env.ts";
import { startFaultBucket } from "./shared.ts";

export interface BenchOptions {
  quick?: boolean;
}

interface Plan {
  coldRounds: number;
  warmRounds: number;
  warmInvokes: number;
  memoryRounds: number;
  memoryInvokes: number;
}

const FULL: Plan = {
  coldRounds: 15,
  warmRounds: 5,
  warmInvokes: 1000,
  memoryRounds: 2,
  memoryInvokes: 50_000,
};
const QUICK: Plan = { coldRounds: 5, warmRounds: 2, warmInvokes: 300, memoryRounds: 1, memoryInvokes: 5_000 };

/** Median and spread over rounds. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

type PerMode<T> = Record<Mode, T>;
/** A figure per mode, with the same-round comparisons for every mode but `none`. */
interface Figure {
  value: PerMode<Spread>;
  added: Partial<PerMode<Spread>>;
  ratioToNone: Partial<PerMode<Spread>>;
  ratioToFloor: Partial<PerMode<Spread>>;
}

interface Growth {
  after1000Kb: Spread;
  after10000Kb: Spread;
  afterKb: Spread;
  growthKb: Spread;
}

export interface ExtensionBenchResult {
  plan: Plan;
  warmP50Ms: Figure;
  coldStartMs: Figure;
  /** CPU the environment's processes used up to ready: the cold start's work, less sensitive to load than wall time. */
  coldStartCpuMs: Figure;
  registeredMs: Figure;
  firstInvokeMs: Figure;
  privateKb: Figure;
  /** RSS of the proxy process after 1,000 and after `plan.memoryInvokes` invocations; target growth ≤ 3 MB. */
  memory: {
    invocations: number;
    external: Growth;
    floor: Growth;
    /** external / floor, same round */
    ratioToFloor: { after1000: Spread; after: Spread };
  };
  /** in-process targets: added p50 ≤ 0.1 ms, cold start ≤ 15 ms, private memory ≤ 3 MB (medians) */
  inProcessMeetsTargets: boolean;
  /** external: RSS growth ≤ 3 MB (median) */
  externalFlatMemory: boolean;
  s3RequestsPerPoll: { steady: number; twoChangedObjects: number };
  bytes: { externalBundle: number; inProcessPreload: number; inProcessFaultSide: number; layerZip: number };
}

export async function benchExtension(
  log: (line: string) => void = console.log,
  options: BenchOptions = {},
): Promise<ExtensionBenchResult> {
  const quick = options.quick ?? process.env.FAULTLINE_BENCH_QUICK === "1";
  const plan = quick ? QUICK : FULL;
  const dir = mkdtempSync(join(tmpdir(), "faultline-bench-"));
  const s3 = await startFaultBucket(dir);
  const s3Endpoint = s3.endpoint;
  try {
    const layer = await buildLayer({ out: join(dir, "layer.zip") });
    const opt = join(dir, "opt");
    execFileSync("unzip", ["-q", layer.zipPath, "-d", opt]);
    const start = (mode: Mode) => startEnvironment({ mode, opt, dir, s3Endpoint });

    // Cold starts alone (nothing else in the round): the figure most sensitive to load, so the most rounds.
    const cold = rounds(plan.coldRounds);
    for (let round = 0; round < plan.coldRounds; round++) {
      for (const mode of rotate(MODES, round)) {
        const env = await start(mode);
        const t0 = performance.now();
        await env.invoke();
        cold.firstInvokeMs[mode][round] = performance.now() - t0;
        cold.coldStartMs[mode][round] = env.coldStartMs;
        cold.coldStartCpuMs[mode][round] = env.coldStartCpuMs;
        cold.registeredMs[mode][round] = env.registeredMs;
        await env.close();
      }
    }
    log(`cold starts: ${plan.coldRounds} rounds × ${MODES.length} modes`);

    const warm = rounds(plan.warmRounds);
    for (let round = 0; round < plan.warmRounds; round++) {
      for (const mode of rotate(MODES, round)) {
        const env = await start(mode);
        warm.p50Ms[mode][round] = await warmP50(env, plan.warmInvokes);
        warm.privateKb[mode][round] = env.privateKb();
        await env.close();
      }
      log(
        `warm round ${round + 1}: p50 ${MODES.map((m) => `${m} ${warm.p50Ms[m][round]?.toFixed(3)}`).join(", ")} ms`,
      );
    }

    const growth = { external: [] as GrowthSample[], floor: [] as GrowthSample[] };
    for (let round = 0; round < plan.memoryRounds; round++) {
      for (const mode of round % 2 === 0
        ? (["external", "floor"] as const)
        : (["floor", "external"] as const)) {
        const sample = await memoryGrowth(await start(mode), plan.memoryInvokes);
        growth[mode][round] = sample;
        log(
          `memory round ${round + 1} ${mode.padEnd(8)} RSS ${mb(sample.after1000Kb)} after 1,000 → ${mb(sample.after10000Kb)} after ${midpoint(plan.memoryInvokes)} → ${mb(sample.afterKb)} after ${plan.memoryInvokes.toLocaleString("en")} (${signedMb(sample.afterKb - sample.after1000Kb)})`,
        );
      }
    }

    const result: ExtensionBenchResult = {
      plan,
      warmP50Ms: figure(warm.p50Ms),
      coldStartMs: figure(cold.coldStartMs),
      coldStartCpuMs: figure(cold.coldStartCpuMs),
      registeredMs: figure(cold.registeredMs),
      firstInvokeMs: figure(cold.firstInvokeMs),
      privateKb: figure(warm.privateKb),
      memory: memorySummary(growth, plan.memoryInvokes),
      inProcessMeetsTargets: false,
      externalFlatMemory: false,
      s3RequestsPerPoll: await requestsPerPoll(s3Endpoint),
      bytes: {
        externalBundle: layer.bundleBytes,
        inProcessPreload: layer.inProcessBundleBytes,
        inProcessFaultSide: layer.inProcessFaultsBundleBytes,
        layerZip: layer.zipBytes,
      },
    };
    const added = (f: Figure) => f.added["in-process"]?.median ?? Number.NaN;
    result.inProcessMeetsTargets =
      added(result.warmP50Ms) <= 0.1 && added(result.coldStartMs) <= 15 && added(result.privateKb) <= 3072;
    result.externalFlatMemory = result.memory.external.growthKb.median <= 3072;
    printSummary(result, log);
    return result;
  } finally {
    await s3.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Samples per mode, indexed by round. */
type Samples = PerMode<number[]>;
function rounds(_count: number) {
  const empty = (): Samples => ({ none: [], floor: [], external: [], "in-process": [] });
  return {
    coldStartMs: empty(),
    coldStartCpuMs: empty(),
    registeredMs: empty(),
    firstInvokeMs: empty(),
    p50Ms: empty(),
    privateKb: empty(),
  };
}

/** Each round starts with a different mode, so no mode always runs right after the same one. */
function rotate<T>(list: readonly T[], round: number): T[] {
  const k = round % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

async function warmP50(env: Environment, invokes: number): Promise<number> {
  for (let i = 0; i < 100; i++) await env.invoke();
  const samples: number[] = [];
  for (let i = 0; i < invokes; i++) {
    const t = process.hrtime.bigint();
    await env.invoke();
    samples.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return percentile(samples, 50);
}

interface GrowthSample {
  after1000Kb: number;
  /** After 10,000 (or `invocations` if fewer): where the curve is between the two ends. */
  after10000Kb: number;
  afterKb: number;
}

/** The memory figure's middle sample: where the curve is between its two ends. */
const MIDPOINT = 10_000;
const midpoint = (invocations: number) => Math.min(MIDPOINT, invocations).toLocaleString("en");

/** RSS of the proxy process after 1,000 invocations, after MIDPOINT and after `invocations`, no fault active. */
async function memoryGrowth(env: Environment, invocations: number): Promise<GrowthSample> {
  try {
    let done = 0;
    for (; done < 1000; done++) await env.invoke();
    const after1000Kb = rssKb(env.extensionPid);
    for (; done < Math.min(MIDPOINT, invocations); done++) await env.invoke();
    const after10000Kb = rssKb(env.extensionPid);
    for (; done < invocations; done++) await env.invoke();
    return { after1000Kb, after10000Kb, afterKb: rssKb(env.extensionPid) };
  } finally {
    await env.close();
  }
}

function figure(samples: Samples): Figure {
  const f: Figure = {
    value: {
      none: spread(samples.none),
      floor: spread(samples.floor),
      external: spread(samples.external),
      "in-process": spread(samples["in-process"]),
    },
    added: {},
    ratioToNone: {},
    ratioToFloor: {},
  };
  const paired = (mode: Mode, fn: (round: number) => number) => spread(samples[mode].map((_, i) => fn(i)));
  const at = (mode: Mode, i: number) => samples[mode][i] as number;
  for (const mode of MODES) {
    if (mode === "none") continue;
    f.added[mode] = paired(mode, (i) => at(mode, i) - at("none", i));
    // No ratio to nothing (the time to register without an extension is 0).
    if (samples.none.some((v) => v !== 0))
      f.ratioToNone[mode] = paired(mode, (i) => at(mode, i) / at("none", i));
    if (mode !== "floor") {
      f.ratioToFloor[mode] = paired(
        mode,
        (i) => (at(mode, i) - at("none", i)) / (at("floor", i) - at("none", i)),
      );
    }
  }
  return f;
}

function memorySummary(growth: { external: GrowthSample[]; floor: GrowthSample[] }, invocations: number) {
  const of = (list: GrowthSample[]): Growth => ({
    after1000Kb: spread(list.map((g) => g.after1000Kb)),
    after10000Kb: spread(list.map((g) => g.after10000Kb)),
    afterKb: spread(list.map((g) => g.afterKb)),
    growthKb: spread(list.map((g) => g.afterKb - g.after1000Kb)),
  });
  const ratio = (pick: (g: GrowthSample) => number) =>
    spread(growth.external.map((g, i) => pick(g) / pick(growth.floor[i] as GrowthSample)));
  return {
    invocations,
    external: of(growth.external),
    floor: of(growth.floor),
    ratioToFloor: { after1000: ratio((g) => g.after1000Kb), after: ratio((g) => g.afterKb) },
  };
}

function printSummary(r: ExtensionBenchResult, log: (line: string) => void): void {
  const fmt = (s: Spread, digits: number, unit = "") =>
    `${s.median.toFixed(digits)}${unit} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;
  const row = (name: string, f: Figure, digits: number, unit: string) => {
    log(`${name}: no layer ${fmt(f.value.none, digits, unit)}`);
    for (const mode of MODES) {
      if (mode === "none") continue;
      const added = f.added[mode] as Spread;
      const vsFloor = f.ratioToFloor[mode];
      log(
        `  ${mode.padEnd(10)} ${fmt(f.value[mode], digits, unit)}  added ${added.median >= 0 ? "+" : ""}${fmt(added, digits, unit)}` +
          `${f.ratioToNone[mode] ? `  ${fmt(f.ratioToNone[mode], 2)}× no layer` : ""}${vsFloor ? `  ${fmt(vsFloor, 2)}× the floor's added` : ""}`,
      );
    }
  };
  log(`\nmedians over rounds (min–max); added and ratios are paired per round`);
  row("warm Invoke p50", r.warmP50Ms, 3, " ms");
  row("cold start", r.coldStartMs, 1, " ms");
  row("cold start, CPU of the environment's processes", r.coldStartCpuMs, 1, " ms");
  row("cold start, spawn → extension registered (before the runtime may start)", r.registeredMs, 1, " ms");
  row("first invoke after the cold start", r.firstInvokeMs, 1, " ms");
  row("private memory of the environment", r.privateKb, 0, " kB");
  const m = r.memory;
  for (const mode of ["floor", "external"] as const) {
    log(
      `proxy RSS, ${mode.padEnd(8)}: ${fmt(m[mode].after1000Kb, 0, " kB")} after 1,000 → ${fmt(m[mode].after10000Kb, 0, " kB")} after ${midpoint(m.invocations)} → ${fmt(m[mode].afterKb, 0, " kB")} after ${m.invocations.toLocaleString("en")}: growth ${fmt(m[mode].growthKb, 0, " kB")}`,
    );
  }
  log(
    `external RSS ÷ the floor's: ${fmt(m.ratioToFloor.after1000, 2)}× after 1,000, ${fmt(m.ratioToFloor.after, 2)}× after ${m.invocations.toLocaleString("en")}`,
  );
  log(
    `in-process targets (added p50 ≤ 0.1 ms, cold start ≤ 15 ms, private memory ≤ 3 MB): ${r.inProcessMeetsTargets ? "met" : "NOT met"}; ` +
      `external flat memory (≤ 3 MB growth): ${r.externalFlatMemory ? "met" : "NOT met"}`,
  );
  log(
    `S3 requests per poll: ${r.s3RequestsPerPoll.steady} steady, ${r.s3RequestsPerPoll.twoChangedObjects} with two new objects; ` +
      `bytes: extension.cjs ${r.bytes.externalBundle}, in-process.cjs ${r.bytes.inProcessPreload} + in-process-faults.cjs ${r.bytes.inProcessFaultSide}, zip ${r.bytes.layerZip}`,
  );
}

async function requestsPerPoll(endpoint: string) {
  const credentials = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };
  const store = new S3ObjectStore("faults", { endpoint, region: "us-east-1", ...credentials });
  const log = new Logger({
    level: "ERROR",
    format: "text",
    metrics: false,
    functionName: "polls",
    clock: systemClock,
    write: () => {},
  });
  const poller = new FaultPoller({
    store,
    prefix: "fis/polls/",
    functionName: "polls",
    clock: systemClock,
    log,
    slowPollMs: 60_000,
    hotPollMs: 5000,
  });
  await poller.poll();
  const before = store.requestCount;
  await poller.poll();
  const steady = store.requestCount - before;
  const client = new S3Client({
    region: "us-east-1",
    endpoint,
    forcePathStyle: true,
    credentials,
    requestChecksumCalculation: "WHEN_REQUIRED",
  });
  for (const name of ["a", "b"]) {
    await client.send(
      new PutObjectCommand({ Bucket: "faults", Key: `fis/polls/EXP/${name}.json`, Body: "{}" }),
    );
  }
  client.destroy();
  const mid = store.requestCount;
  await poller.poll();
  const twoChangedObjects = store.requestCount - mid;
  poller.stop();
  store.close();
  return { steady, twoChangedObjects };
}

export function spread(values: number[]): Spread {
  const finite = values.filter((v) => Number.isFinite(v));
  return {
    median: percentile(finite, 50),
    min: finite.length ? Math.min(...finite) : Number.NaN,
    max: finite.length ? Math.max(...finite) : Number.NaN,
  };
}

/** Nearest-rank percentile; for p50 of an even count, the mean of the two middle values. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  if (p === 50 && sorted.length % 2 === 0) {
    const mid = sorted.length / 2;
    return ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  }
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

const mb = (kb: number) => `${(kb / 1024).toFixed(1)} MB`;
const signedMb = (kb: number) => `${kb >= 0 ? "+" : ""}${(kb / 1024).toFixed(1)} MB`;

/** `… extension.ts memory [invocations] [external|floor]`: only the memory figure, for profiling the heap. */
export async function benchExtensionMemory(
  log: (line: string) => void = console.log,
  invocations = 50_000,
  modes: readonly ("external" | "floor")[] = ["external", "floor"],
) {
  const dir = mkdtempSync(join(tmpdir(), "faultline-bench-"));
  try {
    const layer = await buildLayer({ out: join(dir, "layer.zip") });
    const opt = join(dir, "opt");
    execFileSync("unzip", ["-q", layer.zipPath, "-d", opt]);
    // No S3 at this endpoint: polls fail (logged once), which is not on the invocation path.
    const start = (mode: Mode) => startEnvironment({ mode, opt, dir, s3Endpoint: "http://127.0.0.1:9" });
    const out: Record<string, GrowthSample> = {};
    for (const mode of modes) {
      const t0 = performance.now();
      out[mode] = await memoryGrowth(await start(mode), invocations);
      const g = out[mode] as GrowthSample;
      log(
        `${mode.padEnd(8)} RSS ${mb(g.after1000Kb)} after 1,000 → ${mb(g.after10000Kb)} after ${midpoint(invocations)} → ${mb(g.afterKb)} after ${invocations.toLocaleString("en")} (${signedMb(g.afterKb - g.after1000Kb)}) in ${((performance.now() - t0) / 1000).toFixed(0)} s`,
      );
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result =
    process.argv[2] === "memory"
      ? await benchExtensionMemory(
          console.log,
          Number(process.argv[3] ?? 50_000),
          process.argv[4] === "external" || process.argv[4] === "floor" ? [process.argv[4]] : undefined,
        )
      : await benchExtension(console.log, { quick: process.argv.includes("--quick") });
  console.log(JSON.stringify(result, null, 2));
}
