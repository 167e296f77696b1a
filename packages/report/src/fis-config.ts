/** FIS's `experimentReportConfiguration` → the windows and dashboards of a report. */
import { parseIsoDuration } from "./duration.ts";
import { ReportInputError } from "./errors.ts";
import type { DashboardInput } from "./model.ts";
import { type DashboardSource, dashboardName } from "./source.ts";

/** The shape of FIS's ExperimentReportConfiguration (template and experiment). */
export interface ExperimentReportConfiguration {
  outputs?: { s3Configuration?: { bucketName: string; prefix?: string } };
  dataSources?: { cloudWatchDashboards?: { dashboardIdentifier: string }[] };
  preExperimentDuration?: string;
  postExperimentDuration?: string;
}

/** FIS's default for both windows. */
export const DEFAULT_WINDOW = "PT20M";

export interface ResolvedReportConfiguration {
  preExperimentDurationMs: number;
  postExperimentDurationMs: number;
  dashboards: DashboardInput[];
}

/** Parses the windows and reads every named dashboard (GetDashboard on AWS or the lab). */
export async function resolveReportConfiguration(
  config: ExperimentReportConfiguration,
  dashboards: DashboardSource,
): Promise<ResolvedReportConfiguration> {
  const list = config.dataSources?.cloudWatchDashboards ?? [];
  const out: DashboardInput[] = [];
  for (const [i, d] of list.entries()) {
    if (typeof d?.dashboardIdentifier !== "string" || d.dashboardIdentifier.length === 0) {
      throw new ReportInputError(`dataSources.cloudWatchDashboards[${i}].dashboardIdentifier`, "is required");
    }
    const name = dashboardName(d.dashboardIdentifier);
    out.push({ name, body: await dashboards.getDashboard(name) });
  }
  return {
    preExperimentDurationMs: parseIsoDuration(
      config.preExperimentDuration ?? DEFAULT_WINDOW,
      "preExperimentDuration",
    ),
    postExperimentDurationMs: parseIsoDuration(
      config.postExperimentDuration ?? DEFAULT_WINDOW,
      "postExperimentDuration",
    ),
    dashboards: out,
  };
}
