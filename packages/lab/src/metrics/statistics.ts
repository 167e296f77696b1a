/** CloudWatch statistics over a set of samples: SampleCount, Sum, Average, Minimum, Maximum and pNN(.NN). */
import { MetricInputError } from "./errors.ts";

export type Statistic =
  | { kind: "SampleCount" | "Sum" | "Average" | "Minimum" | "Maximum" }
  | { kind: "percentile"; p: number };

const SIMPLE = new Set(["SampleCount", "Sum", "Average", "Minimum", "Maximum"]);
const PERCENTILE = /^p(\d{1,2}(\.\d{1,2})?|100(\.0{1,2})?)$/;

/** Parses a CloudWatch `Stat` string; `field` names the request field for the error. */
export function parseStatistic(stat: string, field = "Stat"): Statistic {
  if (SIMPLE.has(stat)) return { kind: stat as "SampleCount" };
  if (PERCENTILE.test(stat)) return { kind: "percentile", p: Number(stat.slice(1)) };
  throw new MetricInputError(
    field,
    `"${stat}" is not a supported statistic (SampleCount, Sum, Average, Minimum, Maximum, p0–p100)`,
  );
}

/**
 * Aggregated samples of one period. `values` holds raw samples for percentiles; samples that arrived only as
 * statistic sets (PutMetricData StatisticValues) count in the aggregates but not in percentiles, as in CloudWatch.
 */
export interface Aggregate {
  count: number;
  sum: number;
  min: number;
  max: number;
  values: number[];
}

export const emptyAggregate = (): Aggregate => ({
  count: 0,
  sum: 0,
  min: Number.POSITIVE_INFINITY,
  max: Number.NEGATIVE_INFINITY,
  values: [],
});

export function merge(into: Aggregate, from: Aggregate): void {
  into.count += from.count;
  into.sum += from.sum;
  into.min = Math.min(into.min, from.min);
  into.max = Math.max(into.max, from.max);
  for (const v of from.values) into.values.push(v);
}

/** The statistic's value, or undefined when it has no value for these samples (no datapoint is returned). */
export function compute(stat: Statistic, a: Aggregate): number | undefined {
  if (a.count === 0) return undefined;
  switch (stat.kind) {
    case "SampleCount":
      return a.count;
    case "Sum":
      return a.sum;
    case "Average":
      return a.sum / a.count;
    case "Minimum":
      return a.min;
    case "Maximum":
      return a.max;
    case "percentile":
      return percentile(a.values, stat.p);
  }
}

/**
 * Nearest-rank percentile: the smallest sample such that at least p % of the samples are ≤ it.
 * Exact (CloudWatch approximates with histograms); p50 of [1,2,3,4] is 2, p99 of 1..100 is 99.
 */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((x, y) => x - y);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}
