/**
 * Metric alarms evaluated over the metric store, as CloudWatch does for a single-metric alarm:
 * the last `EvaluationPeriods` complete periods of `Period` seconds (ending at the last period boundary
 * before now), `DatapointsToAlarm` of them breaching → ALARM. Missing periods follow `TreatMissingData`:
 * `missing` (default; all missing → INSUFFICIENT_DATA), `ignore` (all missing → state kept),
 * `breaching`, `notBreaching`. A state set with SetAlarmState holds until the evaluation after one more period.
 */
import { MetricInputError } from "./errors.ts";
import { parseStatistic } from "./statistics.ts";
import type { MetricId, MetricStore } from "./store.ts";
import { isStandardUnit, type StandardUnit } from "./units.ts";

export type AlarmState = "OK" | "ALARM" | "INSUFFICIENT_DATA";
export const ALARM_STATES: readonly AlarmState[] = ["OK", "ALARM", "INSUFFICIENT_DATA"];
export type ComparisonOperator =
  | "GreaterThanOrEqualToThreshold"
  | "GreaterThanThreshold"
  | "LessThanThreshold"
  | "LessThanOrEqualToThreshold";
const COMPARE: Record<ComparisonOperator, { test: (v: number, t: number) => boolean; words: string }> = {
  GreaterThanOrEqualToThreshold: { test: (v, t) => v >= t, words: "greater than or equal to" },
  GreaterThanThreshold: { test: (v, t) => v > t, words: "greater than" },
  LessThanThreshold: { test: (v, t) => v < t, words: "less than" },
  LessThanOrEqualToThreshold: { test: (v, t) => v <= t, words: "less than or equal to" },
};
export type TreatMissingData = "missing" | "ignore" | "breaching" | "notBreaching";
const MISSING = new Set<string>(["missing", "ignore", "breaching", "notBreaching"]);

/** What PutMetricAlarm (or the lab config) declares. */
export interface AlarmDefinition {
  AlarmName: string;
  AlarmDescription?: string;
  ActionsEnabled?: boolean;
  Namespace: string;
  MetricName: string;
  Dimensions?: { Name: string; Value: string }[];
  /** One of Statistic (SampleCount…Maximum) or ExtendedStatistic (pNN). */
  Statistic?: string;
  ExtendedStatistic?: string;
  Period: number;
  Unit?: StandardUnit;
  EvaluationPeriods: number;
  DatapointsToAlarm?: number;
  Threshold: number;
  ComparisonOperator: ComparisonOperator;
  TreatMissingData?: TreatMissingData;
  AlarmActions?: string[];
  OKActions?: string[];
  InsufficientDataActions?: string[];
}

export interface Alarm {
  definition: AlarmDefinition;
  arn: string;
  state: AlarmState;
  stateReason: string;
  stateReasonData?: string;
  stateUpdatedMs: number;
  configUpdatedMs: number;
  /** Until then, a state set by SetAlarmState is not re-evaluated. */
  heldUntilMs: number;
}

export interface AlarmStateChange {
  alarmName: string;
  from: AlarmState;
  to: AlarmState;
  reason: string;
  atMs: number;
}

/** Checks a definition the way PutMetricAlarm does; errors name the field. */
export function validateAlarm(d: AlarmDefinition): AlarmDefinition {
  const need = (ok: boolean, field: string, message: string) => {
    if (!ok) throw new MetricInputError(field, message);
  };
  need(
    typeof d.AlarmName === "string" && d.AlarmName.length >= 1 && d.AlarmName.length <= 255,
    "AlarmName",
    "must be 1–255 characters",
  );
  need(
    typeof d.Namespace === "string" && d.Namespace.length > 0,
    "Namespace",
    "is required (metric math alarms are not supported)",
  );
  need(
    typeof d.MetricName === "string" && d.MetricName.length > 0,
    "MetricName",
    "is required (metric math alarms are not supported)",
  );
  need(
    (d.Statistic === undefined) !== (d.ExtendedStatistic === undefined),
    "Statistic",
    "exactly one of Statistic and ExtendedStatistic is required",
  );
  if (d.Statistic !== undefined) {
    need(
      ["SampleCount", "Sum", "Average", "Minimum", "Maximum"].includes(d.Statistic),
      "Statistic",
      `"${d.Statistic}" is not a statistic`,
    );
  }
  if (d.ExtendedStatistic !== undefined) {
    need(
      parseStatistic(d.ExtendedStatistic, "ExtendedStatistic").kind === "percentile",
      "ExtendedStatistic",
      "must be a percentile (pNN)",
    );
  }
  need(
    Number.isInteger(d.Period) &&
      d.Period >= 1 &&
      (d.Period <= 10 || d.Period === 20 || d.Period === 30 || d.Period % 60 === 0),
    "Period",
    "must be 10, 20, 30 or a multiple of 60 seconds (the lab also accepts 1–9 for short local runs)",
  );
  need(
    Number.isInteger(d.EvaluationPeriods) && d.EvaluationPeriods >= 1,
    "EvaluationPeriods",
    "must be a positive integer",
  );
  const m = d.DatapointsToAlarm ?? d.EvaluationPeriods;
  need(
    Number.isInteger(m) && m >= 1 && m <= d.EvaluationPeriods,
    "DatapointsToAlarm",
    "must be between 1 and EvaluationPeriods",
  );
  need(
    typeof d.Threshold === "number" && Number.isFinite(d.Threshold),
    "Threshold",
    "is required (a number)",
  );
  need(
    d.ComparisonOperator in COMPARE,
    "ComparisonOperator",
    `"${d.ComparisonOperator}" is not supported (${Object.keys(COMPARE).join(", ")})`,
  );
  need(
    d.TreatMissingData === undefined || MISSING.has(d.TreatMissingData),
    "TreatMissingData",
    "must be missing, ignore, breaching or notBreaching",
  );
  need(d.Unit === undefined || isStandardUnit(d.Unit), "Unit", `"${d.Unit}" is not a CloudWatch unit`);
  for (const [i, dim] of (d.Dimensions ?? []).entries()) {
    need(
      typeof dim?.Name === "string" && typeof dim.Value === "string",
      `Dimensions[${i}]`,
      "needs Name and Value",
    );
  }
  return d;
}

export function metricOf(d: AlarmDefinition): MetricId {
  return {
    namespace: d.Namespace,
    metricName: d.MetricName,
    dimensions: Object.fromEntries((d.Dimensions ?? []).map((x) => [x.Name, x.Value])),
  };
}

/** The state the alarm should be in at `nowMs`, with CloudWatch-style reason text. */
export function evaluate(
  store: MetricStore,
  alarm: Alarm,
  nowMs: number,
): { state: AlarmState; reason: string; reasonData: string } {
  const d = alarm.definition;
  const periodMs = d.Period * 1000;
  const end = Math.floor(nowMs / periodMs) * periodMs;
  const start = end - d.EvaluationPeriods * periodMs;
  const stat = d.Statistic ?? d.ExtendedStatistic!;
  const series = store.query(
    { metric: metricOf(d), period: d.Period, stat, ...(d.Unit ? { unit: d.Unit } : {}) },
    start,
    end,
  );
  const byStart = new Map(series.timestamps.map((t, i) => [t, series.values[i]!]));
  const compare = COMPARE[d.ComparisonOperator];
  const treat = d.TreatMissingData ?? "missing";
  const needed = d.DatapointsToAlarm ?? d.EvaluationPeriods;
  let breaching = 0;
  let present = 0;
  const recent: string[] = [];
  for (let t = end - periodMs; t >= start; t -= periodMs) {
    const v = byStart.get(t);
    if (v === undefined) {
      if (treat === "breaching") breaching++;
      continue;
    }
    present++;
    if (compare.test(v, d.Threshold)) breaching++;
    recent.push(`${v} (${new Date(t).toISOString()})`);
  }
  const reasonData = JSON.stringify({
    version: "1.0",
    queryDate: new Date(nowMs).toISOString(),
    startDate: new Date(start).toISOString(),
    statistic: stat,
    period: d.Period,
    recentDatapoints: series.values,
    threshold: d.Threshold,
    evaluatedDatapoints: series.timestamps.map((t, i) => ({
      timestamp: new Date(t).toISOString(),
      value: series.values[i],
    })),
  });
  if (present === 0 && (treat === "missing" || treat === "ignore")) {
    if (treat === "ignore") return { state: alarm.state, reason: alarm.stateReason, reasonData };
    return {
      state: "INSUFFICIENT_DATA",
      reason: `Insufficient Data: ${d.EvaluationPeriods} datapoint${d.EvaluationPeriods === 1 ? " was" : "s were"} unknown.`,
      reasonData,
    };
  }
  const crossed = breaching >= needed;
  const reason =
    `Threshold ${crossed ? "Crossed" : "not crossed"}: ${recent.length} datapoint${recent.length === 1 ? "" : "s"} ` +
    `[${recent.join(", ")}] ${crossed ? "was" : "was not"} ${compare.words} the threshold (${d.Threshold}).`;
  return { state: crossed ? "ALARM" : "OK", reason, reasonData };
}
