/**
 * FIS-shaped data, as the API returns it. Times are Dates; the API renders them as epoch seconds. Type imports only
 * and nothing Node-only: the console's browser bundle imports these types and state lists.
 */
import type {
  ExperimentReportConfiguration,
  LogConfiguration,
  StopCondition,
  TemplateAction,
  TemplateBody,
  TemplateTarget,
} from "@faultline/rules";

export type {
  ExperimentReportConfiguration,
  LogConfiguration,
  StopCondition,
  TargetFilter,
  TemplateAction,
  TemplateBody,
  TemplateExperimentOptions,
  TemplateTarget,
} from "@faultline/rules";

export type ReportStatus = "pending" | "running" | "completed" | "failed" | "cancelled";

/** FIS's `Experiment.experimentReport`. */
export interface ExperimentReport {
  state: { status: ReportStatus; reason: string };
  s3Reports: { arn: string; reportType: string }[];
}

/** A stop condition that fired (or could not be read), for the report. */
export interface StopConditionEvent {
  time: Date;
  source: string;
  state: string;
  reason?: string;
}

export interface ExperimentTemplate extends TemplateBody {
  id: string;
  arn: string;
  creationTime: Date;
  lastUpdateTime: Date;
  tags: Record<string, string>;
  targetAccountConfigurationsCount: number;
}

/** FIS's ExperimentStatus values, in lifecycle order (lifecycle.ts has their transitions; the console lists them). */
export const EXPERIMENT_STATUSES = [
  "pending",
  "initiating",
  "running",
  "completed",
  "stopping",
  "stopped",
  "failed",
  "cancelled",
] as const;
export type ExperimentStatus = (typeof EXPERIMENT_STATUSES)[number];
/** FIS's ExperimentActionStatus values. */
export const ACTION_STATUSES = [
  "pending",
  "initiating",
  "running",
  "completed",
  "cancelled",
  "stopping",
  "stopped",
  "failed",
  "skipped",
] as const;
export type ActionStatus = (typeof ACTION_STATUSES)[number];

export const TERMINAL_EXPERIMENT: ReadonlySet<ExperimentStatus> = new Set([
  "completed",
  "stopped",
  "failed",
  "cancelled",
]);
export const TERMINAL_ACTION: ReadonlySet<ActionStatus> = new Set([
  "completed",
  "cancelled",
  "stopped",
  "failed",
  "skipped",
]);

export interface ExperimentAction extends TemplateAction {
  state: { status: ActionStatus; reason: string };
  startTime?: Date;
  endTime?: Date;
}

export interface Experiment {
  id: string;
  arn: string;
  experimentTemplateId: string;
  roleArn: string;
  state: { status: ExperimentStatus; reason: string; error?: { code: string; location?: string } };
  targets: Record<string, TemplateTarget>;
  actions: Record<string, ExperimentAction>;
  stopConditions: StopCondition[];
  creationTime: Date;
  startTime?: Date;
  endTime?: Date;
  tags: Record<string, string>;
  logConfiguration?: LogConfiguration;
  experimentReportConfiguration?: ExperimentReportConfiguration;
  experimentReport?: ExperimentReport;
  experimentOptions: {
    accountTargeting: string;
    emptyTargetResolutionMode: string;
    actionsMode: "run-all" | "skip-all";
  };
  targetAccountConfigurationsCount: number;
}

/** One resolved target resource, FIS's `ResolvedTarget`. */
export interface ResolvedTarget {
  resourceType: string;
  targetName: string;
  targetInformation: Record<string, string>;
}
