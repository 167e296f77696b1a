/** What the load generator records of every request, and the plain statistics computed from those records. */

export interface RequestRecord {
  /** Which request of the load mix (e.g. "POST /orders", or the function name for Invoke). */
  name: string;
  /** Epoch ms when the request was sent and when its answer (or failure) came back. */
  startMs: number;
  endMs: number;
  /** HTTP status; for Invoke, 200 or 500 (FunctionError); 0 = no answer (network error, timeout). */
  status: number;
  /** A 5xx, a function error or no answer. */
  error: boolean;
}

export const latencyOf = (r: RequestRecord): number => r.endMs - r.startMs;

/** Nearest-rank percentile (p in 0–100) of unsorted values; undefined when there are none. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export interface WindowStats {
  requests: number;
  errors: number;
  errorRate: number | undefined;
  p50: number | undefined;
  p99: number | undefined;
}

export function statsOf(records: readonly RequestRecord[]): WindowStats {
  const latencies = records.map(latencyOf);
  const errors = records.filter((r) => r.error).length;
  return {
    requests: records.length,
    errors,
    errorRate: records.length === 0 ? undefined : errors / records.length,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

/** Requests that started in [fromMs, toMs). */
export const startedIn = (records: readonly RequestRecord[], fromMs: number, toMs: number) =>
  records.filter((r) => r.startMs >= fromMs && r.startMs < toMs);
