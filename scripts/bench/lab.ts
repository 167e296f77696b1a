/**
 * Lab benchmark (issue 2). Run alone: `node --import tsx scripts/bench/lab.ts`, or through `npm run bench`.
 *
 * In one run: a bare loopback HTTP round trip (a separate Node process answering 200, keep-alive client) as the
 * floor, then warm Invoke calls through the lab for a trivial Node handler (official aws-lambda-ric, real
 * environment): p50/p99 latency and invocations per second, sequentially (one environment) and with 4 callers
 * (4 environments), and the lab's per-invoke latency as a ratio to the loopback round trip.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startLab } from "../../packages/lab/src/index.ts";

const WARMUP = 200;
const MEASURED = 2000;
const PARALLEL = 4;

export interface LabBenchResult {
  loopbackP50Ms: number;
  loopbackP99Ms: number;
  invokeP50Ms: number;
  invokeP99Ms: number;
  invokesPerSecondSequential: number;
  invokesPerSecondParallel4: number;
  /** invokeP50Ms / loopbackP50Ms. */
  overheadRatio: number;
  coldStartMs: number;
}

export async function benchLab(log: (line: string) => void = console.log): Promise<LabBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), "faultline-bench-lab-"));
  writeFileSync(join(dir, "index.mjs"), "export const handler = async (event) => event;\n");
  const agent = new http.Agent({ keepAlive: true, maxSockets: PARALLEL });
  const server = await startLoopbackServer();
  const lab = await startLab({
    functions: [{ name: "trivial", runtime: "nodejs20.x", handler: "index.handler", code: dir, timeout: 10 }],
  });
  try {
    log("lab bench: loopback baseline…");
    const loopback = await sequential(MEASURED, () => request(agent, server.url, "GET", "/"));
    const invokeUrl = `${lab.endpoints.lambda}/2015-03-31/functions/trivial/invocations`;
    const invokeOnce = () => request(agent, invokeUrl, "POST", "", '{"n":1}');

    const coldStart = await timed(invokeOnce);
    log("lab bench: warm sequential invokes…");
    await sequential(WARMUP, invokeOnce);
    const started = performance.now();
    const invokes = await sequential(MEASURED, invokeOnce);
    const sequentialSeconds = (performance.now() - started) / 1000;

    log(`lab bench: ${PARALLEL} parallel callers…`);
    // Warm PARALLEL environments first, then measure throughput.
    await Promise.all(Array.from({ length: PARALLEL }, () => sequential(WARMUP / PARALLEL, invokeOnce)));
    const parallelStart = performance.now();
    await Promise.all(Array.from({ length: PARALLEL }, () => sequential(MEASURED / PARALLEL, invokeOnce)));
    const parallelSeconds = (performance.now() - parallelStart) / 1000;

    const loopbackP50 = percentile(loopback, 50);
    const invokeP50 = percentile(invokes, 50);
    return {
      loopbackP50Ms: round(loopbackP50),
      loopbackP99Ms: round(percentile(loopback, 99)),
      invokeP50Ms: round(invokeP50),
      invokeP99Ms: round(percentile(invokes, 99)),
      invokesPerSecondSequential: Math.round(MEASURED / sequentialSeconds),
      invokesPerSecondParallel4: Math.round(MEASURED / parallelSeconds),
      overheadRatio: round(invokeP50 / loopbackP50, 1),
      coldStartMs: round(coldStart, 0),
    };
  } finally {
    agent.destroy();
    await lab.stop();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A bare HTTP server in its own process, as the lab's functions are: the floor one loopback hop costs. */
async function startLoopbackServer(): Promise<{ url: string; stop(): Promise<void> }> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      "-e",
      `const s=require("http").createServer((q,r)=>{q.resume();r.end('{"ok":true}')});s.keepAliveTimeout=60000;s.listen(0,"127.0.0.1",()=>console.log(s.address().port))`,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const port = await new Promise<string>((resolve, reject) => {
    child.once("error", reject);
    child.stdout?.once("data", (chunk: Buffer) => resolve(chunk.toString().trim()));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode !== null) return;
      const gone = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await gone;
    },
  };
}

function request(
  agent: http.Agent,
  base: string,
  method: string,
  path: string,
  body?: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { method, agent }, (res) => {
      res.resume();
      res.on("end", () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on("error", reject);
    req.end(body);
  });
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

async function sequential(n: number, fn: () => Promise<void>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) samples.push(await timed(fn));
  return samples;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(JSON.stringify(await benchLab(), null, 2));
}
