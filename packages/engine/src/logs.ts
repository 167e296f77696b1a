import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";

export type LogType =
  | "experiment-start"
  | "target-resolution-start"
  | "target-resolution-detail"
  | "target-resolution-end"
  | "action-start"
  | "action-error"
  | "action-end"
  | "experiment-end";

/** One FIS experiment log record, schema version 2. */
export interface ExperimentLogRecord {
  id: string;
  log_type: LogType;
  event_timestamp: string;
  version: "2";
  details: Record<string, unknown>;
}

/** Appends FIS v2 log records, one JSON object a line, to `<dir>/<experimentId>.log`. */
export class ExperimentLog {
  constructor(private readonly dir: string | undefined) {
    if (dir) mkdirSync(dir, { recursive: true });
  }
  path(experimentId: string): string | undefined {
    return this.dir ? join(this.dir, `${experimentId}.log`) : undefined;
  }
  write(
    experimentId: string,
    logType: LogType,
    at: number,
    details: Record<string, unknown>,
  ): ExperimentLogRecord {
    const record: ExperimentLogRecord = {
      id: experimentId,
      log_type: logType,
      event_timestamp: new Date(at).toISOString(),
      version: "2",
      details,
    };
    const file = this.path(experimentId);
    if (file) appendFileSync(file, `${JSON.stringify(record)}\n`);
    return record;
  }
}
