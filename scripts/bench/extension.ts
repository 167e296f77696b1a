/**
 * Extension benchmark (issue 3). Run alone: `node --import tsx scripts/bench/extension.ts`, or through the
 * root bench table, which calls `benchExtension()`.
 *
 * One run, side by side:
 *  - p50/p99 Invoke latency of a warm trivial function (official aws-lambda-ric) with and without the layer's
 *    proxy (no active fault), and the added latency as a ratio to one loopback HTTP round trip;
 *  - the bundled extension's start → registered time and RSS, against a bare `node` start-up that makes one
 *    HTTP request;
 *  - S3 requests per poll (steady state and with changed objects).
 */
import { type ChildProcess, execFileSync, type StdioOptions, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";
import { FaultPoller, Logger, S3ObjectStore, systemClock } from "../../packages/extension/src/index.ts";
import { buildLayer } from "../../packages/extension/src/layer.ts";
import { ExtensionsApi } from "../../packages/lab/src/extensions-api/index.ts";
import { type RuntimeApiServer, startRuntimeApi } from "../../packages/lab/src/runtime-api/index.ts";
import { benchModes, type ModesResult } from "./extension-modes.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const RIC = join(ROOT, "node_modules/aws-lambda-ric/bin/index.mjs");
const FIXTURE = join(ROOT, "packages/extension/test/fixtures/fn");
const WARMUP = 200;
const MEASURED = 2000;

interface MemoryGrowth {
  after1000Kb: number;
  afterKb: number;
  invocations: number;
  growthKb: number;
}

export interface ExtensionBenchResult {
  loopbackRttP50Ms: number;
  direct: { p50Ms: number; p99Ms: number };
  proxied: { p50Ms: number; p99Ms: number };
  addedP50Ms: number;
  /** addedP50Ms / loopbackRttP50Ms; target ≤ 2.5. */
  addedToRttRatio: number;
  startup: {
    extensionRegisteredMs: number;
    bareNodeMs: number;
    /** target ≤ 1.2 */
    ratio: number;
    extensionRssKb: number;
    bareNodeRssKb: number;
    /** target ≤ 1.2 */
    rssRatio: number;
  };
  s3RequestsPerPoll: { steady: number; twoChangedObjects: number };
  /** target: growthKb ≤ 3 MB; `floor`: the same figures for a minimal pass-through proxy, same run. */
  memory: MemoryGrowth & { floor: MemoryGrowth };
  bundleBytes: number;
  /** No layer / external / in-process side by side (issue 12): scripts/bench/extension-modes.ts. */
  modes: ModesResult;
}

export async function benchExtension(
  log: (line: string) => void = console.log,
): Promise<ExtensionBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), "faultline-bench-"));
  const children: ChildProcess[] = [];
  const s3 = new S3rver({
    port: 0,
    address: "127.0.0.1",
    silent: true,
    directory: join(dir, "s3"),
    configureBuckets: [{ name: "faults" }],
  });
  const s3Port = (await s3.run()).port;
  const s3Endpoint = `http://127.0.0.1:${s3Port}`;
  try {
    const layer = await buildLayer({ out: join(dir, "layer.zip") });
    const opt = join(dir, "opt");
    execFileSync("unzip", ["-q", layer.zipPath, "-d", opt]);

    const loopbackRttP50Ms = await loopbackRtt(children);
    log(`loopback HTTP round trip p50 ${loopbackRttP50Ms.toFixed(3)} ms`);

    const direct = await invokeLatency({ opt, s3Endpoint, dir, children, withLayer: false });
    log(`direct   p50 ${direct.p50Ms.toFixed(3)} ms  p99 ${direct.p99Ms.toFixed(3)} ms`);
    const proxied = await invokeLatency({ opt, s3Endpoint, dir, children, withLayer: true });
    log(`proxied  p50 ${proxied.p50Ms.toFixed(3)} ms  p99 ${proxied.p99Ms.toFixed(3)} ms`);
    const addedP50Ms = proxied.p50Ms - direct.p50Ms;
    const addedToRttRatio = addedP50Ms / loopbackRttP50Ms;
    log(
      `added p50 ${addedP50Ms.toFixed(3)} ms = ${addedToRttRatio.toFixed(2)} × loopback RTT (target ≤ 2.5)`,
    );

    const startup = await startupCost({ opt, s3Endpoint, dir, children });
    log(
      `start → registered ${startup.extensionRegisteredMs.toFixed(1)} ms vs bare node ${startup.bareNodeMs.toFixed(1)} ms (${startup.ratio.toFixed(2)}×); ` +
        `RSS ${startup.extensionRssKb} kB vs ${startup.bareNodeRssKb} kB (${startup.rssRatio.toFixed(2)}×) (targets ≤ 1.2)`,
    );

    const memory = await memoryGrowth({ opt, s3Endpoint, dir, children });
    logMemory(memory, log);

    const s3RequestsPerPoll = await requestsPerPoll(s3Endpoint);
    log(
      `S3 requests per poll: ${s3RequestsPerPoll.steady} steady, ${s3RequestsPerPoll.twoChangedObjects} with two new objects`,
    );
    log(`bundle faultline/extension.cjs ${layer.bundleBytes} bytes; layer zip ${layer.zipBytes} bytes`);
    const modes = await benchModes(log);
    return {
      loopbackRttP50Ms,
      direct,
      proxied,
      addedP50Ms,
      addedToRttRatio,
      startup,
      s3RequestsPerPoll,
      memory,
      bundleBytes: layer.bundleBytes,
      modes,
    };
  } finally {
    for (const child of children) await kill(child);
    await s3.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One sequential keep-alive GET against a server in another process: the cost of one extra hop. */
async function loopbackRtt(children: ChildProcess[]): Promise<number> {
  const server = spawn(
    process.execPath,
    [
      "-e",
      `const s=require("http").createServer((q,r)=>{q.resume();r.end('{"ok":true}')});s.keepAliveTimeout=60000;s.listen(0,"127.0.0.1",()=>console.log(s.address().port))`,
    ],
    { stdio: ["ignore", "pipe", "inherit"], env: { FAULTLINE_LAB_OWNER: "bench" } },
  );
  children.push(server);
  const port = Number(await firstLine(server));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const get = () =>
    new Promise<void>((resolve, reject) => {
      http
        .get({ host: "127.0.0.1", port, path: "/", agent }, (res) => res.resume().on("end", resolve))
        .on("error", reject);
    });
  const samples = await measure(get);
  agent.destroy();
  await kill(server);
  return percentile(samples, 50);
}

interface FunctionOptions {
  opt: string;
  s3Endpoint: string;
  dir: string;
  children: ChildProcess[];
  withLayer: boolean;
  /** With withLayer: run MINIMAL_PROXY in the extension's place (the floor of any Node proxy). */
  floor?: boolean;
}

/**
 * The floor: a pass-through Runtime API proxy in as few lines as node allows (no faults, no polling, no
 * Extensions API), started as the extension would be and found by the same exec wrapper.
 */
const MINIMAL_PROXY = `
const http = require("http"), fs = require("fs");
const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(":");
const agent = new http.Agent({ keepAlive: true });
const server = http.createServer((req, res) => {
  const up = http.request({ host, port, method: req.method, path: req.url, headers: req.headers, agent }, (a) => {
    res.writeHead(a.statusCode, a.headers);
    a.pipe(res);
  });
  req.pipe(up);
});
server.keepAliveTimeout = 0;
server.listen(0, "127.0.0.1", () => {
  fs.writeFileSync(process.env.FAULTLINE_PORT_FILE, server.address().port + "\\n");
  console.log("ready");
});`;

/** The platform, the extension (when withLayer) and a warm official runtime client; `invoke` is one Invoke. */
async function startFunction(o: FunctionOptions) {
  const { api, extensions } = await platform("bench");
  const portFile = join(o.dir, `port-${randomUUID()}`);
  // FAULTLINE_BENCH_EXTENSION_ENV="NAME=value …" adds variables to the extension's environment (e.g. glibc's
  // MALLOC_* tunables) without changing the layer.
  const extra = (process.env.FAULTLINE_BENCH_EXTENSION_ENV ?? "").split(" ").filter(Boolean);
  const env = {
    ...baseEnv(api, "bench", portFile, o.s3Endpoint),
    ...Object.fromEntries(extra.map((kv) => kv.split("=", 2))),
  };
  let extension: ChildProcess | undefined;
  if (o.withLayer && o.floor) {
    extension = spawn(process.execPath, ["-e", MINIMAL_PROXY], { env, stdio: ["ignore", "pipe", "inherit"] });
    o.children.push(extension);
    await firstLine(extension);
  } else if (o.withLayer) {
    const registered = new Promise((resolve) => extensions.onRegister(resolve));
    // FAULTLINE_BENCH_EXTENSION_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the extension under
    // load (what makes it slow); node refuses --cpu-prof in NODE_OPTIONS, so node is started directly.
    // FAULTLINE_BENCH_EXTENSION_OUTPUT=file keeps the extension's output (e.g. with --trace-gc).
    const profile = process.env.FAULTLINE_BENCH_EXTENSION_NODE_ARGS;
    const output = process.env.FAULTLINE_BENCH_EXTENSION_OUTPUT;
    const stdio: StdioOptions = output ? ["ignore", openSync(output, "a"), "inherit"] : "ignore";
    extension = profile
      ? spawn(process.execPath, [...profile.split(" "), join(o.opt, "faultline/extension.cjs")], {
          env,
          stdio,
        })
      : spawn(join(o.opt, "extensions/faultline"), [], { env, stdio });
    o.children.push(extension);
    const child = extension;
    const died = new Promise<never>((_, reject) =>
      child.once("exit", (code) => reject(new Error(`the extension exited (${code}) before registering`))),
    );
    died.catch(() => undefined);
    await Promise.race([registered, died]);
    await extensions.whenAllReady();
  }
  const command = o.withLayer
    ? [join(o.opt, "faultline/bootstrap"), process.execPath, RIC]
    : [process.execPath, RIC];
  const runtime = spawn(command[0] as string, [...command.slice(1), "index.handler"], {
    cwd: FIXTURE,
    env,
    stdio: "ignore",
  });
  o.children.push(runtime);
  await api.whenReady();
  const payload = Buffer.from('{"n":1}');
  return {
    extension,
    async invoke() {
      const out = await api.invoke({
        requestId: randomUUID(),
        payload,
        invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:bench",
        traceId: "Root=1-5759e988-bd862e3fe1be46a994272793",
        acceptStreaming: false,
      });
      if (out.kind !== "response") throw new Error(`unexpected ${out.kind}`);
    },
    async close() {
      await kill(runtime);
      if (extension) await stop(extension);
      await api.close();
    },
  };
}

async function invokeLatency(o: FunctionOptions): Promise<{ p50Ms: number; p99Ms: number }> {
  const fn = await startFunction(o);
  const samples = await measure(fn.invoke);
  await fn.close();
  return { p50Ms: percentile(samples, 50), p99Ms: percentile(samples, 99) };
}

export const MEMORY_INVOCATIONS = 50_000;
const MEMORY_TIME_LIMIT_MS = Number(process.env.FAULTLINE_BENCH_MEMORY_SECONDS ?? 60) * 1000;

/**
 * Issue 12: the extension's RSS after 1,000 warm invocations and after 50,000 (or as many as fit in 60 s),
 * with no fault active. Flat memory: the growth stays within 3 MB.
 */
async function memoryGrowth(o: Omit<FunctionOptions, "withLayer">) {
  const fn = await startFunction({ ...o, withLayer: true });
  return {
    ...(await growth(fn)),
    floor: await growth(await startFunction({ ...o, withLayer: true, floor: true })),
  };
}

/** RSS of the function's proxy process (the extension, or the floor) after 1,000 invocations and at the end. */
async function growth(fn: Awaited<ReturnType<typeof startFunction>>) {
  const pid = fn.extension?.pid;
  let invocations = 0;
  while (invocations < 1000) {
    await fn.invoke();
    invocations++;
  }
  const after1000Kb = rssKb(pid);
  if (process.env.FAULTLINE_BENCH_SMAPS)
    writeFileSync(`${process.env.FAULTLINE_BENCH_SMAPS}.1k`, readFileSync(`/proc/${pid}/smaps`));
  const deadline = performance.now() + MEMORY_TIME_LIMIT_MS;
  while (invocations < MEMORY_INVOCATIONS && performance.now() < deadline) {
    await fn.invoke();
    invocations++;
  }
  const afterKb = rssKb(pid);
  if (process.env.FAULTLINE_BENCH_SMAPS)
    writeFileSync(`${process.env.FAULTLINE_BENCH_SMAPS}.end`, readFileSync(`/proc/${pid}/smaps`));
  await fn.close();
  return { after1000Kb, afterKb, invocations, growthKb: afterKb - after1000Kb };
}

function logMemory(memory: MemoryGrowth & { floor: MemoryGrowth }, log: (line: string) => void): void {
  const line = (m: MemoryGrowth) =>
    `RSS ${(m.after1000Kb / 1024).toFixed(1)} MB after 1,000 invocations, ${(m.afterKb / 1024).toFixed(1)} MB after ` +
    `${m.invocations.toLocaleString("en")}: ${m.growthKb >= 0 ? "+" : ""}${(m.growthKb / 1024).toFixed(1)} MB`;
  log(`extension      ${line(memory)} (target ≤ +3 MB over 50,000)`);
  log(`minimal proxy  ${line(memory.floor)} (the floor, same run)`);
}

async function startupCost(o: { opt: string; s3Endpoint: string; dir: string; children: ChildProcess[] }) {
  const rounds = 10;
  const ext: number[] = [];
  const bare: number[] = [];
  const extRss: number[] = [];
  const bareRss: number[] = [];
  for (let i = 0; i < rounds; i++) {
    // The extension: spawn → its register call reaches the Extensions API; RSS once its init poll is done.
    {
      const { api, extensions } = await platform("startup");
      const env = baseEnv(api, "startup", join(o.dir, `port-s${i}`), o.s3Endpoint);
      const started = performance.now();
      const registered = new Promise<number>((resolve) =>
        extensions.onRegister(() => resolve(performance.now())),
      );
      const child = spawn(join(o.opt, "extensions/faultline"), [], { env, stdio: "ignore" });
      o.children.push(child);
      ext.push((await registered) - started);
      await extensions.whenAllReady();
      extRss.push(rssKb(child.pid));
      await kill(child);
      await api.close();
    }
    // Bare node: spawn → its first HTTP request arrives; RSS after that request.
    {
      let arrived!: (t: number) => void;
      const arrival = new Promise<number>((resolve) => (arrived = resolve));
      const server = http.createServer((req, res) => {
        arrived(performance.now());
        req.resume();
        res.end("ok");
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const port = (server.address() as { port: number }).port;
      const started = performance.now();
      const child = spawn(
        process.execPath,
        [
          "-e",
          `require("http").request({host:"127.0.0.1",port:${port},method:"POST"},r=>r.resume()).end("{}");setInterval(()=>{},1000)`,
        ],
        { stdio: "ignore", env: { FAULTLINE_LAB_OWNER: "bench" } },
      );
      o.children.push(child);
      bare.push((await arrival) - started);
      await new Promise((resolve) => setTimeout(resolve, 50));
      bareRss.push(rssKb(child.pid));
      await kill(child);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  }
  const extensionRegisteredMs = percentile(ext, 50);
  const bareNodeMs = percentile(bare, 50);
  const extensionRssKb = percentile(extRss, 50);
  const bareNodeRssKb = percentile(bareRss, 50);
  return {
    extensionRegisteredMs,
    bareNodeMs,
    ratio: extensionRegisteredMs / bareNodeMs,
    extensionRssKb,
    bareNodeRssKb,
    rssRatio: extensionRssKb / bareNodeRssKb,
  };
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

async function platform(functionName: string): Promise<{ api: RuntimeApiServer; extensions: ExtensionsApi }> {
  const extensions = new ExtensionsApi({
    functionName,
    functionVersion: "$LATEST",
    handler: "index.handler",
  });
  const api = await startRuntimeApi({ routes: extensions.routes });
  api.onDispatch((inv) => extensions.dispatchInvoke(inv));
  return { api, extensions };
}

function baseEnv(api: RuntimeApiServer, functionName: string, portFile: string, s3Endpoint: string) {
  return {
    PATH: process.env.PATH,
    AWS_LAMBDA_RUNTIME_API: api.address,
    AWS_LAMBDA_FUNCTION_NAME: functionName,
    AWS_FIS_CONFIGURATION_LOCATION: "arn:aws:s3:::faults/fis/",
    AWS_ENDPOINT_URL_S3: s3Endpoint,
    AWS_ACCESS_KEY_ID: "S3RVER",
    AWS_SECRET_ACCESS_KEY: "S3RVER",
    AWS_REGION: "us-east-1",
    FAULTLINE_PORT_FILE: portFile,
    FAULTLINE_LAB_OWNER: "bench",
  };
}

async function measure(fn: () => Promise<void>): Promise<number[]> {
  for (let i = 0; i < WARMUP; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < MEASURED; i++) {
    const t = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return samples;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function rssKb(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes("\n")) resolve(text.split("\n")[0] ?? "");
    });
  });
}

/** SIGTERM first (the extension exits cleanly, writing its profile if asked), SIGKILL after 2 s. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 2000);
  await gone;
  clearTimeout(timer);
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await gone;
}

/** `… extension.ts memory`: only the memory figure (a minute), for profiling the extension's heap. */
export async function benchExtensionMemory(log: (line: string) => void = console.log) {
  const dir = mkdtempSync(join(tmpdir(), "faultline-bench-"));
  const children: ChildProcess[] = [];
  try {
    const layer = await buildLayer({ out: join(dir, "layer.zip") });
    const opt = join(dir, "opt");
    execFileSync("unzip", ["-q", layer.zipPath, "-d", opt]);
    // No S3 at this endpoint: polls fail (logged once), which is not on the invocation path.
    const memory = await memoryGrowth({ opt, s3Endpoint: "http://127.0.0.1:9", dir, children });
    logMemory(memory, log);
    return memory;
  } finally {
    for (const child of children) await kill(child);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = process.argv[2] === "memory" ? await benchExtensionMemory() : await benchExtension();
  console.log(JSON.stringify(result, null, 2));
}
