/**
 * `npm run bench -- rampup`: how soon a fault reaches a function, and how soon it leaves, with faultline's DEFAULT
 * settings (1 s change marker, 60 s list poll) beside AWS FIS's 60 s / 20 s polling emulated in the same run.
 *
 * Real lab functions (the built layer, Node, auto mode = in-process), the engine writing and deleting the fault
 * objects (invocation-error, preventExecution: a faulted invocation is unmistakable). Each function is invoked at
 * a fixed rate — 10/s (one function per setting), or once per 30 s (two, 15 s apart in phase) — for `RAMPUP_CYCLES`
 * cycles (default 2). Per cycle: an experiment started, then stopped once every function saw it (→ ramp-up, stop);
 * a 30 s experiment left to end (→ ramp-up, ramp-down). Every figure is measured from the engine's event (the
 * object written / deleted) or the fault's endTime to the start of the first invocation that shows the change,
 * with how many invocations started before that one (0: the very next invocation showed it). The lab runs in
 * this process: on a busy machine its own Invoke latency (reported) stretches every figure.
 * The once-per-30 s case has few samples (2 functions × 2 experiments × cycles): read its figures as examples.
 *
 * Also: the S3 requests per thawed environment-hour, counted on the lab's S3 over an hour of 1 s steps on an
 * injected clock (no fault, then a fault active all hour), and their price at S3 Standard us-east-1 list prices.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvokeCommand } from "@aws-sdk/client-lambda";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { Engine } from "../../packages/engine/src/index.ts";
import { FaultPoller, S3ObjectStore } from "../../packages/extension/src/index.ts";
import { buildLayer } from "../../packages/extension/src/layer.ts";
import { Logger } from "../../packages/extension/src/log.ts";
import { S3_CREDENTIALS, startLab, startS3 } from "../../packages/lab/src/index.ts";
import {
  changeMarkerKey,
  parseFaultConfig,
  serializeFaultConfig,
} from "../../packages/protocol/src/index.ts";
import { benchTemplate, FN_DIR, labSdkClients } from "./shared.ts";

/** AWS FIS's extension's polling, emulated with faultline's settings: 60 s idle, 20 s while a fault is active. */
const FIS_EMULATED = {
  AWS_FIS_SLOW_POLL_INTERVAL_SECONDS: "60",
  FAULTLINE_HOT_POLL_INTERVAL_SECONDS: "20",
  FAULTLINE_MARKER_INTERVAL_MILLISECONDS: "0",
  AWS_FIS_POLL_MAX_WAIT_MILLISECONDS: "0",
};
const SETTINGS = { defaults: {}, "fis-60s-20s": FIS_EMULATED } as const;
const RATES = [
  { rate: "10/s", periodMs: 100, copies: 1, phaseMs: 0 },
  { rate: "1/30s", periodMs: 30_000, copies: 2, phaseMs: 15_000 },
] as const;
/** Per phase, the longest wait for every function (FIS emulated at 1/30 s: ≤ 60 s poll + ≤ 30 s to the next call). */
const CAP_MS = { rampUp: 100_000, stop: 60_000, rampDown: 40_000 };
const SHORT_EXPERIMENT_S = 30;
/** S3 Standard, us-east-1 list prices per 1,000 requests. */
const PRICE_PER_1000 = { get: 0.0004, list: 0.005 };

interface Fn {
  name: string;
  group: string;
  seen: Array<{ startMs: number; faulted: boolean; ms: number }>;
}

export async function benchRampup(log: (line: string) => void) {
  const cycles = Number(process.env.RAMPUP_CYCLES ?? 2);
  const dir = mkdtempSync(join(tmpdir(), "faultline-bench-rampup-"));
  const layer = (await buildLayer({ out: join(dir, "faultline-layer.zip") })).zipPath;
  const fns: Fn[] = [];
  for (const [setting] of Object.entries(SETTINGS))
    for (const r of RATES)
      for (let c = 0; c < r.copies; c++)
        fns.push({
          name: `${setting}-${r.rate.replace("/", "per")}-${c}`,
          group: `${setting} @ ${r.rate}`,
          seen: [],
        });
  const lab = await startLab({
    buckets: ["faults"],
    functions: fns.map((f) => ({
      name: f.name,
      runtime: "nodejs20.x" as const,
      handler: "index.handler",
      code: FN_DIR,
      layers: [layer],
      timeout: 10,
      tags: { bench: "rampup" },
      environment: {
        AWS_LAMBDA_EXEC_WRAPPER: "/opt/faultline/bootstrap",
        AWS_FIS_CONFIGURATION_LOCATION: "arn:aws:s3:::faults/FisConfigs/",
        ...(f.name.startsWith("fis") ? FIS_EMULATED : {}),
      },
    })),
  });
  const clients = labSdkClients(lab, { maxAttempts: 1 });
  const { lambda, tagging, s3 } = clients;
  const engine = await Engine.open({ dataDir: join(dir, "data"), lambda, s3, tagging, log: () => {} });
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of [...waiters]) w();
  };
  /** Resolves when `done()` holds (checked after every invocation), or after `capMs`. */
  const until = (done: () => boolean, capMs: number) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        resolve();
      }, capMs);
      waiters.add(check);
      check();
    });

  let running = true;
  const loops = fns.map(async (f) => {
    const r = RATES.find((x) => f.name.includes(x.rate.replace("/", "per")))!;
    const copy = Number(f.name.at(-1));
    await new Promise((resolve) => setTimeout(resolve, r.phaseMs * copy));
    let next = Date.now();
    while (running) {
      const startMs = Date.now();
      const out = await lambda.send(new InvokeCommand({ FunctionName: f.name, Payload: "{}" }));
      f.seen.push({ startMs, faulted: out.FunctionError !== undefined, ms: Date.now() - startMs });
      wake();
      next = Math.max(next + r.periodMs, Date.now());
      while (running && Date.now() < next)
        await new Promise((resolve) => setTimeout(resolve, Math.min(500, next - Date.now())));
    }
  });

  // Samples, per group and kind, in ms.
  const samples = new Map<string, number[]>();
  const missed = new Map<string, number>();
  /** A sample: ms from the change to the first invocation showing it, and how many started before it did. */
  const add = (f: Fn, kind: string, ms: number | undefined, fromMs?: number) => {
    const key = `${f.group} | ${kind}`;
    if (ms === undefined || fromMs === undefined) {
      missed.set(key, (missed.get(key) ?? 0) + 1);
      return;
    }
    samples.set(key, [...(samples.get(key) ?? []), ms]);
    const late = f.seen.filter((i) => i.startMs > fromMs && i.startMs < fromMs + ms).length;
    lates.set(key, [...(lates.get(key) ?? []), late]);
  };
  const lates = new Map<string, number[]>();
  /** Start of the first invocation started after `sinceMs` whose fault state is `faulted`. */
  const first = (f: Fn, sinceMs: number, faulted: boolean) =>
    f.seen.find((i) => i.startMs > sinceMs && i.faulted === faulted)?.startMs;
  const at = (kind: "written" | "deleted") => {
    const times = new Map<string, number>();
    const on = (e: { key: string; change: string }) => {
      if (e.change !== kind) return;
      const fn = fns.find((f) => e.key.includes(`/${f.name}/`));
      if (fn && !times.has(fn.name)) times.set(fn.name, Date.now());
    };
    engine.events.on("fault-object", on);
    return { times, off: () => engine.events.off("fault-object", on) };
  };

  /**
   * Makes a change (`ramp-up`: an experiment starts, the engine writes the fault objects; `stop`: it deletes them),
   * waits until every function showed it (or `capMs`), then records each function's figure.
   */
  const recordChange = async <T>(kind: "ramp-up" | "stop", capMs: number, change: () => T | Promise<T>) => {
    const faulted = kind === "ramp-up";
    const events = at(faulted ? "written" : "deleted");
    const result = await change();
    await until(
      () =>
        fns.every(
          (f) => events.times.has(f.name) && first(f, events.times.get(f.name)!, faulted) !== undefined,
        ),
      capMs,
    );
    for (const f of fns) {
      const changedMs = events.times.get(f.name);
      const shown = changedMs === undefined ? undefined : first(f, changedMs, faulted);
      add(f, kind, shown === undefined || changedMs === undefined ? undefined : shown - changedMs, changedMs);
    }
    events.off();
    return result;
  };

  const template = (duration: string) =>
    benchTemplate(
      engine,
      { bench: "rampup" },
      {
        name: "err",
        actionId: "aws:lambda:invocation-error",
        parameters: { duration, preventExecution: "true" },
      },
      "rampup bench",
    );
  const long = await template("PT5M");
  const short = await template(`PT${SHORT_EXPERIMENT_S}S`);
  // Warm: every function past its cold start (the 1/30 s ones invoked at least once).
  await until(() => fns.every((f) => f.seen.length > 0), 60_000);
  const started = Date.now();
  try {
    for (let cycle = 1; cycle <= cycles; cycle++) {
      log(`rampup: cycle ${cycle}/${cycles}: experiment started, waiting for every function to be faulted`);
      const x = await recordChange("ramp-up", CAP_MS.rampUp, () =>
        engine.startExperiment({ experimentTemplateId: long.id }),
      );
      log(`rampup: cycle ${cycle}: stopping`);
      await recordChange("stop", CAP_MS.stop, () => engine.stopExperiment(x.id));
      await engine.settled(x.id);

      log(`rampup: cycle ${cycle}: a ${SHORT_EXPERIMENT_S} s experiment, left to end`);
      const written2 = at("written");
      const y = await engine.startExperiment({ experimentTemplateId: short.id });
      await engine.idle(y.id);
      const key = `FisConfigs/${fns[0]!.name}/${y.id}/err.json`;
      const body = await (
        await s3.send(new GetObjectCommand({ Bucket: "faults", Key: key }))
      ).Body!.transformToString();
      const endMs = parseFaultConfig(body).endMs;
      await until(
        () => fns.every((f) => first(f, endMs, false) !== undefined),
        endMs - Date.now() + CAP_MS.rampDown,
      );
      for (const f of fns) {
        const w = written2.times.get(f.name);
        const hit = w === undefined ? undefined : first(f, w, true);
        // Ramp-up counts only if the fault was seen before its end; a miss is counted as such.
        add(f, "ramp-up", hit !== undefined && w !== undefined && hit < endMs ? hit - w : undefined, w);
        const wasFaulted = f.seen.some((i) => i.faulted && i.startMs > (w ?? endMs) && i.startMs < endMs);
        const clear = first(f, endMs, false);
        if (wasFaulted) add(f, "ramp-down", clear === undefined ? undefined : clear - endMs, endMs);
      }
      written2.off();
      await engine.settled(y.id);
    }
  } finally {
    running = false;
    await Promise.all(loops);
  }
  const invocationSeconds = (Date.now() - started) / 1000;
  const cost = await requestsPerHour();

  await engine.close();
  clients.destroy();
  await lab.stop();
  rmSync(dir, { recursive: true, force: true });

  const figures: Record<string, unknown> = { cycles, seconds: Math.round(invocationSeconds) };
  for (const [key, values] of [...samples.entries()].sort()) {
    figures[key] = summary(values);
    const late = [...(lates.get(key) ?? [])].sort((a, b) => a - b);
    figures[`${key} | invocations before it showed`] =
      `median ${late[Math.floor(late.length / 2)]}, max ${late.at(-1)}`;
  }
  // The lab's own Invoke latency in this run: the machine's load, beside which the figures above are read.
  for (const group of new Set(fns.map((f) => f.group))) {
    const ms = fns
      .filter((f) => f.group === group)
      .flatMap((f) => f.seen.map((i) => i.ms))
      .sort((a, b) => a - b);
    figures[`${group} | Invoke latency p50 / p99 (ms)`] =
      `${ms[Math.floor(ms.length / 2)]} / ${ms[Math.floor(ms.length * 0.99)]}`;
  }
  for (const [key, count] of [...missed.entries()].sort())
    figures[`${key} | not seen within the cap`] = count;
  figures["S3 requests per thawed environment-hour"] = cost;
  return figures;
}

function summary(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) =>
    (sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! / 1000).toFixed(2);
  return `n=${sorted.length} min ${at(0)} s, median ${at(0.5)} s, max ${at(1)} s`;
}

/**
 * Requests one environment thawed for an hour sends, counted on the lab's S3 with an injected clock stepped a
 * second at a time (an environment invoked at least once a second): marker checks (conditional GETs, 304), LISTs
 * and object GETs — with the defaults, with no marker and a 1 s list poll (the tuned setting the issue measured),
 * and with FIS's intervals.
 */
async function requestsPerHour() {
  const s3 = await startS3({ buckets: ["faults"] });
  const location = { bucket: "faults", prefix: "cost/" };
  const writer = new S3Client({
    region: "us-east-1",
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: S3_CREDENTIALS,
    requestChecksumCalculation: "WHEN_REQUIRED",
  });
  await writer.send(
    new PutObjectCommand({ Bucket: "faults", Key: changeMarkerKey(location, "fn"), Body: "1" }),
  );
  const out: Record<string, string> = {};
  const variants = [
    { name: "defaults (1 s marker, 60 s / 5 s list)", slow: 60_000, hot: 5000, marker: 1000 },
    { name: "no marker, 1 s list poll", slow: 1000, hot: 1000, marker: 0 },
    { name: "FIS 60 s / 20 s", slow: 60_000, hot: 20_000, marker: 0 },
  ];
  for (const active of [false, true]) {
    const fault = `cost/fn/EXP/err.json`;
    if (active) {
      const now = Date.now();
      await writer.send(
        new PutObjectCommand({
          Bucket: "faults",
          Key: fault,
          Body: serializeFaultConfig({
            version: 1,
            experimentId: "EXP",
            actionName: "err",
            actionId: "aws:lambda:invocation-error",
            parameters: { preventExecution: true, invocationPercentage: 100 },
            startTime: new Date(now - 1000).toISOString(),
            endTime: new Date(now + 7_200_000).toISOString(),
          } as Parameters<typeof serializeFaultConfig>[0]),
        }),
      );
    }
    for (const v of variants) {
      let now = Date.now();
      const clock = { now: () => now, sleep: async () => {} };
      const store = new S3ObjectStore("faults", {
        endpoint: s3.endpoint,
        region: "us-east-1",
        ...S3_CREDENTIALS,
      });
      const poller = new FaultPoller({
        store,
        prefix: "cost/fn/",
        functionName: "fn",
        clock,
        log: new Logger({
          level: "ERROR",
          format: "text",
          metrics: false,
          functionName: "fn",
          clock,
          write: () => {},
        }),
        slowPollMs: v.slow,
        hotPollMs: v.hot,
        marker: { key: changeMarkerKey(location, "fn"), checkMs: v.marker },
      });
      await poller.poll();
      const base = { requests: store.requestCount, lists: poller.polls, checks: poller.markerChecks };
      for (let s = 0; s < 3600; s++) {
        now += 1000;
        await poller.refresh();
      }
      const checks = poller.markerChecks - base.checks;
      const lists = poller.polls - base.lists;
      const gets = store.requestCount - base.requests - checks - lists;
      const dollars = ((checks + gets) * PRICE_PER_1000.get + lists * PRICE_PER_1000.list) / 1000;
      out[`${active ? "fault active" : "idle"}, ${v.name}`] =
        `${checks} marker GETs + ${lists} LISTs + ${gets} GETs = $${dollars.toFixed(5)}`;
      poller.stop();
      store.close();
    }
  }
  writer.destroy();
  await s3.close();
  return out;
}
