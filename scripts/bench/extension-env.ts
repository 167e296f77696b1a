/**
 * One function environment for the extension bench, in one of four modes: no layer, the floor (our minimal
 * pass-through proxy, scripts/bench/minimal-proxy.cjs), the external proxy, or in-process. The lab's Runtime and
 * Extensions APIs play Lambda; the runtime is the official aws-lambda-ric with a trivial handler. Order as on
 * Lambda: the extension is started and registers, then the runtime starts (through the exec wrapper).
 */
import { type ChildProcess, type StdioOptions, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { openSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ExtensionsApi } from "../../packages/lab/src/extensions-api/index.ts";
import { startRuntimeApi } from "../../packages/lab/src/runtime-api/index.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const RIC = join(ROOT, "node_modules/aws-lambda-ric/bin/index.mjs");
const FIXTURE = join(ROOT, "packages/extension/test/fixtures/fn");
const MINIMAL_PROXY = fileURLToPath(new URL("./minimal-proxy.cjs", import.meta.url));

export const MODES = ["none", "floor", "external", "in-process"] as const;
export type Mode = (typeof MODES)[number];

export interface Environment {
  /** First process spawned → runtime parked in /next with every extension ready. */
  coldStartMs: number;
  /**
   * CPU time the environment's processes (every thread) had used when it was ready: the cold start's work, which
   * machine load does not inflate as it does wall time.
   */
  coldStartCpuMs: number;
  /** First process spawned → the extension registered (0 without one): the part before the runtime starts. */
  registeredMs: number;
  /** The extension's process (the launcher's pid: it execs node or bash), if any. */
  extensionPid: number | undefined;
  runtimePid: number | undefined;
  invoke(): Promise<void>;
  /** Private_Clean + Private_Dirty of the environment's processes (runtime + extension), kB. */
  privateKb(): number;
  close(): Promise<void>;
}

export async function startEnvironment(o: {
  mode: Mode;
  /** The unzipped layer (extensions/, faultline/). */
  opt: string;
  dir: string;
  s3Endpoint: string;
}): Promise<Environment> {
  const extensions = new ExtensionsApi({
    functionName: "bench",
    functionVersion: "$LATEST",
    handler: "index.handler",
  });
  const api = await startRuntimeApi({ routes: extensions.routes });
  api.onDispatch((inv) => extensions.dispatchInvoke(inv));
  // FAULTLINE_BENCH_EXTENSION_ENV="NAME=value …" adds variables to the environment (e.g. glibc's MALLOC_*).
  const extra = (process.env.FAULTLINE_BENCH_EXTENSION_ENV ?? "").split(" ").filter(Boolean);
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
    ...Object.fromEntries(extra.map((kv) => kv.split("=", 2))),
  };
  const children: ChildProcess[] = [];
  const close = async () => {
    for (const child of children) await kill(child);
    await api.close();
  };
  try {
    const started = performance.now();
    let extension: ChildProcess | undefined;
    let registeredMs = 0;
    if (o.mode !== "none") {
      const registered = new Promise<number>((resolve) =>
        extensions.onRegister(() => resolve(performance.now())),
      );
      extension = spawnExtension(o.mode, o.opt, env);
      children.push(extension);
      const child = extension;
      const died = new Promise<never>((_, reject) =>
        child.once("exit", (code) =>
          reject(new Error(`${o.mode}: the extension exited (${code}) before registering`)),
        ),
      );
      died.catch(() => undefined);
      registeredMs = (await Promise.race([registered, died])) - started;
      extensions.closeRegistration();
    }
    // FAULTLINE_BENCH_RUNTIME_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the runtime (in-process mode
    // included: the exec wrapper passes the arguments on).
    const runtimeArgs = process.env.FAULTLINE_BENCH_RUNTIME_NODE_ARGS?.split(" ") ?? [];
    const node = [process.execPath, ...runtimeArgs, RIC];
    const command = o.mode === "none" ? node : [join(o.opt, "faultline/bootstrap"), ...node];
    const runtime = spawn(command[0] as string, [...command.slice(1), "index.handler"], {
      cwd: FIXTURE,
      env,
      stdio: "ignore",
    });
    children.push(runtime);
    await api.whenReady();
    await extensions.whenAllReady();
    const coldStartMs = performance.now() - started;
    const coldStartCpuMs = children.reduce((sum, child) => sum + cpuMs(child.pid), 0);
    const payload = Buffer.from('{"n":1}');
    return {
      coldStartMs,
      coldStartCpuMs,
      registeredMs,
      extensionPid: extension?.pid,
      runtimePid: runtime.pid,
      async invoke() {
        const out = await api.invoke({
          requestId: randomUUID(),
          payload,
          invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:bench",
          traceId: "Root=1-5759e988-bd862e3fe1be46a994272793",
          acceptStreaming: false,
        });
        if (out.kind !== "response") throw new Error(`${o.mode}: unexpected ${out.kind}`);
      },
      privateKb: () => children.reduce((sum, child) => sum + privateMemoryKb(child.pid), 0),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * FAULTLINE_BENCH_EXTENSION_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the external extension and the floor (node
 * refuses --cpu-prof in NODE_OPTIONS, so node is started directly); FAULTLINE_BENCH_EXTENSION_OUTPUT=file keeps its
 * output (e.g. with --trace-gc).
 */
function spawnExtension(mode: Exclude<Mode, "none">, opt: string, env: Record<string, string | undefined>) {
  const output = process.env.FAULTLINE_BENCH_EXTENSION_OUTPUT;
  const stdio: StdioOptions = output ? ["ignore", openSync(output, "a"), "inherit"] : "ignore";
  const nodeArgs = process.env.FAULTLINE_BENCH_EXTENSION_NODE_ARGS;
  if (mode === "floor") {
    return spawn(process.execPath, [...(nodeArgs?.split(" ") ?? []), MINIMAL_PROXY], { env, stdio });
  }
  if (mode === "external" && nodeArgs) {
    return spawn(process.execPath, [...nodeArgs.split(" "), join(opt, "faultline/extension.cjs")], {
      env,
      stdio,
    });
  }
  return spawn(join(opt, "extensions/faultline"), [], { env, stdio });
}

export function privateMemoryKb(pid: number | undefined): number {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(rollup)?.[1] ?? 0);
  return field("Private_Clean") + field("Private_Dirty");
}

/** CPU time of every thread of `pid` so far (/proc/<pid>/task/<tid>/schedstat: nanoseconds on CPU first). */
export function cpuMs(pid: number | undefined): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return ns / 1e6;
}

export function rssKb(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
}

/** SIGTERM first (an extension writes its profile if asked), SIGKILL after 2 s. */
async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 2000);
  await gone;
  clearTimeout(timer);
}
