/**
 * Where a report reads metrics and dashboards. One implementation, over `@aws-sdk/client-cloudwatch`, serves real
 * AWS and the lab (whose CloudWatch API answers the same calls), so there is one code path.
 */
import {
  CloudWatchClient,
  GetDashboardCommand,
  GetMetricDataCommand,
  type MetricDataQuery,
} from "@aws-sdk/client-cloudwatch";
import type { MetricRef } from "./model.ts";

export interface MetricQuery extends MetricRef {
  /** Unique within one call; letters, digits and _ (starts with a lowercase letter). */
  id: string;
  /** CloudWatch statistic: Sum, Average, SampleCount, Minimum, Maximum, pNN. */
  stat: string;
  /** Seconds. */
  period: number;
}

export interface Series {
  /** Period starts, epoch ms, ascending. */
  timestamps: number[];
  values: number[];
}

export interface MetricSource {
  /** One series per query id, ascending in time, over [startMs, endMs). */
  getMetricData(queries: MetricQuery[], startMs: number, endMs: number): Promise<Map<string, Series>>;
}

export interface DashboardSource {
  /** The dashboard's JSON body. */
  getDashboard(name: string): Promise<string>;
}

/** GetMetricData takes at most 500 queries per call. */
const BATCH = 500;

export class CloudWatchMetricSource implements MetricSource, DashboardSource {
  constructor(readonly client: CloudWatchClient) {}

  /** A client for an endpoint (the lab's CloudWatch port, or undefined for AWS's own). */
  static forEndpoint(endpoint: string | undefined, region = "us-east-1"): CloudWatchMetricSource {
    return new CloudWatchMetricSource(
      new CloudWatchClient({
        region,
        ...(endpoint === undefined
          ? {}
          : { endpoint, credentials: { accessKeyId: "faultline", secretAccessKey: "faultline" } }),
      }),
    );
  }

  async getMetricData(queries: MetricQuery[], startMs: number, endMs: number): Promise<Map<string, Series>> {
    const out = new Map<string, Series>();
    for (let i = 0; i < queries.length; i += BATCH) {
      const batch: MetricDataQuery[] = queries.slice(i, i + BATCH).map((q) => ({
        Id: q.id,
        MetricStat: {
          Metric: {
            Namespace: q.namespace,
            MetricName: q.metricName,
            Dimensions: Object.entries(q.dimensions).map(([Name, Value]) => ({ Name, Value })),
          },
          Period: q.period,
          Stat: q.stat,
        },
      }));
      let nextToken: string | undefined;
      do {
        const res = await this.client.send(
          new GetMetricDataCommand({
            MetricDataQueries: batch,
            StartTime: new Date(startMs),
            EndTime: new Date(endMs),
            ScanBy: "TimestampAscending",
            NextToken: nextToken,
          }),
        );
        for (const r of res.MetricDataResults ?? []) {
          const series = out.get(r.Id ?? "") ?? { timestamps: [], values: [] };
          (r.Timestamps ?? []).forEach((t, j) => {
            series.timestamps.push(t.getTime());
            series.values.push(r.Values?.[j] ?? Number.NaN);
          });
          out.set(r.Id ?? "", series);
        }
        nextToken = res.NextToken;
      } while (nextToken);
    }
    // Pages may interleave; keep every series ascending.
    for (const s of out.values()) sortSeries(s);
    return out;
  }

  async getDashboard(name: string): Promise<string> {
    const res = await this.client.send(new GetDashboardCommand({ DashboardName: name }));
    return res.DashboardBody ?? '{"widgets":[]}';
  }
}

function sortSeries(s: Series): void {
  const order = s.timestamps.map((_, i) => i).sort((a, b) => s.timestamps[a]! - s.timestamps[b]!);
  s.timestamps = order.map((i) => s.timestamps[i]!);
  s.values = order.map((i) => s.values[i]!);
}

/** The dashboard name in a FIS `dashboardIdentifier` (an ARN `arn:aws:cloudwatch::123:dashboard/Name` or a name). */
export function dashboardName(identifier: string): string {
  const i = identifier.indexOf(":dashboard/");
  return i >= 0 ? identifier.slice(i + ":dashboard/".length) : identifier;
}
