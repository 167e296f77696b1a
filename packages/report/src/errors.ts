/** Named errors of the report package. */

/** Report input (experiment, dashboard, duration…) that cannot be used. `field` names the culprit. */
export class ReportInputError extends Error {
  override readonly name = "ReportInputError";
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** Headless Chromium failed or timed out while printing or screenshotting a report. */
export class ChromiumError extends Error {
  override readonly name = "ChromiumError";
}
