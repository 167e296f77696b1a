/**
 * What a report is made from. Field names follow FIS's API (GetExperiment, ListExperimentResolvedTargets), so an
 * experiment read with `@aws-sdk/client-fis` from real FIS or from faultline's API fits as is.
 */

/** Epoch ms or a Date (the FIS client returns Dates). */
export type Instant = number | Date;

export interface ReportAction {
  actionId: string;
  description?: string;
  parameters?: Record<string, string>;
  targets?: Record<string, string>;
  startAfter?: string[];
  state?: { status?: string; reason?: string };
  startTime?: Instant;
  endTime?: Instant;
}

export interface ReportExperiment {
  id: string;
  experimentTemplateId?: string;
  state: { status: string; reason?: string };
  startTime: Instant;
  /** Absent while running; the report then ends the window at `generatedAt`. */
  endTime?: Instant;
  actions: Record<string, ReportAction>;
  targets?: Record<string, { resourceType: string; selectionMode?: string }>;
  stopConditions?: { source: string; value?: string }[];
  tags?: Record<string, string>;
}

/** FIS's ResolvedTarget. */
export interface ResolvedTarget {
  resourceType: string;
  targetName: string;
  targetInformation: Record<string, string>;
}

/** A stop condition seen firing (or any alarm state change worth showing). */
export interface StopConditionEvent {
  time: Instant;
  /** e.g. the alarm ARN. */
  source: string;
  state: string;
  reason?: string;
}

/** One metric, as a dashboard row or a phase-table input names it. */
export interface MetricRef {
  namespace: string;
  metricName: string;
  dimensions: Record<string, string>;
}

/**
 * Which metrics the per-phase table reads. Requests and errors are summed over every metric listed (Sum);
 * latency percentiles are taken per metric over the whole phase, and the worst (highest) is shown.
 */
export interface PhaseMetrics {
  requests: MetricRef[];
  errors: MetricRef[];
  latency: MetricRef[];
  /** `FaultInjected` metrics (namespace `aws-fis-extension`); the first datapoint gives time to effect. */
  faultInjected: MetricRef[];
}

export interface DashboardInput {
  name: string;
  /** CloudWatch dashboard JSON: `{ widgets: [...] }`, as a string or parsed. */
  body: string | { widgets?: unknown[] };
}

export interface ReportInput {
  experiment: ReportExperiment;
  resolvedTargets?: ResolvedTarget[];
  stopConditionEvents?: StopConditionEvent[];
  dashboards?: DashboardInput[];
  /** Milliseconds before the start (FIS's preExperimentDuration). */
  preExperimentDurationMs: number;
  /** Milliseconds after the end (FIS's postExperimentDuration). */
  postExperimentDurationMs: number;
  /** Defaults to AWS/Lambda Invocations / Errors / Duration and FaultInjected of every resolved function. */
  phaseMetrics?: PhaseMetrics;
  /** Bucket of the recovery series, seconds (default 5; use 60 against real CloudWatch's standard resolution). */
  recoveryBucketSeconds?: number;
  /** Resolution of the time-to-effect search, seconds (default 1; 60 for standard-resolution metrics on AWS). */
  effectResolutionSeconds?: number;
  /** Relative slack of the pre-phase band (default 0.1 = 10 % of the pre-phase median). */
  bandTolerance?: number;
  /** When the report is made (default now); the end of the window of a running experiment. */
  generatedAt?: Instant;
  title?: string;
}

export const ms = (t: Instant): number => (typeof t === "number" ? t : t.getTime());
