import type { Clock } from "./clock.ts";
import type { LogLevel, Settings } from "./settings.ts";

const RANK: Record<LogLevel, number> = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40 };
/** Same wording as the FIS extension's lines, with our own name, so log searches translate one-for-one. */
export const LOG_PREFIX = "FAULTLINE EXTENSION - ";
export const METRICS_NAMESPACE = "aws-fis-extension";

export interface LogOptions {
  level: LogLevel;
  format: "text" | "json";
  metrics: boolean;
  functionName: string;
  clock: Clock;
  /** Defaults to stdout; Lambda ships an extension's stdout to the function's log stream. */
  write?: (line: string) => void;
}

/** The logger both modes (external proxy and in-process) build from the function's settings. */
export function loggerFor(settings: Settings, clock: Clock, write?: (line: string) => void): Logger {
  return new Logger({
    level: settings.logLevel,
    format: settings.logFormat,
    metrics: settings.metrics,
    functionName: settings.functionName,
    clock,
    write,
  });
}

/** Logs in the function's own format (text, or JSON when AWS_LAMBDA_LOG_FORMAT=JSON) and writes EMF metrics. */
export class Logger {
  readonly #options: LogOptions;
  readonly #write: (line: string) => void;
  /** Messages already logged by `once`, so a failure repeated per poll is logged once. */
  readonly #seen = new Set<string>();

  constructor(options: LogOptions) {
    this.#options = options;
    this.#write = options.write ?? ((line) => process.stdout.write(`${line}\n`));
  }

  debug(message: string, requestId?: string): void {
    this.#log("DEBUG", message, requestId);
  }
  info(message: string, requestId?: string): void {
    this.#log("INFO", message, requestId);
  }
  warn(message: string, requestId?: string): void {
    this.#log("WARN", message, requestId);
  }
  error(message: string, requestId?: string): void {
    this.#log("ERROR", message, requestId);
  }

  /** Logs `message` only the first time this `key` is seen (until `forget`). */
  once(level: LogLevel, key: string, message: string): void {
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    this.#log(level, message);
  }

  forget(predicate: (key: string) => boolean): void {
    for (const key of this.#seen) if (predicate(key)) this.#seen.delete(key);
  }

  /** EMF: one line CloudWatch turns into metrics. Only when AWS_FIS_EXTENSION_METRICS=all. */
  metric(
    name: string,
    value: number,
    unit: "Count" | "Milliseconds",
    dimensions: Record<string, string>,
  ): void {
    if (!this.#options.metrics) return;
    this.#write(
      JSON.stringify({
        _aws: {
          Timestamp: this.#options.clock.now(),
          CloudWatchMetrics: [
            {
              Namespace: METRICS_NAMESPACE,
              Dimensions: [Object.keys(dimensions)],
              Metrics: [{ Name: name, Unit: unit }],
            },
          ],
        },
        ...dimensions,
        [name]: value,
      }),
    );
  }

  #log(level: LogLevel, message: string, requestId?: string): void {
    if (RANK[level] < RANK[this.#options.level]) return;
    const timestamp = new Date(this.#options.clock.now()).toISOString();
    const text = LOG_PREFIX + message;
    if (this.#options.format === "json") {
      const record: Record<string, string> = { timestamp, level, message: text };
      if (requestId !== undefined) record.requestId = requestId;
      this.#write(JSON.stringify(record));
    } else {
      this.#write(
        `${timestamp} ${level} ${text}${requestId === undefined ? "" : ` (requestId ${requestId})`}`,
      );
    }
  }
}
