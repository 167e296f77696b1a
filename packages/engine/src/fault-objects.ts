/**
 * The fault objects in S3: the one place they are written (recorded in the store first) and deleted (the record
 * removed after), with the stop's retry rounds. Every write and delete is published as a `fault-object` event.
 */
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { EngineContext } from "./context.ts";
import type { Run } from "./run.ts";
import type { FaultObjectRecord } from "./store.ts";
import { mapLimit } from "./targets.ts";

/** Backoff between rounds of deletes that S3 refused: 1 s, doubling, at most 30 s (on the engine's clock). */
const DELETE_RETRY = { firstMs: 1000, maxMs: 30_000 };
/** Per-object delete failures logged in one round; the round's summary line counts the rest. */
const DELETE_ERRORS_LOGGED = 3;

/** A fault object to write: where, whose, and its JSON body. */
export type FaultObjectWrite = FaultObjectRecord & { body: string };

export class FaultObjects {
  /** Fault objects deleted from S3 whose record could not be removed yet (full disk), as `bucket/key`. */
  private readonly deletedUnrecorded = new Set<string>();
  /** Delete retry loops waiting for their next round; woken early by a repeated stop or a shutdown. */
  private readonly retryWaiters = new Set<() => void>();
  /** The sweep of fault objects left by experiments that already ended (a failed round at open). */
  private sweeping: Promise<boolean> | undefined;
  /** Deletes: bounded by the call timeout and the shutdown, never by a run (they are the cleanup). */
  private readonly s3: S3Client;

  constructor(
    private readonly ctx: EngineContext,
    /** The caller's S3 client; uploads are bounded by their run too. */
    private readonly s3Client: S3Client,
  ) {
    this.s3 = ctx.bounded(s3Client);
    ctx.shutdown.addEventListener("abort", () => this.retryNow());
  }

  /** Recorded fault objects (of one experiment, or all) not yet known to be deleted. */
  recorded(experimentId?: string): FaultObjectRecord[] {
    const all = this.ctx.store.faultObjects(experimentId ? { experimentId } : {});
    return this.deletedUnrecorded.size === 0
      ? all
      : all.filter((r) => !this.deletedUnrecorded.has(objectId(r)));
  }

  /**
   * Writes one action's fault objects, each recorded before it is written (after a crash, reconciliation deletes
   * whatever may have reached S3). Every upload carries the run's abort signal; a halt lets them settle first.
   */
  async write(run: Run, records: FaultObjectWrite[]): Promise<void> {
    this.ctx.store.recordFaultObjects(records);
    const s3 = this.ctx.bounded(this.s3Client, run.abort.signal);
    await mapLimit(records, this.ctx.concurrency, async (r) => {
      const put = s3.send(
        new PutObjectCommand({ Bucket: r.bucket, Key: r.key, Body: r.body, ContentType: "application/json" }),
      );
      const settled = put.then(noop, noop);
      run.writes.add(settled);
      void settled.then(() => run.writes.delete(settled));
      await put;
      this.ctx.events.emit("fault-object", { ...pick(r), change: "written" });
    });
  }

  /**
   * One round of deletes. A deleted object's record is removed; if that write fails (a full disk), the object is
   * remembered as deleted so no round repeats it. Returns how many deletes failed and the first error.
   */
  async removeRecorded(records: FaultObjectRecord[]): Promise<{ failed: number; firstError?: string }> {
    const s3 = this.s3;
    let failed = 0;
    let firstError: string | undefined;
    await mapLimit(records, this.ctx.concurrency, async (r) => {
      try {
        await s3.send(new DeleteObjectCommand({ Bucket: r.bucket, Key: r.key }));
      } catch (error) {
        const message = (error as Error).message;
        firstError ??= message;
        if (++failed <= DELETE_ERRORS_LOGGED)
          this.ctx.say(`cannot delete s3://${r.bucket}/${r.key}: ${message}`);
        return;
      }
      this.ctx.events.emit("fault-object", { ...pick(r), change: "deleted" });
      try {
        this.ctx.store.forgetFaultObject(r.bucket, r.key);
        this.deletedUnrecorded.delete(objectId(r));
      } catch (error) {
        this.deletedUnrecorded.add(objectId(r));
        this.ctx.say(`deleted s3://${r.bucket}/${r.key} but cannot record it: ${(error as Error).message}`);
      }
    });
    return { failed, ...(firstError ? { firstError } : {}) };
  }

  /**
   * Deletes fault objects until none of `left()` remains: each round's calls bounded by the call timeout, then a
   * pause on the engine's clock (DELETE_RETRY: 1 s doubling to 30 s) that a repeated StopExperiment cuts short.
   * Every failed round is logged. False only when the engine shuts down first (the objects stay recorded).
   */
  async removeUntilGone(what: string, left: () => FaultObjectRecord[]): Promise<boolean> {
    let pauseMs = DELETE_RETRY.firstMs;
    for (let attempt = 1; ; attempt++) {
      if (this.ctx.closed()) return false;
      const records = left();
      if (records.length === 0) return true;
      if (this.ctx.shutdown.aborted) return false;
      const { failed, firstError } = await this.removeRecorded(records);
      if (failed === 0) continue; // objects recorded meanwhile are picked up by the next look
      if (this.ctx.shutdown.aborted) return false;
      this.ctx.say(
        `${what}: ${failed} fault objects not deleted yet (attempt ${attempt}); retrying in ${pauseMs} ms (${firstError})`,
      );
      await this.retryPause(pauseMs);
      pauseMs = Math.min(pauseMs * 2, DELETE_RETRY.maxMs);
    }
  }

  /** Delete retry loops go now rather than at their next backoff step. */
  retryNow(): void {
    for (const wake of [...this.retryWaiters]) wake();
  }

  /** Removes the fault objects of experiments that are not live (left by a failed round at open). */
  sweep(live: (experimentId: string) => boolean): Promise<boolean> {
    this.sweeping ??= this.removeUntilGone("cleanup", () =>
      this.recorded().filter((r) => !live(r.experimentId)),
    ).finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }

  /** The sweep in progress, if any (close() lets it end before the database goes). */
  sweepInProgress(): Promise<boolean> | undefined {
    return this.sweeping;
  }

  /** Removes the records a full disk kept (their objects are already deleted), as far as it now can. */
  saveUnrecorded(): void {
    for (const id of this.deletedUnrecorded) {
      const [bucket, key] = splitObjectId(id);
      try {
        this.ctx.store.forgetFaultObject(bucket, key);
        this.deletedUnrecorded.delete(id);
      } catch {}
    }
  }

  private retryPause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        cancel();
        this.retryWaiters.delete(wake);
        resolve();
      };
      const cancel = this.ctx.clock.setTimer(ms, wake);
      this.retryWaiters.add(wake);
    });
  }
}

const noop = () => {};
const objectId = (r: { bucket: string; key: string }) => `${r.bucket}/${r.key}`;
/** Bucket names have no "/", so the first one separates bucket and key. */
function splitObjectId(id: string): [string, string] {
  const slash = id.indexOf("/");
  return [id.slice(0, slash), id.slice(slash + 1)];
}

function pick(r: FaultObjectRecord): FaultObjectRecord {
  return { bucket: r.bucket, key: r.key, experimentId: r.experimentId, actionName: r.actionName };
}
