/**
 * FIS-shaped data, as the API returns it. Times are Dates; the API renders them as epoch seconds. No imports and
 * nothing Node-only: the console's browser bundle imports these types and state lists.
 */

export interface TargetFilter {
  path: string;
  values: string[];
}
export interface TemplateTarget {
  resourceType: string;
  resourceArns?: string[];
  resourceTags?: Record<string, string>;
  filters?: TargetFilter[];
  selectionMode: string;
  parameters?: Record<string, string>;
}
export interface TemplateAction {
  actionId: string;
  description?: string;
  parameters?: Record<string, string>;
  targets?: Record<string, string>;
  startAfter?: string[];
}
export interface StopCondition {
  source: string;
  value?: string;
}
export interface LogConfiguration {
  cloudWatchLogsConfiguration?: { logGroupArn: string };
  s3Configuration?: { bucketName: string; prefix?: string };
  logSchemaVersion: number;
}
export interface TemplateExperimentOptions {
  accountTargeting?: "single-account" | "multi-account";
  emptyTargetResolutionMode?: "fail" | "skip";
}

/** The validated, storable body of a template (everything the caller controls). */
export interface TemplateBody {
  description: string;
  roleArn: string;
  targets: Record<string, TemplateTarget>;
  actions: Record<string, TemplateAction>;
  stopConditions: StopCondition[];
  logConfiguration?: LogConfiguration;
  experimentOptions: Required<TemplateExperimentOptions>;
  experimentReportConfiguration?: ExperimentReportConfiguration;
}

/** FIS's ExperimentReportConfiguration (template and experiment). */
export interface ExperimentReportConfiguration {
  outputs?: { s3Configuration?: { bucketName: string; prefix?: string } };
  dataSources?: { cloudWatchDashboards?: { dashboardIdentifier: string }[] };
  preExperimentDuration?: string;
  postExperimentDuration?: string;
}

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
