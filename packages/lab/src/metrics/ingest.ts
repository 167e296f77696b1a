/** Feeds EMF lines from the lab's function logs into the metric store, as CloudWatch Logs does. */
import { parseEmfLine } from "./emf.ts";
import type { MetricStore } from "./store.ts";

/** The part of the lab's LogStore this needs (packages/lab/src/logs.ts). */
export interface LogFollower {
  subscribe(
    listener: (event: { functionName: string; timestamp: number; message: string }) => void,
  ): () => void;
}

export interface IngestOptions {
  /** Told once per function and reason about a malformed EMF line (the line is ignored). */
  onMalformed?: (functionName: string, reason: string, line: string) => void;
}

/** Ingests every new log event; returns the function that stops it. */
export function ingestEmf(logs: LogFollower, store: MetricStore, options: IngestOptions = {}): () => void {
  const reported = new Set<string>();
  return logs.subscribe((event) => {
    // Cheap pre-check: EMF lines always contain the `_aws` key.
    if (!event.message.includes('"_aws"')) return;
    const result = parseEmfLine(event.message, event.timestamp);
    if (result.kind === "metrics") {
      for (const d of result.datapoints) store.put(d);
    } else if (result.kind === "malformed") {
      const key = `${event.functionName}\0${result.reason}`;
      if (!reported.has(key)) {
        reported.add(key);
        options.onMalformed?.(event.functionName, result.reason, event.message);
      }
    }
  });
}
