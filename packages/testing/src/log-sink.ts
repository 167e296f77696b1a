/** A LogSink (lab contract) that keeps every line, with a way to wait for a line to appear. */
import { EventEmitter } from "node:events";

export interface CollectedLine {
  functionName: string;
  stream: string;
  line: string;
  timestampMs: number;
}

export class CollectingLogSink {
  readonly lines: CollectedLine[] = [];
  private readonly events = new EventEmitter();

  write(functionName: string, stream: string, line: string, timestampMs: number): void {
    const entry = { functionName, stream, line, timestampMs };
    this.lines.push(entry);
    this.events.emit("line", entry);
  }

  text(): string[] {
    return this.lines.map((l) => l.line);
  }

  /** Resolves with the first line (already written or future) matching `re`. */
  waitFor(re: RegExp): Promise<CollectedLine> {
    const hit = this.lines.find((l) => re.test(l.line));
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve) => {
      const on = (l: CollectedLine) => {
        if (!re.test(l.line)) return;
        this.events.off("line", on);
        resolve(l);
      };
      this.events.on("line", on);
    });
  }
}
