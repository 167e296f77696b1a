/**
 * The faultline demo, one command on one machine: a lab with the `hello` function (official Node runtime
 * client, the faultline layer attached), the engine behind the FIS-compatible API, steady load, and two
 * experiments driven through @aws-sdk/client-fis exactly as against AWS FIS:
 *   1. 2000 ms start delay on every invocation, running its course;
 *   2. invocation errors with preventExecution, stopped half-way with StopExperiment (the safety lever).
 * It prints live progress, then a per-phase table, and exits 1 if what it saw is not what the faults mean.
 *
 *   npm run demo [-- --windows 5,10,5] [--rate 4]
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  CreateExperimentTemplateCommand,
  type CreateExperimentTemplateCommandInput,
  FisClient,
  GetExperimentCommand,
  StartExperimentCommand,
  StopExperimentCommand,
} from "@aws-sdk/client-fis";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { serveFaultline } from "@faultline/api";
import { S3_CREDENTIALS, startLab } from "@faultline/lab";
import { buildLayer } from "../../packages/extension/src/layer.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
/**
 * Every environment of the function polls S3 on its own: once one shows a fault, the others (the load keeps
 * several busy) have it within one slow poll at the latest. The strict checks start after that ramp.
 */
const RAMP_MS =
  1000 *
  Number(
    JSON.parse(readFileSync(join(HERE, "lab.json"), "utf8")).functions[0].environment
      .AWS_FIS_SLOW_POLL_INTERVAL_SECONDS ?? 2,
  );
const { values: args } = parseArgs({
  options: {
    windows: { type: "string", default: "5,10,5" },
    rate: { type: "string", default: "4" },
  },
});
const [preS, duringS, postS] = (args.windows ?? "").split(",").map(Number);
const rate = Number(args.rate);
if (![preS, duringS, postS, rate].every((n) => n !== undefined && Number.isFinite(n) && n > 0)) {
  console.error(
    "demo: --windows takes three positive numbers of seconds (pre,during,post); --rate a positive number",
  );
  process.exit(2);
}

type Phase = "pre" | "delay" | "post" | "error" | "recovery";
interface Sample {
  phase: Phase;
  startMs: number;
  ms: number;
  error: boolean;
}

const samples: Sample[] = [];
let phase: Phase = "pre";
const phaseStarted = new Map<Phase, number>();
const inFlight = new Set<Promise<void>>();

function setPhase(next: Phase) {
  phase = next;
  phaseStarted.set(next, Date.now());
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

const fmt = (ms: number) => (Number.isNaN(ms) ? "-" : `${Math.round(ms)} ms`);

async function main(): Promise<number> {
  console.log("faultline demo: building the extension layer…");
  const layer = await buildLayer();
  console.log(`  layer ${layer.zipPath}`);
  // lab.json has fixed ports for `faultline up` by hand; the demo takes free ones so it can run beside it.
  const config = JSON.parse(readFileSync(join(HERE, "lab.json"), "utf8"));
  config.ports = {};
  const lab = await startLab(config, { baseDir: HERE });
  const dataDir = mkdtempSync(join(tmpdir(), "faultline-demo-"));
  const faultline = await serveFaultline({
    dataDir,
    endpoints: { lambda: lab.endpoints.lambda, s3: lab.endpoints.s3, tagging: lab.endpoints.lambda },
    credentials: S3_CREDENTIALS,
    region: "us-east-1",
    log: () => {},
  });
  const credentials = { accessKeyId: "demo", secretAccessKey: "demo" };
  const lambda = new LambdaClient({
    endpoint: lab.endpoints.lambda,
    region: "us-east-1",
    credentials,
    maxAttempts: 1,
  });
  const fis = new FisClient({ endpoint: faultline.url, region: "us-east-1", credentials, maxAttempts: 1 });
  console.log(`  lab Lambda API ${lab.endpoints.lambda}   S3 ${lab.endpoints.s3}   FIS API ${faultline.url}`);
  console.log(
    `  (try: AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x aws fis list-experiments --endpoint-url ${faultline.url} --region us-east-1)\n`,
  );

  // Warm the function first: the pre window is the steady state, not cold starts.
  for (let i = 0; i < 3; i++) {
    await lambda.send(
      new InvokeCommand({ FunctionName: "hello", Payload: JSON.stringify({ name: "warm-up" }) }),
    );
  }

  let loadRunning = true;
  const invokeOnce = () => {
    const startMs = Date.now();
    const at = phase;
    const p = lambda
      .send(new InvokeCommand({ FunctionName: "hello", Payload: JSON.stringify({ name: "demo" }) }))
      .then(
        (out) => ({ error: out.FunctionError !== undefined }),
        () => ({ error: true }),
      )
      .then(({ error }) => {
        samples.push({ phase: at, startMs, ms: Date.now() - startMs, error });
      });
    const tracked = p.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };
  // Open-loop load: a fixed request rate whatever the latency, as users keep arriving.
  const load = setInterval(() => loadRunning && invokeOnce(), 1000 / rate);
  const progress = setInterval(() => {
    const now = Date.now();
    const recent = samples.filter((s) => s.startMs + s.ms > now - 1000);
    const inPhase = samples.filter((s) => s.phase === phase);
    console.log(
      `  [${phase.padEnd(8)}] ${String(Math.round((now - (phaseStarted.get(phase) ?? now)) / 1000)).padStart(3)} s` +
        `  requests ${String(inPhase.length).padStart(4)}  errors ${String(inPhase.filter((s) => s.error).length).padStart(4)}` +
        `  last-second p50 ${fmt(
          percentile(
            recent.map((s) => s.ms),
            50,
          ),
        ).padStart(8)}  in flight ${inFlight.size}`,
    );
  }, 1000);

  const template = (file: string, seconds?: number) => {
    const t = JSON.parse(
      readFileSync(join(HERE, "templates", file), "utf8"),
    ) as CreateExperimentTemplateCommandInput;
    if (seconds !== undefined) {
      for (const action of Object.values(t.actions ?? {}))
        action.parameters = { ...action.parameters, duration: `PT${seconds}S` };
    }
    return t;
  };
  const waitFor = async (id: string, states: string[]) => {
    for (;;) {
      const x = (await fis.send(new GetExperimentCommand({ id }))).experiment;
      if (x?.state?.status && states.includes(x.state.status)) return x;
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  const sleep = (s: number) => new Promise((r) => setTimeout(r, s * 1000));

  const marks: Record<string, number> = {};
  try {
    setPhase("pre");
    await sleep(preS!);

    const delayTpl = await fis.send(new CreateExperimentTemplateCommand(template("delay.json", duringS)));
    const delay = await fis.send(
      new StartExperimentCommand({ experimentTemplateId: delayTpl.experimentTemplate!.id! }),
    );
    marks.delayStart = Date.now();
    setPhase("delay");
    console.log(`  experiment ${delay.experiment!.id} started: ${duringS} s of 2000 ms start delay`);
    const delayEnd = await waitFor(delay.experiment!.id!, ["completed", "stopped", "failed"]);
    marks.delayEnd = Date.now();
    console.log(
      `  experiment ${delay.experiment!.id} ${delayEnd.state?.status}: ${delayEnd.state?.reason ?? ""}`,
    );
    setPhase("post");
    await sleep(postS!);

    const errorTpl = await fis.send(new CreateExperimentTemplateCommand(template("error.json")));
    const error = await fis.send(
      new StartExperimentCommand({ experimentTemplateId: errorTpl.experimentTemplate!.id! }),
    );
    marks.errorStart = Date.now();
    setPhase("error");
    console.log(`  experiment ${error.experiment!.id} started: invocation errors, handler not run`);
    await sleep(duringS! / 2);
    // Faults are removed as soon as the stop is taken, before "stopped" is observed: the fault window ends here.
    marks.errorStopSent = Date.now();
    await fis.send(new StopExperimentCommand({ id: error.experiment!.id! }));
    const stopped = await waitFor(error.experiment!.id!, ["stopped", "completed", "failed"]);
    marks.errorStop = Date.now();
    console.log(`  experiment ${error.experiment!.id} ${stopped.state?.status} by StopExperiment`);
    setPhase("recovery");
    await sleep(postS!);
  } finally {
    loadRunning = false;
    clearInterval(load);
    clearInterval(progress);
    await Promise.allSettled([...inFlight]);
    lambda.destroy();
    fis.destroy();
    await faultline.close();
    await lab.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return report(marks);
}

function report(marks: Record<string, number>): number {
  console.log("\n  phase       requests  errors  error rate      p50       p99");
  for (const p of ["pre", "delay", "post", "error", "recovery"] as Phase[]) {
    const s = samples.filter((x) => x.phase === p);
    const errors = s.filter((x) => x.error).length;
    const ms = s.map((x) => x.ms);
    console.log(
      `  ${p.padEnd(10)} ${String(s.length).padStart(9)} ${String(errors).padStart(7)} ${`${s.length ? Math.round((100 * errors) / s.length) : 0} %`.padStart(11)} ${fmt(percentile(ms, 50)).padStart(9)} ${fmt(percentile(ms, 99)).padStart(9)}`,
    );
  }
  const firstDelayed = samples.find((s) => s.startMs >= (marks.delayStart ?? 0) && s.ms >= 2000);
  const firstError = samples.find((s) => s.startMs >= (marks.errorStart ?? 0) && s.error);
  const timeToEffect = (first: Sample | undefined, start: number | undefined) =>
    first && start ? `${first.startMs - start} ms` : "never";
  console.log(
    `\n  time to effect: delay ${timeToEffect(firstDelayed, marks.delayStart)}, error ${timeToEffect(firstError, marks.errorStart)}`,
  );

  // What the faults mean, checked on what the caller saw (after the time to effect, before the end).
  const between = (from: number | undefined, to: number | undefined) =>
    samples.filter(
      (s) => from !== undefined && to !== undefined && s.startMs >= from && s.startMs + s.ms <= to,
    );
  const delayed = between(firstDelayed?.startMs, marks.delayEnd);
  const pre = samples.filter((s) => s.phase === "pre");
  const erroring = between(firstError && firstError.startMs + RAMP_MS, marks.errorStopSent);
  // Faults end at once on stop in the engine; the extension notices within one hot poll (1 s here).
  const recovered = samples.filter(
    (s) => marks.errorStop !== undefined && s.startMs >= marks.errorStop + 1500,
  );
  const checks: [string, boolean][] = [
    [
      "the delay shows: p50 rises by at least 2000 ms",
      percentile(
        delayed.map((s) => s.ms),
        50,
      ) -
        percentile(
          pre.map((s) => s.ms),
          50,
        ) >=
        2000,
    ],
    [
      "latency returns after the delay experiment",
      percentile(
        samples.filter((s) => s.phase === "post").map((s) => s.ms),
        50,
      ) < 1000,
    ],
    [
      `every invocation fails while the error fault is on (after the ${RAMP_MS} ms ramp across environments)`,
      erroring.length > 0 && erroring.every((s) => s.error),
    ],
    ["no errors once the experiment is stopped", recovered.length > 0 && recovered.every((s) => !s.error)],
  ];
  console.log("");
  for (const [what, ok] of checks) console.log(`  ${ok ? "ok  " : "FAIL"} ${what}`);
  return checks.every(([, ok]) => ok) ? 0 : 1;
}

process.exitCode = await main().catch((error: Error) => {
  console.error(`demo failed: ${error.stack ?? error.message}`);
  return 1;
});
