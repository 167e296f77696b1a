import { type ActiveFault, parseFaultConfig } from "@faultline/protocol";
import type { Clock } from "./clock.ts";
import { StoreError } from "./errors.ts";
import type { Logger } from "./log.ts";
import type { ObjectStore } from "./s3.ts";

export interface PollerOptions {
  store: ObjectStore;
  /** `<prefix><functionName>/`: the one prefix listed per poll. */
  prefix: string;
  functionName: string;
  clock: Clock;
  log: Logger;
  slowPollMs: number;
  hotPollMs: number;
}

interface Cached {
  etag: string;
  /** Undefined: the object is malformed or of an unknown version (already logged; not fetched again). */
  fault?: ActiveFault;
}

/**
 * Keeps the function's fault objects in memory. One ListObjectsV2 per poll, GetObject only for new or
 * changed ETags. Slow interval while nothing is active or scheduled, hot interval otherwise. A store error
 * keeps what is known (each fault still ends at its own endTime) and is logged once per distinct error.
 */
export class FaultPoller {
  readonly #o: PollerOptions;
  readonly #cache = new Map<string, Cached>();
  #inflight: Promise<void> | undefined;
  #lastAttemptMs = Number.NEGATIVE_INFINITY;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #lastSummary = "";
  polls = 0;

  constructor(options: PollerOptions) {
    this.#o = options;
  }

  /** Every known valid fault, including ended and not-yet-started ones (the injector checks the window). */
  faults(): ActiveFault[] {
    const out: ActiveFault[] = [];
    for (const entry of this.#cache.values()) if (entry.fault !== undefined) out.push(entry.fault);
    return out;
  }

  /** Hot while any fault is active or scheduled: its end is still ahead. */
  intervalMs(): number {
    const now = this.#o.clock.now();
    return this.faults().some((fault) => fault.endMs > now) ? this.#o.hotPollMs : this.#o.slowPollMs;
  }

  isStale(): boolean {
    return this.#o.clock.now() - this.#lastAttemptMs >= this.intervalMs();
  }

  /** Single flight: a poll already running is joined, not repeated. */
  poll(): Promise<void> {
    if (this.#inflight === undefined) {
      this.#inflight = this.#pollOnce().finally(() => {
        this.#inflight = undefined;
        this.#schedule();
      });
    }
    return this.#inflight;
  }

  /**
   * Called as an invocation arrives. Timers cannot be trusted in an environment frozen between invocations,
   * so a stale view is refreshed here, holding the invocation at most `maxWaitMs`.
   */
  async refreshIfStale(maxWaitMs: number): Promise<void> {
    if (this.#inflight === undefined && !this.isStale()) return;
    const polling = this.poll();
    // The budget counts from the poll's start, so a slow or unreachable store holds invocations for at most
    // `maxWaitMs` per poll in total, not `maxWaitMs` each.
    const waitMs = maxWaitMs - (this.#o.clock.now() - this.#lastAttemptMs);
    if (waitMs <= 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([polling, new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
    clearTimeout(timer);
  }

  /** Starts the background timer (it fires late or not at all while the environment is frozen; that is fine). */
  start(): void {
    this.#stopped = false;
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    if (this.#stopped) return;
    const wait = Math.max(0, this.#lastAttemptMs + this.intervalMs() - this.#o.clock.now());
    this.#timer = setTimeout(() => void this.poll(), wait);
    this.#timer.unref();
  }

  async #pollOnce(): Promise<void> {
    const { store, prefix, clock, log } = this.#o;
    const started = clock.now();
    this.#lastAttemptMs = started;
    this.polls++;
    log.debug("polling S3 for active faults impacting this Lambda function");
    try {
      const listed = await store.list(prefix);
      const seen = new Set<string>();
      for (const { key, etag } of listed) {
        if (!key.endsWith(".json")) continue;
        seen.add(key);
        if (this.#cache.get(key)?.etag === etag && etag !== "") continue;
        let object: { etag: string; body: string };
        try {
          object = await store.get(key);
        } catch (error) {
          // Deleted between the list and the get (the fault ended): as if it had not been listed.
          if (error instanceof StoreError && error.message.includes("NoSuchKey")) {
            seen.delete(key);
            continue;
          }
          throw error;
        }
        this.#cache.set(key, this.#parse(key, object.etag || etag, object.body));
      }
      for (const key of this.#cache.keys()) if (!seen.has(key)) this.#cache.delete(key);
      log.forget((key) => key.startsWith("poll:"));
      log.metric("PollDuration", clock.now() - started, "Milliseconds", { Invocation: this.#o.functionName });
      this.#report();
    } catch (error) {
      const message = (error as Error).message;
      log.once("WARN", `poll:${message}`, `failed to retrieve active fault configurations: ${message}`);
      log.metric("PollErrors", 1, "Count", { Invocation: this.#o.functionName });
    }
  }

  #parse(key: string, etag: string, body: string): Cached {
    try {
      return { etag, fault: parseFaultConfig(body) };
    } catch (error) {
      this.#o.log.once(
        "WARN",
        `invalid:${key}:${etag}`,
        `ignoring fault configuration ${key}: ${(error as Error).message}`,
      );
      return { etag };
    }
  }

  /** Logs when the set of live faults changes, not on every poll. */
  #report(): void {
    const now = this.#o.clock.now();
    const live = this.faults().filter((fault) => fault.endMs > now);
    const summary = live
      .map(
        (f) =>
          `${f.actionId} (experiment ${f.experimentId}, action ${f.actionName}, ${f.startTime} to ${f.endTime})`,
      )
      .sort()
      .join("; ");
    if (summary === this.#lastSummary) return;
    this.#lastSummary = summary;
    if (live.length > 0) this.#o.log.info(`found active faults: ${summary}`);
    else this.#o.log.info(`no active faults found (updated polling interval ${this.intervalMs() / 1000}s)`);
  }
}
