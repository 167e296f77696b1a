/**
 * The lab's own `AWS/Lambda` metrics, as Lambda publishes them per function (dimension FunctionName) and
 * account-wide (no dimensions). Errors and Throttles are published as 0 or 1 per request, so their Average
 * is a rate; Invocations counts requests that ran (throttled ones do not), as Lambda's does.
 */
import type { MetricStore } from "./store.ts";

/** One request to a function, as the lab's pool saw it. */
export interface InvocationRecord {
  functionName: string;
  /** Epoch ms when the request was accepted. */
  startMs: number;
  /** Billed-style duration of the invoke phase, ms (absent or ignored when throttled). */
  durationMs: number;
  /** The function returned an error (handled or not), timed out or crashed. */
  error: boolean;
  /** Refused for lack of concurrency: no environment ran it. */
  throttled: boolean;
  /** Set when this request started a new environment (cold start). */
  initDurationMs?: number;
  /** Environments busy with a request at the moment this one started, this one included. */
  concurrent: number;
}

export const LAMBDA_NAMESPACE = "AWS/Lambda";

export function recordInvocation(store: MetricStore, r: InvocationRecord): void {
  const put = (metricName: string, value: number, unit: "Count" | "Milliseconds") => {
    const sets: Record<string, string>[] = [{ FunctionName: r.functionName }, {}];
    for (const dimensions of sets) {
      store.put({ namespace: LAMBDA_NAMESPACE, metricName, dimensions, value, unit, timestamp: r.startMs });
    }
  };
  put("Throttles", r.throttled ? 1 : 0, "Count");
  if (r.throttled) return;
  put("Invocations", 1, "Count");
  put("Errors", r.error ? 1 : 0, "Count");
  put("Duration", r.durationMs, "Milliseconds");
  put("ConcurrentExecutions", r.concurrent, "Count");
  if (r.initDurationMs !== undefined) put("InitDuration", r.initDurationMs, "Milliseconds");
}
