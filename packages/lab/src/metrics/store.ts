/**
 * The lab's metric store: CloudWatch metrics at one-second resolution, queried with MetricStat semantics
 * (a metric = namespace + name + the exact dimension set; a period aggregates every sample whose timestamp
 * falls in [periodStart, periodStart + period); periods start at the query's start time, so a caller that
 * wants one figure for a whole window asks for one period as long as the window).
 * Bounded by age: samples older than `retentionMs` are dropped.
 */
import type { Datapoint } from "./emf.ts";
import { MetricInputError } from "./errors.ts";
import { type Aggregate, compute, emptyAggregate, merge, parseStatistic } from "./statistics.ts";
import type { StandardUnit } from "./units.ts";

export interface MetricId {
  namespace: string;
  metricName: string;
  dimensions: Record<string, string>;
}

export interface MetricStatQuery {
  metric: MetricId;
  /** Seconds, a positive integer. */
  period: number;
  /** CloudWatch statistic: SampleCount, Sum, Average, Minimum, Maximum, pNN(.NN). */
  stat: string;
  /** Only samples put with this unit. */
  unit?: StandardUnit;
}

export interface MetricSeries {
  /** Period starts, epoch ms, ascending. Only periods that have samples. */
  timestamps: number[];
  values: number[];
}

/** A set of statistics put at once (PutMetricData `StatisticValues`). */
export interface StatisticSet {
  sampleCount: number;
  sum: number;
  minimum: number;
  maximum: number;
}

export interface MetricFilter {
  namespace?: string;
  metricName?: string;
  /** Each named dimension must be present; with a value, it must equal it. */
  dimensions?: { name: string; value?: string }[];
  /** Only metrics with a sample at or after this time. */
  sinceMs?: number;
}

interface Series {
  id: MetricId;
  unit: StandardUnit;
  /** Second (epoch seconds) → samples of that second. */
  seconds: Map<number, Aggregate>;
  lastMs: number;
}

export const metricKey = (id: MetricId): string =>
  JSON.stringify([
    id.namespace,
    id.metricName,
    Object.entries(id.dimensions).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  ]);

/** Raw samples kept per second and series, so percentiles stay exact without unbounded memory. */
const MAX_RAW_PER_SECOND = 10_000;

export class MetricStore {
  /** metricKey → unit → series. */
  readonly #metrics = new Map<string, Map<StandardUnit, Series>>();
  readonly #listeners = new Set<(d: Datapoint) => void>();
  readonly #retentionMs: number;
  #puts = 0;

  constructor(options: { retentionMs?: number } = {}) {
    this.#retentionMs = options.retentionMs ?? 24 * 3600_000;
  }

  /** Adds one sample. */
  put(d: Datapoint): void {
    const agg = this.#bucket(d, d.unit, d.timestamp);
    agg.count += 1;
    agg.sum += d.value;
    agg.min = Math.min(agg.min, d.value);
    agg.max = Math.max(agg.max, d.value);
    if (agg.values.length < MAX_RAW_PER_SECOND) agg.values.push(d.value);
    for (const listener of this.#listeners) listener(d);
  }

  /** Adds pre-aggregated samples (no raw values: they do not contribute to percentiles). */
  putStatistics(id: MetricId, set: StatisticSet, unit: StandardUnit, timestamp: number): void {
    if (set.sampleCount <= 0) throw new MetricInputError("StatisticValues.SampleCount", "must be positive");
    if (set.minimum > set.maximum) {
      throw new MetricInputError("StatisticValues.Minimum", "must not be greater than Maximum");
    }
    const agg = this.#bucket(id, unit, timestamp);
    merge(agg, { count: set.sampleCount, sum: set.sum, min: set.minimum, max: set.maximum, values: [] });
  }

  /** One statistic per period over [startMs, endMs), CloudWatch MetricStat semantics. */
  query(q: MetricStatQuery, queryStartMs: number, queryEndMs: number): MetricSeries {
    // Samples are kept per second: the window is taken to the second, so adjacent windows never share a sample.
    const startMs = Math.floor(queryStartMs / 1000) * 1000;
    const endMs = Math.floor(queryEndMs / 1000) * 1000;
    const stat = parseStatistic(q.stat);
    if (!Number.isInteger(q.period) || q.period < 1) {
      throw new MetricInputError("Period", `${q.period} is not a positive whole number of seconds`);
    }
    if (!(queryEndMs > queryStartMs)) throw new MetricInputError("EndTime", "must be after StartTime");
    const periodMs = q.period * 1000;
    const periods = new Map<number, Aggregate>();
    for (const series of this.#metrics.get(metricKey(q.metric))?.values() ?? []) {
      if (q.unit !== undefined && series.unit !== q.unit) continue;
      for (const [second, agg] of series.seconds) {
        const ms = second * 1000;
        if (ms < startMs || ms >= endMs) continue;
        const start = startMs + Math.floor((ms - startMs) / periodMs) * periodMs;
        let p = periods.get(start);
        if (!p) {
          p = emptyAggregate();
          periods.set(start, p);
        }
        merge(p, agg);
      }
    }
    const out: MetricSeries = { timestamps: [], values: [] };
    for (const start of [...periods.keys()].sort((a, b) => a - b)) {
      const v = compute(stat, periods.get(start)!);
      if (v === undefined) continue;
      out.timestamps.push(start);
      out.values.push(v);
    }
    return out;
  }

  /** Known metrics matching the filter, as ListMetrics returns them (one entry per metric, any unit). */
  list(filter: MetricFilter = {}): MetricId[] {
    const out: MetricId[] = [];
    for (const byUnit of this.#metrics.values()) {
      const all = [...byUnit.values()];
      const id = all[0]!.id;
      if (filter.namespace !== undefined && id.namespace !== filter.namespace) continue;
      if (filter.metricName !== undefined && id.metricName !== filter.metricName) continue;
      const dims = filter.dimensions ?? [];
      if (
        !dims.every(
          (f) => f.name in id.dimensions && (f.value === undefined || id.dimensions[f.name] === f.value),
        )
      ) {
        continue;
      }
      if (filter.sinceMs !== undefined && !all.some((s) => s.lastMs >= filter.sinceMs!)) continue;
      out.push(id);
    }
    return out;
  }

  /** The units a metric's samples were put with (usually one). */
  unitsOf(id: MetricId): StandardUnit[] {
    return [...(this.#metrics.get(metricKey(id))?.keys() ?? [])];
  }

  /** Every new sample (not statistic sets). Returns the unsubscribe function. */
  subscribe(listener: (d: Datapoint) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Drops samples older than `beforeMs`. */
  prune(beforeMs: number): void {
    const limit = Math.floor(beforeMs / 1000);
    for (const [key, byUnit] of this.#metrics) {
      for (const [unit, series] of byUnit) {
        for (const second of series.seconds.keys()) if (second < limit) series.seconds.delete(second);
        if (series.seconds.size === 0) byUnit.delete(unit);
      }
      if (byUnit.size === 0) this.#metrics.delete(key);
    }
  }

  #bucket(id: MetricId, unit: StandardUnit, timestamp: number): Aggregate {
    if (!Number.isFinite(timestamp)) throw new MetricInputError("Timestamp", "is not a number");
    // Prune by age now and then, relative to the newest sample seen, so memory stays bounded without a timer.
    if (++this.#puts % 10_000 === 0) this.prune(timestamp - this.#retentionMs);
    const key = metricKey(id);
    let byUnit = this.#metrics.get(key);
    if (!byUnit) {
      byUnit = new Map();
      this.#metrics.set(key, byUnit);
    }
    let series = byUnit.get(unit);
    if (!series) {
      series = {
        id: { namespace: id.namespace, metricName: id.metricName, dimensions: { ...id.dimensions } },
        unit,
        seconds: new Map(),
        lastMs: timestamp,
      };
      byUnit.set(unit, series);
    }
    series.lastMs = Math.max(series.lastMs, timestamp);
    const second = Math.floor(timestamp / 1000);
    let agg = series.seconds.get(second);
    if (!agg) {
      agg = emptyAggregate();
      series.seconds.set(second, agg);
    }
    return agg;
  }
}
