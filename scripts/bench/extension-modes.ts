/**
 * The extension's two modes side by side with no layer, in one run (issue 12): a warm trivial function's Invoke
 * p50, the cold start (first process spawned → runtime parked in /next with every extension ready) and the
 * environment's private memory (Private_Clean + Private_Dirty of every process) after warm-up. Rounds alternate
 * none / external / in-process so machine load hits all three alike; medians over rounds.
 * Run alone: `node --import tsx scripts/bench/extension-modes.ts`.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import S3rver from "s3rver";
import { buildLayer } from "../../packages/extension/src/layer.ts";
import { ExtensionsApi } from "../../packages/lab/src/extensions-api/index.ts";
import { startRuntimeApi } from "../../packages/lab/src/runtime-api/index.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const RIC = join(ROOT, "node_modules/aws-lambda-ric/bin/index.mjs");
const FIXTURE = join(ROOT, "packages/extension/test/fixtures/fn");
const MODES = ["none", "external", "in-process"] as const;
type Mode = (typeof MODES)[number];

export interface ModeFigures {
  p50Ms: number;
  coldStartMs: number;
  /** The first invoke after the cold start: in-process, it holds the first poll (the proxy polls during init). */
  firstInvokeMs: number;
  privateKb: number;
}
export interface ModesResult {
  /** Rounds of warm invokes and memory (cold starts: `coldRounds` more, alone). */
  rounds: number;
  none: ModeFigures;
  external: ModeFigures & { addedP50Ms: number; addedColdStartMs: number; addedPrivateKb: number };
  inProcess: ModeFigures & {
    addedP50Ms: number;
    addedColdStartMs: number;
    addedPrivateKb: number;
    /** targets: added p50 ≤ 0.1 ms, cold start ≤ 15 ms, private memory ≤ 3 MB */
    meetsTargets: boolean;
    /** in-process added / external added (lower is better) */
    ratioToExternal: { p50: number; coldStart: number; privateMemory: number };
  };
  bundleBytes: { external: number; inProcess: number };
  zipBytes: number;
}

export async function benchModes(
  log: (line: string) => void = console.log,
  options: { rounds?: number; coldRounds?: number; invokes?: number } = {},
): Promise<ModesResult> {
  const rounds = options.rounds ?? 3;
  const coldRounds = options.coldRounds ?? 15;
  const invokes = options.invokes ?? 1000;
  const dir = mkdtempSync(join(tmpdir(), "faultline-modes-"));
  const s3 = new S3rver({
    port: 0,
    address: "127.0.0.1",
    silent: true,
    directory: join(dir, "s3"),
    configureBuckets: [{ name: "faults" }],
  });
  const s3Endpoint = `http://127.0.0.1:${(await s3.run()).port}`;
  try {
    const layer = await buildLayer({ out: join(dir, "layer.zip") });
    const opt = join(dir, "opt");
    execFileSync("unzip", ["-q", layer.zipPath, "-d", opt]);
    const samples: Record<Mode, ModeFigures[]> = { none: [], external: [], "in-process": [] };
    const cold: Record<Mode, number[]> = { none: [], external: [], "in-process": [] };
    const firstInvoke: Record<Mode, number[]> = { none: [], external: [], "in-process": [] };
    const run = (mode: Mode, count: number) => oneEnvironment({ mode, opt, dir, s3Endpoint, invokes: count });
    // Cold starts alone (no invokes), many short alternating rounds: the figure most sensitive to load.
    for (let round = 0; round < coldRounds; round++) {
      for (const mode of MODES) {
        const figures = await run(mode, 0);
        cold[mode].push(figures.coldStartMs);
        firstInvoke[mode].push(figures.firstInvokeMs);
      }
    }
    for (let round = 0; round < rounds; round++) {
      for (const mode of MODES) {
        const figures = await run(mode, invokes);
        samples[mode].push(figures);
        log(
          `round ${round + 1} ${mode.padEnd(10)} p50 ${figures.p50Ms.toFixed(3)} ms  private ${figures.privateKb} kB`,
        );
      }
    }
    const figures = (mode: Mode): ModeFigures => ({
      ...median(samples[mode]),
      coldStartMs: percentile(cold[mode], 50),
    });
    const none = figures("none");
    const external = figures("external");
    const inProcess = figures("in-process");
    /** Median of same-round differences, so load drifting between rounds cancels out. */
    const paired = (mode: Mode, pick: (m: ModeFigures) => number) =>
      percentile(
        samples[mode].map((m, i) => pick(m) - pick(samples.none[i] as ModeFigures)),
        50,
      );
    const added = (mode: Mode) => ({
      addedP50Ms: paired(mode, (m) => m.p50Ms),
      addedColdStartMs: percentile(
        cold[mode].map((ms, i) => ms - (cold.none[i] as number)),
        50,
      ),
      addedPrivateKb: paired(mode, (m) => m.privateKb),
    });
    const ext = { ...external, ...added("external") };
    const inp = { ...inProcess, ...added("in-process") };
    const result: ModesResult = {
      rounds,
      none,
      external: ext,
      inProcess: {
        ...inp,
        meetsTargets: inp.addedP50Ms <= 0.1 && inp.addedColdStartMs <= 15 && inp.addedPrivateKb <= 3072,
        ratioToExternal: {
          p50: inp.addedP50Ms / ext.addedP50Ms,
          coldStart: inp.addedColdStartMs / ext.addedColdStartMs,
          privateMemory: inp.addedPrivateKb / ext.addedPrivateKb,
        },
      },
      bundleBytes: { external: layer.bundleBytes, inProcess: layer.inProcessBundleBytes },
      zipBytes: layer.zipBytes,
    };
    for (const [name, m] of [
      ["external", ext],
      ["in-process", inp],
    ] as const) {
      log(
        `${name.padEnd(10)} added p50 ${m.addedP50Ms.toFixed(3)} ms (${(m.p50Ms / none.p50Ms).toFixed(2)}× no layer), ` +
          `cold start +${m.addedColdStartMs.toFixed(1)} ms (${(m.coldStartMs / none.coldStartMs).toFixed(2)}×), ` +
          `first invoke ${m.firstInvokeMs.toFixed(1)} ms (no layer ${none.firstInvokeMs.toFixed(1)}), ` +
          `private memory +${m.addedPrivateKb} kB (${(m.privateKb / none.privateKb).toFixed(2)}×)`,
      );
    }
    log(
      `in-process targets (≤ 0.1 ms, ≤ 15 ms, ≤ 3 MB): ${result.inProcess.meetsTargets ? "met" : "NOT met"}`,
    );
    return result;
  } finally {
    await s3.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One environment: (layer) the launcher, registered; the runtime; `invokes` warm invokes; memory; teardown. */
async function oneEnvironment(o: {
  mode: Mode;
  opt: string;
  dir: string;
  s3Endpoint: string;
  invokes: number;
}): Promise<ModeFigures> {
  const extensions = new ExtensionsApi({
    functionName: "bench",
    functionVersion: "$LATEST",
    handler: "index.handler",
  });
  const api = await startRuntimeApi({ routes: extensions.routes });
  api.onDispatch((inv) => extensions.dispatchInvoke(inv));
  const env = {
    PATH: process.env.PATH,
    AWS_LAMBDA_RUNTIME_API: api.address,
    AWS_LAMBDA_FUNCTION_NAME: "bench",
    AWS_EXECUTION_ENV: "AWS_Lambda_nodejs20.x",
    // Lambda's /var/runtime: here aws-lambda-ric's package dir, where the launcher finds dist/rapid-client.node.
    LAMBDA_RUNTIME_DIR: dirname(dirname(RIC)),
    FAULTLINE_MODE: o.mode === "in-process" ? "auto" : "external",
    AWS_FIS_CONFIGURATION_LOCATION: "arn:aws:s3:::faults/fis/",
    AWS_ENDPOINT_URL_S3: o.s3Endpoint,
    AWS_ACCESS_KEY_ID: "S3RVER",
    AWS_SECRET_ACCESS_KEY: "S3RVER",
    AWS_REGION: "us-east-1",
    FAULTLINE_PORT_FILE: join(o.dir, `port-${randomUUID()}`),
    FAULTLINE_LAB_OWNER: "bench",
  };
  const children: ChildProcess[] = [];
  try {
    const started = performance.now();
    if (o.mode !== "none") {
      const registered = new Promise((resolve) => extensions.onRegister(resolve));
      children.push(spawn(join(o.opt, "extensions/faultline"), [], { env, stdio: "ignore" }));
      await registered;
      extensions.closeRegistration();
    }
    const command =
      o.mode === "none"
        ? [process.execPath, RIC]
        : [join(o.opt, "faultline/bootstrap"), process.execPath, RIC];
    children.push(
      spawn(command[0] as string, [...command.slice(1), "index.handler"], {
        cwd: FIXTURE,
        env,
        stdio: "ignore",
      }),
    );
    await api.whenReady();
    await extensions.whenAllReady();
    const coldStartMs = performance.now() - started;
    const payload = Buffer.from('{"n":1}');
    const invokeOnce = async () => {
      const out = await api.invoke({
        requestId: randomUUID(),
        payload,
        invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:bench",
        traceId: "Root=1-5759e988-bd862e3fe1be46a994272793",
        acceptStreaming: false,
      });
      if (out.kind !== "response") throw new Error(`${o.mode}: unexpected ${out.kind}`);
    };
    const t0 = performance.now();
    await invokeOnce();
    const firstInvokeMs = performance.now() - t0;
    const samples: number[] = [];
    const warmup = o.invokes > 0 ? 100 : 0;
    for (let i = 0; i < o.invokes + warmup; i++) {
      const t = process.hrtime.bigint();
      await invokeOnce();
      if (i >= warmup) samples.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    if (o.invokes === 0) return { p50Ms: Number.NaN, coldStartMs, firstInvokeMs, privateKb: Number.NaN };
    const privateKb = children.reduce((sum, child) => sum + privateMemoryKb(child.pid), 0);
    return { p50Ms: percentile(samples, 50), coldStartMs, firstInvokeMs, privateKb };
  } finally {
    for (const child of children) await kill(child);
    await api.close();
  }
}

function privateMemoryKb(pid: number | undefined): number {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(rollup)?.[1] ?? 0);
  return field("Private_Clean") + field("Private_Dirty");
}

function median(list: ModeFigures[]): ModeFigures {
  return {
    p50Ms: percentile(
      list.map((m) => m.p50Ms),
      50,
    ),
    coldStartMs: percentile(
      list.map((m) => m.coldStartMs),
      50,
    ),
    firstInvokeMs: percentile(
      list.map((m) => m.firstInvokeMs),
      50,
    ),
    privateKb: percentile(
      list.map((m) => m.privateKb),
      50,
    ),
  };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await gone;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(JSON.stringify(await benchModes(), null, 2));
}
