/**
 * CloudWatch dashboard JSON → chartable widgets. A metric row is `[Namespace, MetricName, DimName, DimValue, …, {options}]`
 * where "." repeats the value at the same position in the row above (CloudWatch's shorthand). Math expressions
 * (`{expression: …}` rows) are not evaluated: they are listed as skipped.
 */
import { ReportInputError } from "./errors.ts";
import type { DashboardInput, MetricRef } from "./model.ts";

export interface WidgetMetric extends MetricRef {
  stat: string;
  period: number;
  label: string;
  color?: string;
  yAxis: "left" | "right";
}

export interface ChartWidget {
  dashboard: string;
  title: string;
  /** CloudWatch's `view`: timeSeries, singleValue, bar, pie, gauge. All are charted as time series here. */
  view: string;
  metrics: WidgetMetric[];
  /** Rows not charted, with why. */
  skipped: string[];
  yLabel?: string;
}

export interface OtherWidget {
  dashboard: string;
  type: string;
  /** Markdown of a text widget, shown as plain text. */
  text?: string;
}

export interface ParsedDashboard {
  name: string;
  charts: ChartWidget[];
  others: OtherWidget[];
}

const DEFAULT_STAT = "Average";
const DEFAULT_PERIOD = 300;

export function parseDashboard(input: DashboardInput): ParsedDashboard {
  let body: unknown = input.body;
  if (typeof body === "string") {
    try {
      body = JSON.parse(body);
    } catch {
      throw new ReportInputError(`dashboards.${input.name}`, "body is not JSON");
    }
  }
  const widgets = (body as { widgets?: unknown } | null)?.widgets;
  if (!Array.isArray(widgets))
    throw new ReportInputError(`dashboards.${input.name}.widgets`, "is not an array");
  const out: ParsedDashboard = { name: input.name, charts: [], others: [] };
  widgets.forEach((w, i) => {
    const field = `dashboards.${input.name}.widgets[${i}]`;
    if (typeof w !== "object" || w === null) throw new ReportInputError(field, "is not an object");
    const { type, properties } = w as { type?: unknown; properties?: Record<string, unknown> };
    if (type !== "metric") {
      const text =
        type === "text" && typeof properties?.markdown === "string" ? properties.markdown : undefined;
      out.others.push({ dashboard: input.name, type: String(type), ...(text === undefined ? {} : { text }) });
      return;
    }
    out.charts.push(parseMetricWidget(input.name, properties ?? {}, field, i));
  });
  return out;
}

function parseMetricWidget(
  dashboard: string,
  p: Record<string, unknown>,
  field: string,
  index: number,
): ChartWidget {
  const stat = typeof p.stat === "string" ? p.stat : DEFAULT_STAT;
  const period = typeof p.period === "number" ? p.period : DEFAULT_PERIOD;
  const rows = p.metrics;
  if (!Array.isArray(rows)) throw new ReportInputError(`${field}.properties.metrics`, "is not an array");
  const metrics: WidgetMetric[] = [];
  const skipped: string[] = [];
  let previous: unknown[] = [];
  rows.forEach((row, r) => {
    if (!Array.isArray(row))
      throw new ReportInputError(`${field}.properties.metrics[${r}]`, "is not an array");
    const last = row[row.length - 1];
    const options =
      typeof last === "object" && last !== null && !Array.isArray(last)
        ? (last as Record<string, unknown>)
        : {};
    const values = options === last ? row.slice(0, -1) : row;
    if (values.length === 0) {
      skipped.push(
        typeof options.expression === "string"
          ? `expression ${options.expression} (metric math is not evaluated)`
          : `row ${r} has no metric`,
      );
      return;
    }
    const resolved = values.map((v, i) => (v === "." ? previous[i] : v));
    previous = resolved;
    if (resolved.length < 2 || resolved.length % 2 !== 0 || !resolved.every((v) => typeof v === "string")) {
      throw new ReportInputError(
        `${field}.properties.metrics[${r}]`,
        "must be [Namespace, MetricName, DimensionName, DimensionValue, …, {options}]",
      );
    }
    const [namespace, metricName, ...dims] = resolved as string[];
    const dimensions: Record<string, string> = {};
    for (let i = 0; i < dims.length; i += 2) dimensions[dims[i]!] = dims[i + 1]!;
    if (options.visible === false) return;
    const label =
      typeof options.label === "string"
        ? options.label
        : [metricName, ...Object.values(dimensions)].join(" ");
    metrics.push({
      namespace: namespace!,
      metricName: metricName!,
      dimensions,
      stat: typeof options.stat === "string" ? options.stat : stat,
      period: typeof options.period === "number" ? options.period : period,
      label,
      ...(typeof options.color === "string" ? { color: options.color } : {}),
      yAxis: options.yAxis === "right" ? "right" : "left",
    });
  });
  const yAxis = p.yAxis as { left?: { label?: unknown } } | undefined;
  return {
    dashboard,
    title: typeof p.title === "string" ? p.title : `Widget ${index + 1}`,
    view: typeof p.view === "string" ? p.view : "timeSeries",
    metrics,
    skipped,
    ...(typeof yAxis?.left?.label === "string" ? { yLabel: yAxis.left.label } : {}),
  };
}
