/**
 * Per-second metrics of an experiment's resolved Lambda targets, for the console's live chart: the same
 * metrics a report reads (AWS/Lambda Invocations, Errors, Duration; the extension's FaultInjected), summed
 * over the targets. Latency percentiles cannot be merged across functions: the chart shows the highest.
 */
import type { Engine } from "@faultline/engine";
import { defaultPhaseMetrics, type MetricQuery, type MetricSource, type Series } from "@faultline/report";
import type { ExperimentMetrics } from "./console-types.ts";

/** Seconds shown before the experiment started (and after it ended). */
const MARGIN_MS = 30_000;
const MAX_TARGETS = 20;

export async function experimentMetrics(
  engine: Engine,
  source: MetricSource,
  id: string,
  nowMs: number,
): Promise<ExperimentMetrics> {
  const exp = engine.getExperiment(id);
  const targets = engine.listExperimentResolvedTargets(id, { maxResults: 100 }).resolvedTargets;
  const phase = defaultPhaseMetrics({ ...exp, startTime: exp.startTime ?? exp.creationTime }, targets);
  const functions = phase.requests.map((m) => m.dimensions.FunctionName!).slice(0, MAX_TARGETS);
  const startMs = exp.startTime?.getTime();
  const endMs = exp.endTime?.getTime();
  const anchor = startMs ?? exp.creationTime.getTime();
  const fromMs = Math.floor((anchor - MARGIN_MS) / 1000) * 1000;
  const toMs = Math.ceil(Math.min(nowMs, (endMs ?? nowMs) + MARGIN_MS) / 1000) * 1000;
  const out: ExperimentMetrics = {
    t: [],
    invocations: [],
    errors: [],
    p50: [],
    p99: [],
    faultInjected: [],
    functions,
    ...(startMs !== undefined ? { startMs } : {}),
    ...(endMs !== undefined ? { endMs } : {}),
  };
  if (functions.length === 0 || toMs <= fromMs) return out;
  const queries: MetricQuery[] = [];
  const fn = (metricName: string, stat: string, prefix: string) =>
    functions.forEach((f, i) => {
      queries.push({
        id: `${prefix}${i}`,
        namespace: "AWS/Lambda",
        metricName,
        dimensions: { FunctionName: f },
        stat,
        period: 1,
      });
    });
  fn("Invocations", "Sum", "inv");
  fn("Errors", "Sum", "err");
  fn("Duration", "p50", "pfifty");
  fn("Duration", "p99", "pninetynine");
  phase.faultInjected
    .filter((m) => functions.includes(m.dimensions.Invocation!))
    .forEach((m, i) => {
      queries.push({ ...m, id: `fault${i}`, stat: "Sum", period: 1 });
    });
  const data = await source.getMetricData(queries, fromMs, toMs);
  for (let t = fromMs; t < toMs; t += 1000) out.t.push(t);
  out.invocations = sumOf(data, "inv", out.t);
  out.errors = sumOf(data, "err", out.t);
  out.faultInjected = sumOf(data, "fault", out.t);
  out.p50 = maxOf(data, "pfifty", out.t);
  out.p99 = maxOf(data, "pninetynine", out.t);
  return out;
}

function seriesWith(data: Map<string, Series>, prefix: string): Series[] {
  return [...data.entries()].filter(([id]) => new RegExp(`^${prefix}\\d+$`).test(id)).map(([, s]) => s);
}

function sumOf(data: Map<string, Series>, prefix: string, t: number[]): number[] {
  const index = new Map(t.map((ms, i) => [ms, i]));
  const out = t.map(() => 0);
  for (const s of seriesWith(data, prefix)) {
    s.timestamps.forEach((ms, j) => {
      const i = index.get(Math.floor(ms / 1000) * 1000);
      const v = s.values[j]!;
      if (i !== undefined && Number.isFinite(v)) out[i]! += v;
    });
  }
  return out;
}

function maxOf(data: Map<string, Series>, prefix: string, t: number[]): (number | null)[] {
  const index = new Map(t.map((ms, i) => [ms, i]));
  const out: (number | null)[] = t.map(() => null);
  for (const s of seriesWith(data, prefix)) {
    s.timestamps.forEach((ms, j) => {
      const i = index.get(Math.floor(ms / 1000) * 1000);
      const v = s.values[j]!;
      if (i !== undefined && Number.isFinite(v)) out[i] = Math.max(out[i] ?? v, v);
    });
  }
  return out;
}
