/**
 * A template's FIS-shaped body, as CreateExperimentTemplate takes it and the API returns it. No imports and
 * nothing Node-only: the console's browser bundle imports these types (through @faultline/engine/model).
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
