/** Builds a report's data: reads dashboards' metrics and the phase figures through a MetricSource. */
import {
  type BucketPoint,
  bucketSeries,
  DEFAULT_RECOVERY,
  measurePhases,
  type PhaseStats,
  phasesOf,
  type Recovery,
  timeToEffect,
  timeToRecover,
} from "./analysis.ts";
import type { ChartSeries, ChartWindow } from "./charts.ts";
import { type ChartWidget, type OtherWidget, parseDashboard } from "./dashboards.ts";
import { ReportInputError } from "./errors.ts";
import {
  ms,
  type PhaseMetrics,
  type ReportExperiment,
  type ReportInput,
  type ResolvedTarget,
  type StopConditionEvent,
} from "./model.ts";
import type { MetricQuery, MetricSource } from "./source.ts";

export interface TimelineEntry {
  name: string;
  actionId: string;
  status: string;
  reason?: string;
  startMs?: number;
  endMs?: number;
  parameters: Record<string, string>;
}

export interface ChartData {
  widget: ChartWidget;
  series: ChartSeries[];
}

export interface Report {
  title: string;
  experiment: ReportExperiment;
  window: ChartWindow;
  timeline: TimelineEntry[];
  resolvedTargets: ResolvedTarget[];
  stopConditionEvents: StopConditionEvent[];
  phases: PhaseStats[];
  timeToEffectMs?: number;
  effectNote: string;
  recovery: Recovery;
  recoveryBucketSeconds: number;
  charts: ChartData[];
  otherWidgets: OtherWidget[];
  generatedAtMs: number;
  /** True when the experiment was halted: stopped or failed. */
  halted: boolean;
}

export const FAULT_NAMESPACE = "aws-fis-extension";

/** The function name in a Lambda ARN (`arn:aws:lambda:r:acct:function:name[:qualifier]`) or the name itself. */
export function functionNameOf(arnOrName: string): string {
  const m = /:function:([^:]+)/.exec(arnOrName);
  return m ? m[1]! : arnOrName;
}

/** AWS/Lambda Invocations, Errors, Duration and aws-fis-extension FaultInjected of every resolved function. */
export function defaultPhaseMetrics(experiment: ReportExperiment, targets: ResolvedTarget[]): PhaseMetrics {
  const functions = [
    ...new Set(
      targets
        .filter((t) => t.resourceType === "aws:lambda:function")
        .map((t) => functionNameOf(t.targetInformation.arn ?? t.targetInformation.functionName ?? "")),
    ),
  ].filter((f) => f.length > 0);
  const actionIds = [
    ...new Set(
      Object.values(experiment.actions)
        .map((a) => a.actionId)
        .filter((id) => id.startsWith("aws:lambda:")),
    ),
  ];
  const fn = (metricName: string) =>
    functions.map((f) => ({ namespace: "AWS/Lambda", metricName, dimensions: { FunctionName: f } }));
  return {
    requests: fn("Invocations"),
    errors: fn("Errors"),
    latency: fn("Duration"),
    faultInjected: functions.flatMap((f) =>
      actionIds.map((id) => ({
        namespace: FAULT_NAMESPACE,
        metricName: "FaultInjected",
        dimensions: { FaultId: id, Invocation: f },
      })),
    ),
  };
}

export async function buildReport(input: ReportInput, source: MetricSource): Promise<Report> {
  const e = input.experiment;
  if (!e?.id) throw new ReportInputError("experiment.id", "is required");
  if (e.startTime === undefined)
    throw new ReportInputError("experiment.startTime", "is required (the experiment never started)");
  for (const f of ["preExperimentDurationMs", "postExperimentDurationMs"] as const) {
    if (!Number.isFinite(input[f]) || input[f] < 0)
      throw new ReportInputError(f, "must be a non-negative number of ms");
  }
  const generatedAtMs = input.generatedAt === undefined ? Date.now() : ms(input.generatedAt);
  const startMs = ms(e.startTime);
  const endMs = e.endTime === undefined ? generatedAtMs : ms(e.endTime);
  if (endMs < startMs) throw new ReportInputError("experiment.endTime", "is before startTime");
  const window: ChartWindow = {
    fromMs: startMs - input.preExperimentDurationMs,
    startMs,
    endMs,
    toMs: endMs + input.postExperimentDurationMs,
  };
  const targets = input.resolvedTargets ?? [];
  const metrics = input.phaseMetrics ?? defaultPhaseMetrics(e, targets);
  const phases = await measurePhases(
    source,
    phasesOf(startMs, endMs, input.preExperimentDurationMs, input.postExperimentDurationMs),
    metrics,
  );

  const effectPeriod = input.effectResolutionSeconds ?? 1;
  let timeToEffectMs: number | undefined;
  let effectNote = "no FaultInjected metric to read (no Lambda fault action or no resolved function)";
  if (metrics.faultInjected.length > 0 && endMs > startMs) {
    const data = await source.getMetricData(
      metrics.faultInjected.map((m, i) => ({ ...m, id: `fault${i}`, stat: "Sum", period: effectPeriod })),
      startMs,
      endMs,
    );
    timeToEffectMs = timeToEffect([...data.values()], startMs);
    effectNote =
      timeToEffectMs === undefined
        ? "no faulted invocation recorded (FaultInjected is emitted when AWS_FIS_EXTENSION_METRICS=all)"
        : `first FaultInjected datapoint, at ${effectPeriod} s resolution`;
  }

  const bucket = input.recoveryBucketSeconds ?? 5;
  const pre: BucketPoint[] = await bucketSeries(source, metrics, window.fromMs, startMs, bucket);
  const post: BucketPoint[] = await bucketSeries(source, metrics, endMs, window.toMs, bucket);
  const recovery =
    e.endTime === undefined
      ? { note: "the experiment has not ended" }
      : timeToRecover(pre, post, endMs, {
          ...DEFAULT_RECOVERY,
          tolerance: input.bandTolerance ?? DEFAULT_RECOVERY.tolerance,
        });

  const charts: ChartData[] = [];
  const otherWidgets: OtherWidget[] = [];
  for (const d of input.dashboards ?? []) {
    const parsed = parseDashboard(d);
    otherWidgets.push(...parsed.others);
    for (const widget of parsed.charts) charts.push({ widget, series: [] });
  }
  // One GetMetricData call per distinct period keeps it to a few calls for a whole dashboard.
  const queries: (MetricQuery & { chart: number; row: number })[] = [];
  charts.forEach((c, ci) => {
    c.widget.metrics.forEach((m, row) => {
      queries.push({ ...m, id: `w${ci}_${row}`, chart: ci, row });
    });
  });
  const byPeriod = new Map<number, typeof queries>();
  for (const q of queries) byPeriod.set(q.period, [...(byPeriod.get(q.period) ?? []), q]);
  for (const [, group] of byPeriod) {
    const data = await source.getMetricData(group, window.fromMs, window.toMs);
    for (const q of group) {
      const s = data.get(q.id);
      const m = charts[q.chart]!.widget.metrics[q.row]!;
      charts[q.chart]!.series[q.row] = {
        label: m.label,
        ...(m.color ? { color: m.color } : {}),
        yAxis: m.yAxis,
        points: (s?.timestamps ?? []).map((t, i) => [t, s!.values[i]!] as [number, number]),
      };
    }
  }

  const timeline: TimelineEntry[] = Object.entries(e.actions)
    .map(([name, a]) => ({
      name,
      actionId: a.actionId,
      status: a.state?.status ?? "unknown",
      ...(a.state?.reason ? { reason: a.state.reason } : {}),
      ...(a.startTime === undefined ? {} : { startMs: ms(a.startTime) }),
      ...(a.endTime === undefined ? {} : { endMs: ms(a.endTime) }),
      parameters: a.parameters ?? {},
    }))
    .sort(
      (a, b) =>
        (a.startMs ?? Number.POSITIVE_INFINITY) - (b.startMs ?? Number.POSITIVE_INFINITY) ||
        (a.name < b.name ? -1 : 1),
    );

  return {
    title: input.title ?? `Experiment report — ${e.id}`,
    experiment: e,
    window,
    timeline,
    resolvedTargets: targets,
    stopConditionEvents: [...(input.stopConditionEvents ?? [])].sort((a, b) => ms(a.time) - ms(b.time)),
    phases,
    ...(timeToEffectMs === undefined ? {} : { timeToEffectMs }),
    effectNote,
    recovery,
    recoveryBucketSeconds: bucket,
    charts,
    otherWidgets,
    generatedAtMs,
    halted: e.state.status === "stopped" || e.state.status === "failed",
  };
}
