/** FIS's default quotas (Service Quotas listing), enforced with ServiceQuotaExceededException. */
export const QUOTAS = {
  actionsPerTemplate: 20,
  parallelActions: 10,
  stopConditionsPerTemplate: 5,
  maxActionDurationMs: 12 * 3600 * 1000,
  /** "Experiment duration": the longest startAfter chain, end to end. */
  maxExperimentDurationMs: 12 * 3600 * 1000,
  activeExperiments: 5,
  resourceArnsPerTarget: 5,
  templates: 500,
  tagsPerResource: 50,
  /** experimentReportConfiguration.dataSources.cloudWatchDashboards (faultline's bound; FIS documents none). */
  reportDashboards: 5,
} as const;
