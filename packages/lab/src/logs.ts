/**
 * A CloudWatch-Logs-like store: one log group per function (/aws/lambda/<name>), one stream per environment.
 * Readable by code (`events`) and followable (`subscribe`); later work ingests EMF metric lines from it.
 * Bounded: the oldest events of a function are dropped past `maxEventsPerFunction`.
 */
import type { LogSink } from "./contract.ts";

export interface LogEvent {
  functionName: string;
  logGroupName: string;
  logStreamName: string;
  timestamp: number;
  message: string;
}

export interface LogQuery {
  /** Only events with timestamp >= sinceMs. */
  sinceMs?: number;
  /** Only this stream. */
  logStreamName?: string;
}

export type LogListener = (event: LogEvent) => void;

export const logGroupName = (functionName: string): string => `/aws/lambda/${functionName}`;

export class LogStore implements LogSink {
  readonly #byFunction = new Map<string, LogEvent[]>();
  readonly #listeners = new Set<LogListener>();
  readonly #max: number;

  constructor(options: { maxEventsPerFunction?: number } = {}) {
    this.#max = options.maxEventsPerFunction ?? 50_000;
  }

  write(functionName: string, stream: string, line: string, timestampMs: number): void {
    const event: LogEvent = {
      functionName,
      logGroupName: logGroupName(functionName),
      logStreamName: stream,
      timestamp: timestampMs,
      message: line,
    };
    let events = this.#byFunction.get(functionName);
    if (!events) {
      events = [];
      this.#byFunction.set(functionName, events);
    }
    events.push(event);
    // Drop in batches so a full store does not shift the array on every write.
    if (events.length > this.#max) events.splice(0, events.length - Math.floor(this.#max * 0.9));
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // A failing follower must not break the function that is logging.
      }
    }
  }

  /** A function's events in arrival order. */
  events(functionName: string, query: LogQuery = {}): LogEvent[] {
    const events = this.#byFunction.get(functionName) ?? [];
    return events.filter(
      (e) =>
        (query.sinceMs === undefined || e.timestamp >= query.sinceMs) &&
        (query.logStreamName === undefined || e.logStreamName === query.logStreamName),
    );
  }

  /** A function's log stream names, in order of first event. */
  streams(functionName: string): string[] {
    return [...new Set((this.#byFunction.get(functionName) ?? []).map((e) => e.logStreamName))];
  }

  /** Every new event, for every function. Returns the unsubscribe function. */
  subscribe(listener: LogListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
