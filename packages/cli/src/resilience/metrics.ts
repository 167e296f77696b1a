/**
 * Named-metric assertions: a CloudWatch metric's statistic over a phase's window, against min/max. Read with the
 * AWS SDK (GetMetricData, one period spanning the window) from the lab's CloudWatch or endpoints.cloudwatch.
 */
import { CloudWatchClient, GetMetricDataCommand, ListMetricsCommand } from "@aws-sdk/client-cloudwatch";
import { type Phase, type Verdict, verdict } from "./assertions.ts";
import type { MetricSpec } from "./spec.ts";

/**
 * The statistic's value over the window; undefined when CloudWatch has no datapoint in it. Then `elsewhere` lists
 * the dimension sets CloudWatch does have for that name — a metric is its exact dimensions, an easy thing to miss.
 */
export type MetricReading =
  | { value: number | undefined; windowMs: number; elsewhere?: string[] }
  | { error: string };

const ADDITIVE = new Set(["Sum", "SampleCount"]);

export function metricName(m: MetricSpec): string {
  if (m.label) return m.label;
  const dims = Object.keys(m.dimensions).length > 0 ? ` ${showDimensions(m.dimensions)}` : "";
  return `metric ${m.namespace} ${m.name} ${m.statistic}${dims}`;
}

const showDimensions = (d: Record<string, string>) =>
  `{${Object.entries(d)
    .map(([k, v]) => `${k}=${v}`)
    .join(", ")}}`;

function thresholdOf(m: MetricSpec): string {
  const parts = [m.min === undefined ? "" : `≥ ${m.min}`, m.max === undefined ? "" : `≤ ${m.max}`];
  return parts.filter(Boolean).join(" and ");
}

/**
 * The verdict of one metric assertion. A window without datapoints counts 0 for Sum and SampleCount (nothing
 * happened), and fails every other statistic: there is nothing to judge.
 */
export function metricVerdict(phase: Phase, m: MetricSpec, reading: MetricReading): Verdict {
  const name = metricName(m);
  if ("error" in reading) return verdict(phase, name, false, `not read: ${reading.error}`, thresholdOf(m));
  const value = reading.value ?? (ADDITIVE.has(m.statistic) ? 0 : undefined);
  const elsewhere = reading.elsewhere?.length
    ? `; CloudWatch has ${m.name} with ${reading.elsewhere.join(" or ")}`
    : "";
  const over = `over ${(reading.windowMs / 1000).toFixed(1)} s${elsewhere}`;
  if (value === undefined) return verdict(phase, name, false, `no datapoints ${over}`, thresholdOf(m));
  const held = (m.min === undefined || value >= m.min) && (m.max === undefined || value <= m.max);
  const shown = Number.isInteger(value) ? String(value) : value.toFixed(3);
  const note = reading.value === undefined ? " (no datapoints)" : "";
  return verdict(phase, name, held, `${shown}${note} ${over}`, thresholdOf(m));
}

/** Several periods (a CloudWatch that aligns them its own way) are folded the statistic's way. */
function fold(statistic: string, values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  if (ADDITIVE.has(statistic)) return values.reduce((a, b) => a + b, 0);
  return statistic === "Minimum" ? Math.min(...values) : Math.max(...values);
}

export async function readMetric(
  client: CloudWatchClient,
  m: MetricSpec,
  fromMs: number,
  toMs: number,
): Promise<MetricReading> {
  // CloudWatch keeps samples per second: the window is taken to the second, as one period.
  const start = Math.floor(fromMs / 1000);
  const end = Math.max(start + 1, Math.floor(toMs / 1000));
  try {
    const out = await client.send(
      new GetMetricDataCommand({
        StartTime: new Date(start * 1000),
        EndTime: new Date(end * 1000),
        MetricDataQueries: [
          {
            Id: "m",
            MetricStat: {
              Metric: {
                Namespace: m.namespace,
                MetricName: m.name,
                Dimensions: Object.entries(m.dimensions).map(([Name, Value]) => ({ Name, Value })),
              },
              Period: end - start,
              Stat: m.statistic,
            },
          },
        ],
      }),
    );
    const value = fold(m.statistic, out.MetricDataResults?.[0]?.Values ?? []);
    const windowMs = (end - start) * 1000;
    if (value !== undefined) return { value, windowMs };
    return { value, windowMs, elsewhere: await otherDimensions(client, m) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** Up to three dimension sets CloudWatch knows for the metric's name, when the asked one is not among them. */
async function otherDimensions(client: CloudWatchClient, m: MetricSpec): Promise<string[]> {
  const out = await client
    .send(new ListMetricsCommand({ Namespace: m.namespace, MetricName: m.name }))
    .catch(() => undefined);
  const asked = showDimensions(m.dimensions);
  const known = (out?.Metrics ?? []).map((metric) =>
    showDimensions(Object.fromEntries((metric.Dimensions ?? []).map((d) => [d.Name ?? "", d.Value ?? ""]))),
  );
  return known.includes(asked) ? [] : known.slice(0, 3);
}

/** A CloudWatch client for the test's endpoint, with the lab's fixed credentials. */
export function cloudWatchAt(endpoint: string): CloudWatchClient {
  return new CloudWatchClient({
    endpoint,
    region: process.env.AWS_REGION ?? "us-east-1",
    credentials: { accessKeyId: "faultline", secretAccessKey: "faultline" },
    maxAttempts: 2,
  });
}
