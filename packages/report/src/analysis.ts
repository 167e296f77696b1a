/**
 * The figures of a report: per-phase statistics, time to effect and time to recover.
 *
 * Phases: pre = [start − preExperimentDuration, start), during = [start, end), post = [end, end + postExperimentDuration).
 *
 * Time to effect: experiment start → the first period with a `FaultInjected` datapoint > 0 (at the resolution
 * of that search, 1 s by default), clamped at 0.
 *
 * Time to recover — the pre-phase band: the pre window is cut into buckets of `recoveryBucketSeconds`; for each
 * bucket with requests we take the error rate (errors / requests) and the p50 latency (worst over the latency
 * metrics). A metric's band is [min − slack, max + slack] of its pre buckets, slack = tolerance × median of the
 * pre buckets + a floor (5 ms for latency, 1 percentage point for error rate). The post window is cut the same
 * way from the experiment's end. The experiment has recovered at the first post bucket that has data, is inside
 * every band, and is followed by `consecutive − 1` more such buckets (or by the end of the post window);
 * buckets without requests are skipped. Time to recover = that bucket's start − experiment end, clamped at 0.
 */
import type { PhaseMetrics } from "./model.ts";
import type { MetricQuery, MetricSource, Series } from "./source.ts";

export type PhaseName = "pre" | "during" | "post";

export interface Phase {
  name: PhaseName;
  startMs: number;
  endMs: number;
}

export interface PhaseStats extends Phase {
  requests: number;
  errors: number;
  /** Requests per second. */
  requestRate?: number;
  /** 0..1; undefined without requests. */
  errorRate?: number;
  p50?: number;
  p99?: number;
}

export interface Band {
  lo: number;
  hi: number;
}

/** One bucket of the recovery series. */
export interface BucketPoint {
  t: number;
  errorRate?: number;
  p50?: number;
}

export interface Recovery {
  ms?: number;
  /** Why there is no figure, or how it was reached. */
  note: string;
  latencyBand?: Band;
  errorBand?: Band;
}

export interface RecoveryOptions {
  tolerance: number;
  consecutive: number;
  latencyFloorMs: number;
  errorRateFloor: number;
}

export const DEFAULT_RECOVERY: RecoveryOptions = {
  tolerance: 0.1,
  consecutive: 3,
  latencyFloorMs: 5,
  errorRateFloor: 0.01,
};

export function phasesOf(startMs: number, endMs: number, preMs: number, postMs: number): Phase[] {
  return [
    { name: "pre", startMs: startMs - preMs, endMs: startMs },
    { name: "during", startMs, endMs },
    { name: "post", startMs: endMs, endMs: endMs + postMs },
  ];
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The band of a metric's pre-phase bucket values, or undefined without any. */
export function bandOf(values: readonly number[], tolerance: number, floor: number): Band | undefined {
  if (values.length === 0) return undefined;
  const slack = tolerance * Math.abs(median(values)) + floor;
  return { lo: Math.min(...values) - slack, hi: Math.max(...values) + slack };
}

const inside = (v: number | undefined, b: Band | undefined) =>
  v === undefined || b === undefined || (v >= b.lo && v <= b.hi);
const hasData = (p: BucketPoint) => p.errorRate !== undefined || p.p50 !== undefined;

export function timeToRecover(
  pre: readonly BucketPoint[],
  post: readonly BucketPoint[],
  endMs: number,
  options: RecoveryOptions = DEFAULT_RECOVERY,
): Recovery {
  const latencyBand = bandOf(
    pre.flatMap((p) => (p.p50 === undefined ? [] : [p.p50])),
    options.tolerance,
    options.latencyFloorMs,
  );
  const errorBand = bandOf(
    pre.flatMap((p) => (p.errorRate === undefined ? [] : [p.errorRate])),
    options.tolerance,
    options.errorRateFloor,
  );
  const bands = { ...(latencyBand ? { latencyBand } : {}), ...(errorBand ? { errorBand } : {}) };
  if (!latencyBand && !errorBand) return { note: "no pre-phase data to define the band", ...bands };
  const data = post.filter(hasData);
  if (data.length === 0) return { note: "no post-phase data", ...bands };
  for (let i = 0; i < data.length; i++) {
    const run = data.slice(i, i + options.consecutive);
    if (run.every((p) => inside(p.p50, latencyBand) && inside(p.errorRate, errorBand))) {
      return { ms: Math.max(0, data[i]!.t - endMs), note: "back inside the pre-phase band", ...bands };
    }
  }
  return { note: "not back inside the pre-phase band within the post window", ...bands };
}

/** Experiment start → first period with FaultInjected > 0, or undefined. */
export function timeToEffect(series: readonly Series[], startMs: number): number | undefined {
  let first: number | undefined;
  for (const s of series) {
    s.timestamps.forEach((t, i) => {
      if ((s.values[i] ?? 0) > 0 && (first === undefined || t < first)) first = t;
    });
  }
  return first === undefined ? undefined : Math.max(0, first - startMs);
}

/** A period CloudWatch accepts that covers `durationMs`: 1, 5, 10, 30, 60 or a multiple of 60 seconds. */
export function periodCovering(durationMs: number): number {
  const s = Math.max(1, Math.ceil(durationMs / 1000));
  for (const p of [1, 5, 10, 30, 60]) if (s <= p) return p;
  return Math.ceil(s / 60) * 60;
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
const maxOf = (values: readonly (number | undefined)[]) => {
  const defined = values.filter((v): v is number => v !== undefined && !Number.isNaN(v));
  return defined.length === 0 ? undefined : Math.max(...defined);
};

function queriesFor(m: PhaseMetrics, period: number, stats: { latency: string[] }): MetricQuery[] {
  return [
    ...m.requests.map((r, i) => ({ ...r, id: `req${i}`, stat: "Sum", period })),
    ...m.errors.map((r, i) => ({ ...r, id: `err${i}`, stat: "Sum", period })),
    ...m.latency.flatMap((r, i) =>
      stats.latency.map((stat) => ({ ...r, id: `lat${i}_${stat.replace(".", "_")}`, stat, period })),
    ),
  ];
}

/** Per-phase request rate, error rate, p50 and p99, one GetMetricData call per phase. */
export async function measurePhases(
  source: MetricSource,
  phases: Phase[],
  m: PhaseMetrics,
): Promise<PhaseStats[]> {
  const out: PhaseStats[] = [];
  for (const phase of phases) {
    const duration = phase.endMs - phase.startMs;
    if (duration <= 0) {
      out.push({ ...phase, requests: 0, errors: 0 });
      continue;
    }
    const period = periodCovering(duration);
    const data = await source.getMetricData(
      queriesFor(m, period, { latency: ["p50", "p99"] }),
      phase.startMs,
      phase.endMs,
    );
    const total = (prefix: string, n: number) =>
      sum(Array.from({ length: n }, (_, i) => sum(data.get(`${prefix}${i}`)?.values ?? [])));
    const worst = (stat: string) =>
      maxOf(m.latency.flatMap((_, i) => data.get(`lat${i}_${stat}`)?.values ?? []));
    const requests = total("req", m.requests.length);
    const errors = total("err", m.errors.length);
    out.push({
      ...phase,
      requests,
      errors,
      ...(m.requests.length > 0 ? { requestRate: requests / (duration / 1000) } : {}),
      ...(requests > 0 ? { errorRate: errors / requests } : {}),
      ...optional("p50", worst("p50")),
      ...optional("p99", worst("p99")),
    });
  }
  return out;
}

/** The recovery series of a window: one BucketPoint per bucket that has any datapoint. */
export async function bucketSeries(
  source: MetricSource,
  m: PhaseMetrics,
  startMs: number,
  endMs: number,
  bucketSeconds: number,
): Promise<BucketPoint[]> {
  if (endMs <= startMs) return [];
  const data = await source.getMetricData(queriesFor(m, bucketSeconds, { latency: ["p50"] }), startMs, endMs);
  const at = (id: string) => {
    const s = data.get(id);
    return new Map((s?.timestamps ?? []).map((t, i) => [t, s!.values[i]!]));
  };
  const req = m.requests.map((_, i) => at(`req${i}`));
  const err = m.errors.map((_, i) => at(`err${i}`));
  const lat = m.latency.map((_, i) => at(`lat${i}_p50`));
  const times = new Set<number>();
  for (const series of [...req, ...err, ...lat]) for (const t of series.keys()) times.add(t);
  return [...times]
    .sort((a, b) => a - b)
    .map((t) => {
      const requests = sum(req.map((s) => s.get(t) ?? 0));
      const errors = sum(err.map((s) => s.get(t) ?? 0));
      return {
        t,
        ...(requests > 0 ? { errorRate: errors / requests } : {}),
        ...optional("p50", maxOf(lat.map((s) => s.get(t)))),
      };
    });
}

function optional<K extends string>(key: K, v: number | undefined): { [P in K]?: number } {
  return (v === undefined ? {} : { [key]: v }) as { [P in K]?: number };
}
