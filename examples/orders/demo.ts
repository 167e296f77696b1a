/**
 * The seed's demo in one command: the orders app (an API front → CreateOrder / GetOrder / DeleteOrder → DynamoDB)
 * in the lab with the faultline layer, a CloudWatch dashboard, steady load, and experiments with
 * `experimentReportConfiguration`: pre window, the experiment, post window, then the report (HTML, and PDF when
 * Chromium is installed) with the per-phase table, time to effect and time to recover.
 *
 *   npm run demo [-- --windows 15,30,15] [--rate 5] [--experiments delay,error] [--out DIR] [--summary FILE]
 *
 * `--experiments` also takes the gray-failure scenarios (`faultline scenarios list`), e.g. `brownout`: their
 * template is built with the scenario's defaults, its fault lasting the during window.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { CloudWatchClient, PutDashboardCommand } from "@aws-sdk/client-cloudwatch";
import { DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { serveFaultline } from "@faultline/api";
import { awsAccess, S3_CREDENTIALS, startLab } from "@faultline/lab";
import { SCENARIOS, scenarioNamed } from "@faultline/protocol/scenarios";
import {
  buildReport,
  CloudWatchMetricSource,
  type Report,
  type ReportExperiment,
  type ResolvedTarget,
  resolveReportConfiguration,
  writeReport,
} from "@faultline/report";
import { buildLayer } from "../../packages/extension/src/layer.ts";
import { buildFunctions } from "./build.ts";
import { LoadGenerator, type Sample, statsOf } from "./load.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
// Node 20 is what this machine has; the SDK's notice that Node 22 will be needed next year is noise in a demo.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
const KINDS = ["delay", "error", ...SCENARIOS.map((s) => s.name)];
/** One of the demo's own templates (templates/<kind>.json) or a scenario's name. */
type Kind = string;

const { values: args } = parseArgs({
  options: {
    windows: { type: "string", default: "15,30,15" },
    rate: { type: "string", default: "5" },
    experiments: { type: "string", default: "delay" },
    out: { type: "string", default: join(HERE, "reports") },
    summary: { type: "string" },
    pdf: { type: "string", default: "auto" },
  },
});

function usage(message: string): never {
  console.error(`demo: ${message}`);
  console.error(
    `usage: npm run demo -- [--windows PRE,DURING,POST seconds] [--rate N/s] [--experiments ${KINDS.join(",")}] [--out DIR] [--summary FILE] [--pdf auto|true|false]`,
  );
  process.exit(2);
}
const windows = (args.windows ?? "").split(",").map(Number);
const [preS, duringS, postS] = windows;
if (windows.length !== 3 || !windows.every((n) => Number.isInteger(n) && n > 0)) {
  usage("--windows takes three positive whole numbers of seconds: pre,during,post");
}
const rate = Number(args.rate);
if (!(rate > 0 && rate <= 100)) usage("--rate must be a number of requests per second between 0 and 100");
const kinds = (args.experiments ?? "").split(",").filter(Boolean) as Kind[];
if (kinds.length === 0 || kinds.some((k) => !KINDS.includes(k))) {
  usage(`--experiments takes a comma-separated list of ${KINDS.join(", ")}`);
}
if (!["auto", "true", "false"].includes(args.pdf ?? "")) usage("--pdf must be auto, true or false");
const pdf = args.pdf === "auto" ? "auto" : args.pdf === "true";
const outDir = resolve(args.out ?? join(HERE, "reports"));

/** What the demo measured, per experiment: the report's numbers and what the caller and DynamoDB saw. */
export interface ExperimentSummary {
  kind: Kind;
  id: string;
  status: string;
  reason?: string;
  startMs: number;
  endMs: number;
  report: {
    /** Who built the files: the engine (experimentReportConfiguration) or the demo (fallback). */
    by: "engine" | "demo";
    html?: string;
    pdf?: string;
    s3Reports: string[];
    phases: Report["phases"];
    timeToEffectMs?: number;
    timeToRecoverMs?: number;
    recoveryNote: string;
  };
  /** What the load generator saw; `effect` = requests started after FULL_EFFECT_MS and done 0.5 s before the end. */
  caller: Record<"pre" | "during" | "post" | "effect", ReturnType<typeof statsOf>>;
  /**
   * The handler's DynamoDB writes per window, by createdAt: the items in the table plus the ones the load generator
   * deleted (the only deleter).
   */
  writes: {
    pre: number;
    during: number /** from FULL_EFFECT_MS to the end */;
    afterEffect: number;
    post: number;
  };
}

/**
 * When every environment applies the fault: time to effect is the first faulted invocation anywhere, but each
 * environment's extension reads the fault objects on its own schedule — at most its slow poll interval
 * (AWS_FIS_SLOW_POLL_INTERVAL_SECONDS=2 in lab.json) after the start, plus a second for the read itself.
 */
const FULL_EFFECT_MS = 3000;
/** Seconds of steady load before the first pre window. */
const WARM_UP_S = 6;

const isTty = process.stdout.isTTY === true;
const say = (line: string) => {
  if (isTty) process.stdout.write("\r\x1b[K");
  console.log(line);
};
// Ctrl-C (or SIGTERM) ends the current wait; main's finally then stops the load, the engine and the lab, so no
// process is left behind.
const interrupted = new AbortController();
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    say(`\n  ${signal}: shutting down…`);
    interrupted.abort(new Error(`interrupted by ${signal}`));
  });
}
const sleep = (ms: number) =>
  new Promise<void>((resolve, reject) => {
    if (interrupted.signal.aborted) return reject(interrupted.signal.reason);
    const timer = setTimeout(() => {
      interrupted.signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(interrupted.signal.reason);
    };
    interrupted.signal.addEventListener("abort", onAbort, { once: true });
  });
const fmtMs = (ms: number | undefined) => (ms === undefined ? "-" : `${Math.round(ms)} ms`);
const fmtPct = (r: number | undefined) => (r === undefined ? "-" : `${(r * 100).toFixed(1)} %`);

async function main(): Promise<number> {
  const t0 = performance.now();
  say("faultline demo: orders API → Lambda (faultline layer) → DynamoDB");
  const [layer, built] = await Promise.all([buildLayer(), buildFunctions()]);
  say(
    `  built the layer (${layer.zipPath}) and 3 functions with the AWS SDK bundled (${Math.round(built.ms)} ms)`,
  );

  const lab = await startLab(join(HERE, "lab.json"));
  const dataDir = mkdtempSync(join(tmpdir(), "faultline-orders-"));
  const credentials = {
    accessKeyId: S3_CREDENTIALS.accessKeyId,
    secretAccessKey: S3_CREDENTIALS.secretAccessKey,
  };
  const clients = {
    cloudwatch: new CloudWatchClient({
      endpoint: lab.endpoints.cloudwatch,
      region: "us-east-1",
      credentials,
    }),
    dynamodb: new DynamoDBClient({ endpoint: lab.endpoints.dynamodb, region: "us-east-1", credentials }),
    s3: new S3Client({ endpoint: lab.endpoints.s3, region: "us-east-1", forcePathStyle: true, credentials }),
  };
  let faultline: Awaited<ReturnType<typeof serveFaultline>> | undefined;
  let load: LoadGenerator | undefined;
  let progress: NodeJS.Timeout | undefined;
  try {
    await clients.cloudwatch.send(
      new PutDashboardCommand({
        DashboardName: "orders",
        DashboardBody: readFileSync(join(HERE, "dashboard.json"), "utf8"),
      }),
    );
    faultline = await serveFaultline({
      dataDir,
      ...awsAccess(lab),
      log: () => {},
    });
    const api = lab.endpoints.apis.orders!;
    say(`  orders API ${api}   FIS API ${faultline.url}   CloudWatch ${lab.endpoints.cloudwatch}`);
    say(`  DynamoDB ${lab.endpoints.dynamodb}   S3 ${lab.endpoints.s3}`);

    // Cold starts belong to no phase: warm each function before the steady state is measured.
    load = new LoadGenerator({ url: api, rate });
    for (let i = 0; i < 4; i++) await Promise.all([load.fire(), load.fire(), load.fire()]);
    const ready = ((performance.now() - t0) / 1000).toFixed(1);
    say(`  ready in ${ready} s; load: ${rate} requests/s (40 % create, 40 % get, 20 % delete)\n`);

    let phaseEnd: number | undefined;
    let phaseStart = Date.now();
    const setPhase = (name: string, seconds?: number) => {
      load!.phase = name;
      phaseStart = Date.now();
      phaseEnd = seconds === undefined ? undefined : phaseStart + seconds * 1000;
    };
    const show = () => {
      const now = Date.now();
      const inPhase = load!.samples.filter((s) => s.phase === load!.phase);
      const recent = statsOf(load!.samples.filter((s) => s.startMs + s.ms >= now - 5000));
      const left =
        phaseEnd === undefined
          ? "  …"
          : `${String(Math.max(0, Math.ceil((phaseEnd - now) / 1000))).padStart(3)} s left`;
      const line =
        `  [${load!.phase.padEnd(12)}] ${left}  requests ${String(inPhase.length).padStart(4)}` +
        `  errors ${String(inPhase.filter((s) => s.error).length).padStart(4)}` +
        `  latency p50 ${fmtMs(recent.p50).padStart(8)} p99 ${fmtMs(recent.p99).padStart(8)} (last 5 s)`;
      if (isTty) process.stdout.write(`\r\x1b[K${line}`);
      else if (Math.round((now - phaseStart) / 1000) % 5 === 0) console.log(line);
    };
    load.start();
    progress = setInterval(show, 1000);
    // A few seconds of the steady load before the first window: fresh processes run slower until V8 has
    // compiled the hot paths, and a pre window that is slower than the post window moves the recovery band.
    setPhase("warm-up", WARM_UP_S);
    await sleep(WARM_UP_S * 1000);

    const summaries: ExperimentSummary[] = [];
    for (const kind of kinds) {
      setPhase(`pre ${kind}`, preS);
      await sleep(preS! * 1000);
      const template = experimentTemplate(kind, duringS!);
      template.experimentReportConfiguration.preExperimentDuration = `PT${preS}S`;
      template.experimentReportConfiguration.postExperimentDuration = `PT${postS}S`;
      const created = await fis(faultline.url, "POST", "/experimentTemplates", template);
      const started = await fis(faultline.url, "POST", "/experiments", {
        experimentTemplateId: created.experimentTemplate.id,
      });
      const id: string = started.experiment.id;
      setPhase(`during ${kind}`, duringS);
      say(`  experiment ${id} started (${template.description})`);
      let experiment: FisExperiment;
      for (;;) {
        experiment = (await fis(faultline.url, "GET", `/experiments/${id}`)).experiment;
        if (["completed", "stopped", "failed", "cancelled"].includes(experiment.state.status)) break;
        await sleep(250);
      }
      say(
        `  experiment ${id} ${experiment.state.status}${experiment.state.reason ? `: ${experiment.state.reason}` : ""}`,
      );
      setPhase(`post ${kind}`, postS);
      await sleep(postS! * 1000);
      setPhase(`report ${kind}`);
      summaries.push(
        await summarize(
          kind,
          id,
          faultline.url,
          lab.endpoints.cloudwatch,
          clients,
          load.samples,
          load.deletedCreatedAt,
        ),
      );
    }

    clearInterval(progress);
    progress = undefined;
    await load.stop();
    if (isTty) process.stdout.write("\r\x1b[K");
    for (const s of summaries) printSummary(s);
    if (args.summary) writeFileSync(args.summary, `${JSON.stringify(summaries, null, 2)}\n`);
    say(`\n  done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return summaries.every((s) => s.report.html) ? 0 : 1;
  } finally {
    if (progress) clearInterval(progress);
    await load?.stop();
    for (const c of Object.values(clients)) c.destroy();
    await faultline?.close();
    await lab.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * The template of one experiment, its fault lasting `seconds`: the demo's own (templates/<kind>.json) or a
 * scenario's, built with its defaults and the report configuration of the delay template.
 */
function experimentTemplate(kind: Kind, seconds: number) {
  const own = (name: string) => JSON.parse(readFileSync(join(HERE, "templates", `${name}.json`), "utf8"));
  if (kind === "delay" || kind === "error") {
    const template = own(kind);
    for (const action of Object.values(template.actions) as { parameters: Record<string, string> }[]) {
      action.parameters.duration = `PT${seconds}S`;
    }
    return template;
  }
  const scenario = scenarioNamed(kind);
  // A staged scenario (brownout) splits the during window between its stages.
  const stages = scenario.build().actions;
  const params: Record<string, string> =
    "stageSeconds" in scenario.parameters
      ? { stageSeconds: String(Math.max(1, Math.round(seconds / Object.keys(stages).length))) }
      : { durationSeconds: String(seconds) };
  const { experimentReportConfiguration, roleArn } = own("delay");
  return { ...scenario.build(params, { roleArn }), experimentReportConfiguration };
}

/** The FIS API's JSON (restJson1, times in epoch seconds). */
interface FisExperiment {
  id: string;
  experimentTemplateId?: string;
  state: { status: string; reason?: string };
  startTime?: number;
  endTime?: number;
  actions: Record<string, ReportExperiment["actions"][string] & { startTime?: number; endTime?: number }>;
  targets?: ReportExperiment["targets"];
  stopConditions?: ReportExperiment["stopConditions"];
  tags?: Record<string, string>;
  experimentReportConfiguration?: Parameters<typeof resolveReportConfiguration>[0];
  experimentReport?: {
    state?: { status?: string; reason?: string };
    s3Reports?: { arn: string; reportType: string }[];
  };
}

// Raw JSON rather than @aws-sdk/client-fis: the newest client in the registry (3.523.0, Feb 2024) predates
// experiment reports and would drop experimentReportConfiguration and experimentReport.
async function fis(endpoint: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${endpoint}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`FIS ${method} ${path}: HTTP ${res.status} ${text}`);
  return JSON.parse(text);
}

const toMs = (seconds: number | undefined) =>
  seconds === undefined ? undefined : Math.round(seconds * 1000);

async function summarize(
  kind: Kind,
  id: string,
  fisUrl: string,
  cloudwatchUrl: string,
  clients: { dynamodb: DynamoDBClient; s3: S3Client },
  samples: readonly Sample[],
  deletedCreatedAt: readonly number[],
): Promise<ExperimentSummary> {
  // The engine builds the report itself once the post window has passed; wait for it a little, if it does.
  let experiment: FisExperiment = (await fis(fisUrl, "GET", `/experiments/${id}`)).experiment;
  const deadline = Date.now() + 60_000;
  while (
    experiment.experimentReport &&
    !["completed", "failed", "cancelled"].includes(experiment.experimentReport.state?.status ?? "") &&
    Date.now() < deadline
  ) {
    await sleep(500);
    experiment = (await fis(fisUrl, "GET", `/experiments/${id}`)).experiment;
  }
  const targets: ResolvedTarget[] =
    (await fis(fisUrl, "GET", `/experiments/${id}/resolvedTargets`)).resolvedTargets ?? [];
  const startMs = toMs(experiment.startTime)!;
  const endMs = toMs(experiment.endTime) ?? Date.now();
  const reportExperiment: ReportExperiment = {
    id: experiment.id,
    ...(experiment.experimentTemplateId ? { experimentTemplateId: experiment.experimentTemplateId } : {}),
    state: experiment.state,
    startTime: startMs,
    endTime: endMs,
    actions: Object.fromEntries(
      Object.entries(experiment.actions).map(([name, a]) => [
        name,
        {
          ...a,
          ...(a.startTime === undefined ? {} : { startTime: toMs(a.startTime as number)! }),
          ...(a.endTime === undefined ? {} : { endTime: toMs(a.endTime as number)! }),
        },
      ]),
    ),
    ...(experiment.targets ? { targets: experiment.targets } : {}),
    ...(experiment.stopConditions ? { stopConditions: experiment.stopConditions } : {}),
    ...(experiment.tags ? { tags: experiment.tags } : {}),
  };
  // The report's numbers, from the same inputs the engine uses: the dashboards, the windows, the lab's CloudWatch.
  const source = CloudWatchMetricSource.forEndpoint(cloudwatchUrl);
  const configuration = experiment.experimentReportConfiguration ?? {
    preExperimentDuration: `PT${preS}S`,
    postExperimentDuration: `PT${postS}S`,
    dataSources: { cloudWatchDashboards: [{ dashboardIdentifier: "orders" }] },
  };
  const resolved = await resolveReportConfiguration(configuration, source);
  const report = await buildReport(
    { experiment: reportExperiment, resolvedTargets: targets, ...resolved, generatedAt: Date.now() },
    source,
  );
  source.client.destroy();

  const dir = join(outDir, id);
  mkdirSync(dir, { recursive: true });
  let by: "engine" | "demo" = "demo";
  let html: string | undefined;
  let pdfPath: string | undefined;
  const s3Reports = (experiment.experimentReport?.s3Reports ?? []).map((r) => r.arn);
  if (experiment.experimentReport?.state?.status === "completed" && s3Reports.length > 0) {
    // Fetch what the engine wrote to outputs.s3Configuration.
    by = "engine";
    for (const arn of s3Reports) {
      const [, bucket, key] = /^arn:aws:s3:::([^/]+)\/(.+)$/.exec(arn) ?? [];
      if (!bucket || !key) continue;
      const object = await clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const file = join(dir, key.split("/").pop()!);
      writeFileSync(file, await object.Body!.transformToByteArray());
      if (file.endsWith(".html")) html = file;
      if (file.endsWith(".pdf")) pdfPath = file;
    }
  } else {
    const written = await writeReport(report, { dir, pdf });
    html = written.html;
    pdfPath = written.pdf;
  }

  const callerIn = (phase: string) => statsOf(samples.filter((s) => s.phase === `${phase} ${kind}`));
  const writes = await countWrites(clients.dynamodb, deletedCreatedAt, {
    pre: [startMs - preS! * 1000, startMs],
    during: [startMs, endMs],
    afterEffect: [startMs + FULL_EFFECT_MS, endMs],
    post: [endMs, endMs + postS! * 1000],
  });
  return {
    kind,
    id,
    status: experiment.state.status,
    ...(experiment.state.reason ? { reason: experiment.state.reason } : {}),
    startMs,
    endMs,
    report: {
      by,
      ...(html ? { html } : {}),
      ...(pdfPath ? { pdf: pdfPath } : {}),
      s3Reports,
      phases: report.phases,
      ...(report.timeToEffectMs === undefined ? {} : { timeToEffectMs: report.timeToEffectMs }),
      ...(report.recovery.ms === undefined ? {} : { timeToRecoverMs: report.recovery.ms }),
      recoveryNote: report.recovery.note,
    },
    caller: {
      pre: callerIn("pre"),
      during: callerIn("during"),
      post: callerIn("post"),
      effect: statsOf(
        samples.filter((s) => s.startMs >= startMs + FULL_EFFECT_MS && s.startMs + s.ms <= endMs - 500),
      ),
    },
    writes,
  };
}

/** Orders by createdAt window: a Scan of the table the handlers write, plus the orders deleted since. */
async function countWrites<K extends string>(
  dynamodb: DynamoDBClient,
  deletedCreatedAt: readonly number[],
  windows: Record<K, [number, number]>,
): Promise<Record<K, number>> {
  const counts = Object.fromEntries(Object.keys(windows).map((k) => [k, 0])) as Record<K, number>;
  const count = (at: number) => {
    for (const [k, [from, to]] of Object.entries(windows) as [K, [number, number]][]) {
      if (at >= from && at < to) counts[k] += 1;
    }
  };
  for (const at of deletedCreatedAt) count(at);
  let ExclusiveStartKey: Record<string, import("@aws-sdk/client-dynamodb").AttributeValue> | undefined;
  do {
    const page = await dynamodb.send(new ScanCommand({ TableName: "Orders", ExclusiveStartKey }));
    for (const item of page.Items ?? []) count(Number(item.createdAt?.N));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return counts;
}

function printSummary(s: ExperimentSummary): void {
  say(`\n  ${s.kind} experiment ${s.id}: ${s.status}${s.reason ? ` (${s.reason})` : ""}`);
  say("    phase     requests/s  error rate        p50        p99   (report: AWS/Lambda metrics)");
  for (const p of s.report.phases) {
    say(
      `    ${p.name.padEnd(8)} ${(p.requestRate?.toFixed(2) ?? "-").padStart(11)} ${fmtPct(p.errorRate).padStart(11)} ${fmtMs(p.p50).padStart(10)} ${fmtMs(p.p99).padStart(10)}`,
    );
  }
  say(
    `    time to effect ${fmtMs(s.report.timeToEffectMs)}, time to recover ${fmtMs(s.report.timeToRecoverMs)} (${s.report.recoveryNote})`,
  );
  const c = s.caller;
  say(
    `    the caller saw p50 ${fmtMs(c.pre.p50)} → ${fmtMs(c.during.p50)} → ${fmtMs(c.post.p50)}, errors ${c.pre.errors}/${c.pre.requests} → ${c.during.errors}/${c.during.requests} → ${c.post.errors}/${c.post.requests}`,
  );
  say(
    `    orders written: pre ${s.writes.pre}, during ${s.writes.during} (once every environment had the fault: ${s.writes.afterEffect}), post ${s.writes.post}`,
  );
  say(
    `    report (${s.report.by}): ${s.report.html ?? "none"}${s.report.pdf ? `\n                   ${s.report.pdf}` : ""}`,
  );
}

process.exitCode = await main().catch((error: Error) => {
  if (interrupted.signal.aborted) {
    console.error("  demo interrupted: load, engine and lab stopped");
    return 130;
  }
  console.error(`\ndemo failed: ${error.stack ?? error.message}`);
  return 1;
});
