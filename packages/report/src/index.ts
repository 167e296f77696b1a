export {
  type Band,
  type BucketPoint,
  bandOf,
  bucketSeries,
  DEFAULT_RECOVERY,
  measurePhases,
  median,
  type Phase,
  type PhaseName,
  type PhaseStats,
  periodCovering,
  phasesOf,
  type Recovery,
  type RecoveryOptions,
  timeToEffect,
  timeToRecover,
} from "./analysis.ts";
export {
  type ActionMark,
  type ChartSeries,
  type ChartWindow,
  renderChart,
  WINDOW_FILL,
  WINDOW_OPACITY,
} from "./charts.ts";
export {
  CHROMIUM_ARGS,
  type ChromiumOptions,
  findChromium,
  printToPdf,
  screenshot,
} from "./chromium.ts";
export {
  type ChartWidget,
  type OtherWidget,
  type ParsedDashboard,
  parseDashboard,
  type WidgetMetric,
} from "./dashboards.ts";
export { parseIsoDuration } from "./duration.ts";
export {
  ChromiumError,
  ReportInputError,
} from "./errors.ts";
export {
  DEFAULT_WINDOW,
  type ExperimentReportConfiguration,
  type ResolvedReportConfiguration,
  resolveReportConfiguration,
} from "./fis-config.ts";
export {
  type ExperimentReportState,
  type GeneratedReport,
  type GenerateOptions,
  generateExperimentReport,
  type ReportUploader,
} from "./generate.ts";
export { duration as formatDuration, renderHtml } from "./html.ts";
export {
  type DashboardInput,
  type Instant,
  type MetricRef,
  ms,
  type PhaseMetrics,
  type ReportAction,
  type ReportExperiment,
  type ReportInput,
  type ResolvedTarget,
  type StopConditionEvent,
} from "./model.ts";
export {
  buildReport,
  type ChartData,
  defaultPhaseMetrics,
  FAULT_NAMESPACE,
  functionNameOf,
  type Report,
  type TimelineEntry,
} from "./report.ts";
export {
  CloudWatchMetricSource,
  type DashboardSource,
  dashboardName,
  type MetricQuery,
  type MetricSource,
  type Series,
} from "./source.ts";
export {
  type WriteOptions,
  type WrittenReport,
  writeReport,
} from "./write.ts";
