/**
 * FIS v2 experiment logs: records appended to `<logDir>/<experimentId>.log` as the run goes, and — observing the
 * engine's events — the `experiment-end` record and the delivery to `logConfiguration.s3Configuration` when an
 * experiment reaches a terminal state.
 */
import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { bestEffort, type EngineContext } from "./context.ts";
import type { ExperimentStateChangeEvent } from "./events.ts";
import { ExperimentLog, type LogType } from "./logs.ts";
import { type Experiment, TERMINAL_EXPERIMENT } from "./model.ts";
import type { Run } from "./run.ts";

export class ExperimentLogs {
  private readonly log: ExperimentLog;
  /** Each live experiment's log lines, for delivery at its end. */
  private readonly lines = new Map<string, string[]>();
  /** Deliveries in flight, by experiment id. */
  private readonly deliveries = new Map<string, Promise<void>>();

  constructor(
    private readonly ctx: EngineContext,
    logDir: string | undefined,
    private readonly s3: S3Client,
    /** The live experiment of an id (its logConfiguration), while it ends. */
    private readonly live: (id: string) => Experiment | undefined,
  ) {
    this.log = new ExperimentLog(logDir);
    ctx.events.on("experiment", (e) => this.onStateChange(e));
  }

  path(experimentId: string): string | undefined {
    return this.log.path(experimentId);
  }

  /** Appends a record; while the run halts a failed write is logged and the cleanup goes on. */
  write(run: Run, type: LogType, details: Record<string, unknown>): void {
    const id = run.exp.id;
    const write = () => {
      const line = JSON.stringify(this.log.write(id, type, this.ctx.clock.now(), details));
      const lines = this.lines.get(id);
      if (lines) lines.push(line);
      else this.lines.set(id, [line]);
    };
    if (run.halting) bestEffort(this.ctx, `write the ${type} log record of experiment ${id}`, write);
    else write();
  }

  /** Resolves once the experiment's log delivery (if any) is done. */
  async delivered(experimentId: string): Promise<void> {
    await this.deliveries.get(experimentId);
  }

  private onStateChange(e: ExperimentStateChangeEvent): void {
    const state = e.detail["new-state"];
    if (!TERMINAL_EXPERIMENT.has(state.status)) return;
    const exp = this.live(e.detail["experiment-id"]);
    if (!exp) return;
    bestEffort(this.ctx, `log the end of experiment ${exp.id}`, () => {
      const record = this.log.write(exp.id, "experiment-end", this.ctx.clock.now(), {
        experiment_state: state,
      });
      this.lines.set(exp.id, [...(this.lines.get(exp.id) ?? []), JSON.stringify(record)]);
    });
    const lines = this.lines.get(exp.id) ?? [];
    this.lines.delete(exp.id);
    const delivery = this.deliver(exp, lines).finally(() => this.deliveries.delete(exp.id));
    this.deliveries.set(exp.id, delivery);
  }

  /** FIS's S3 log delivery: one object per experiment under `<prefix>/AWSLogs/<account>/fis/<region>/<id>/…`. */
  private async deliver(exp: Experiment, lines: string[]): Promise<void> {
    const target = exp.logConfiguration?.s3Configuration;
    if (!target) return;
    const { accountId: acct, region } = this.ctx.account;
    const at = new Date(this.ctx.clock.now()).toISOString();
    const [y, m, d] = [at.slice(0, 4), at.slice(5, 7), at.slice(8, 10)];
    const stamp = `${y}${m}${d}${at.slice(11, 13)}${at.slice(14, 16)}`;
    const prefix = target.prefix ? `${target.prefix.replace(/\/+$/, "")}/` : "";
    const key = `${prefix}AWSLogs/${acct}/fis/${region}/${exp.id}/${y}/${m}/${d}/${acct}_awsfislogs_${region}_${exp.id}_${stamp}Z_${exp.id.slice(3, 11)}.log`;
    try {
      await this.s3.send(
        new PutObjectCommand({ Bucket: target.bucketName, Key: key, Body: `${lines.join("\n")}\n` }),
      );
    } catch (error) {
      this.ctx.say(
        `experiment ${exp.id}: cannot deliver its log to s3://${target.bucketName}/${key}: ${(error as Error).message}`,
      );
    }
  }
}
