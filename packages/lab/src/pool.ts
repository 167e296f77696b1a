/**
 * One pool per function: concurrent invocations get separate environments (cold starts), warm ones are reused
 * (most recently used first, as Lambda tends to), idle ones shut down after `idleTimeoutMs`.
 * Reserved concurrency caps the environments busy at once; so does the account's concurrency limit, shared by
 * every pool of the lab. Beyond either a synchronous call gets TooManyRequests (with Lambda's reason), an
 * asynchronous (Event) one waits for a free slot, as Lambda's internal queue does.
 */
import { finished } from "node:stream/promises";
import type {
  EnvironmentFactory,
  ExecutionEnvironment,
  FunctionSpec,
  InvocationInput,
  InvocationReport,
  LabServices,
  LogSink,
  StreamCompletion,
} from "./contract.ts";
import { ServiceError, type ThrottleReason, TooManyRequestsError } from "./errors.ts";
import type { InvocationRecord } from "./metrics/lambda-metrics.ts";

export type { InvocationRecord } from "./metrics/lambda-metrics.ts";

/** Injectable so tests can drive idle expiry without waiting. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * The account-wide limit on concurrent executions (Lambda's "Concurrent executions" quota), shared by every pool
 * of a lab. Reserved concurrency is not subtracted from it: every busy environment counts once.
 */
export class AccountConcurrency {
  #busy = 0;
  #environments = 0;
  readonly #waiters = new Set<() => void>();
  /** Per pool: shuts down its least recently used idle environment; false when it has none. */
  readonly #evictors = new Set<() => boolean>();
  constructor(readonly limit: number) {}

  /**
   * Environments alive, idle ones included, stay within the limit too (so the lab's processes and memory are
   * bounded): a new one makes some pool shut an idle one down, as Lambda reclaims idle environments at will.
   */
  environmentCreated(): void {
    this.#environments += 1;
    if (this.#environments <= this.limit) return;
    for (const evict of this.#evictors) if (evict()) return;
  }

  environmentGone(): void {
    this.#environments = Math.max(0, this.#environments - 1);
  }

  addEvictor(evict: () => boolean): void {
    this.#evictors.add(evict);
  }

  get busy(): number {
    return this.#busy;
  }

  tryAcquire(): boolean {
    if (this.#busy >= this.limit) return false;
    this.#busy += 1;
    return true;
  }

  release(): void {
    this.#busy = Math.max(0, this.#busy - 1);
    for (const wake of [...this.#waiters]) wake();
  }

  /** Resolves at the next release (or at once when a slot is free). */
  whenReleased(): Promise<void> {
    if (this.#busy < this.limit) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        this.#waiters.delete(wake);
        resolve();
      };
      this.#waiters.add(wake);
    });
  }
}

export interface PoolOptions {
  spec: FunctionSpec;
  factory: EnvironmentFactory;
  services: LabServices;
  logSink: LogSink;
  idleTimeoutMs: number;
  /** The lab's account-wide limit; none → only reserved concurrency applies. */
  account?: AccountConcurrency;
  timers?: Timers;
  /** Told about every request once its outcome is known, throttled ones included (the lab's AWS/Lambda metrics). */
  onInvocation?: (record: InvocationRecord) => void;
}

export interface PoolStats {
  /** Environments alive now (idle + busy). */
  environments: number;
  idle: number;
  busy: number;
  /** Environments created since the pool started (= cold starts). */
  created: number;
  /** Event invocations waiting for a free slot. */
  queued: number;
}

export class FunctionPool {
  #spec: FunctionSpec;
  /** Busy environments started with an earlier configuration: retired when their invocation ends. */
  readonly #stale = new Set<ExecutionEnvironment>();
  readonly #options: PoolOptions;
  readonly #timers: Timers;
  /** Warm environments, most recently used last. */
  readonly #idle: ExecutionEnvironment[] = [];
  readonly #busy = new Set<ExecutionEnvironment>();
  readonly #all = new Set<ExecutionEnvironment>();
  readonly #idleTimers = new Map<ExecutionEnvironment, unknown>();
  readonly #waiters: Array<() => void> = [];
  readonly #background = new Set<Promise<unknown>>();
  #created = 0;
  #stopped = false;

  constructor(options: PoolOptions) {
    this.#spec = options.spec;
    this.#options = options;
    this.#timers = options.timers ?? realTimers;
    options.account?.addEvictor(() => this.#evictIdle());
  }

  get spec(): FunctionSpec {
    return this.#spec;
  }

  /**
   * A new configuration (UpdateFunctionConfiguration): later invocations get new environments with it; warm ones
   * are shut down now, busy ones when their invocation ends.
   */
  reconfigure(spec: FunctionSpec): void {
    this.#spec = spec;
    for (const env of this.#idle.splice(0)) {
      this.#clearIdleTimer(env);
      void env.shutdown("spindown");
    }
    for (const env of this.#busy) this.#stale.add(env);
  }

  /** Synchronous invocation. Throws TooManyRequestsError when reserved concurrency is exhausted. */
  async invoke(input: InvocationInput): Promise<InvocationReport> {
    if (this.#stopped) throw new ServiceError("The lab is stopping.");
    const startMs = Date.now();
    const throttled = this.#takeSlot();
    if (throttled) {
      this.#record({ startMs, durationMs: 0, error: false, throttled: true, concurrent: this.#busy.size });
      throw new TooManyRequestsError(throttled);
    }
    const env = this.#acquire();
    this.#busy.add(env);
    const concurrent = this.#busy.size;
    let report: InvocationReport;
    try {
      report = await env.invoke(input);
    } catch (error) {
      // The contract says invoke never rejects; if one does, the environment cannot be trusted.
      this.#busy.delete(env);
      this.#account?.release();
      void env.shutdown("failure");
      this.#record({ startMs, durationMs: Date.now() - startMs, error: true, throttled: false, concurrent });
      throw new ServiceError(`Environment ${env.id} failed: ${(error as Error).message}`);
    }
    const { outcome } = report;
    const record = (error: boolean, durationMs: number) =>
      this.#record({
        startMs,
        durationMs,
        error,
        throttled: false,
        concurrent,
        ...(report.initDurationMs !== undefined ? { initDurationMs: report.initDurationMs } : {}),
      });
    if (outcome.kind === "stream") {
      // The environment stays busy until the caller has the whole stream.
      const done: Promise<StreamCompletion> = outcome.completion ?? finished(outcome.body).then(() => ({}));
      done.then(
        (completion) => {
          record(Boolean(completion?.errorType), Date.now() - startMs);
          this.#release(env);
        },
        () => {
          record(true, Date.now() - startMs);
          this.#release(env);
        },
      );
    } else {
      record(outcome.kind === "function-error", report.durationMs);
      this.#release(env);
    }
    return report;
  }

  /** Asynchronous (Event) invocation: runs in the background, waiting for a slot if throttled. */
  invokeInBackground(input: InvocationInput): Promise<InvocationReport | undefined> {
    const run = (async () => {
      while (!this.#stopped) {
        if (this.#hasSlot()) return this.invoke(input);
        // Whichever limit is full: this function's reservation, or the account's.
        await (this.#hasReservedSlot() && this.#account
          ? this.#account.whenReleased()
          : new Promise<void>((resolve) => this.#waiters.push(resolve)));
      }
      return undefined;
    })().catch(() => undefined);
    this.#background.add(run);
    void run.finally(() => this.#background.delete(run));
    return run;
  }

  stats(): PoolStats {
    return {
      environments: this.#all.size,
      idle: this.#idle.length,
      busy: this.#busy.size,
      created: this.#created,
      queued: this.#waiters.length,
    };
  }

  /** Shuts every environment down; queued Event invocations are dropped. Resolves when all processes are gone. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const handle of this.#idleTimers.values()) this.#timers.clearTimeout(handle);
    this.#idleTimers.clear();
    for (const wake of this.#waiters.splice(0)) wake();
    await Promise.allSettled([...this.#all].map((env) => env.shutdown("spindown")));
  }

  #record(fields: Omit<InvocationRecord, "functionName">): void {
    try {
      this.#options.onInvocation?.({ functionName: this.spec.name, ...fields });
    } catch {
      // A failing observer must not fail the invocation.
    }
  }

  get #account(): AccountConcurrency | undefined {
    return this.#options.account;
  }

  #hasSlot(): boolean {
    const account = this.#account;
    return this.#hasReservedSlot() && (!account || account.busy < account.limit);
  }

  /** Takes a slot, or names the limit that is full (Lambda's throttle reason). */
  #takeSlot(): ThrottleReason | undefined {
    if (!this.#hasReservedSlot()) return "ReservedFunctionConcurrentInvocationLimitExceeded";
    if (this.#account && !this.#account.tryAcquire()) return "ConcurrentInvocationLimitExceeded";
    return undefined;
  }

  #hasReservedSlot(): boolean {
    const reserved = this.spec.reservedConcurrency;
    return reserved === undefined || this.#busy.size < reserved;
  }

  #acquire(): ExecutionEnvironment {
    for (let env = this.#idle.pop(); env; env = this.#idle.pop()) {
      this.#clearIdleTimer(env);
      // A dying environment is skipped; an environment re-initialising after a reset is still usable.
      if (env.state !== "dead" && env.state !== "shutting-down") return env;
    }
    const env = this.#options.factory.create(this.#spec, this.#options.services, this.#options.logSink);
    this.#created += 1;
    this.#all.add(env);
    env.onDead(() => this.#discard(env));
    this.#account?.environmentCreated();
    return env;
  }

  /** Shuts the least recently used idle environment down (the account needs room); false when none is idle. */
  #evictIdle(): boolean {
    const env = this.#idle.shift();
    if (!env) return false;
    this.#clearIdleTimer(env);
    void env.shutdown("spindown");
    return true;
  }

  #release(env: ExecutionEnvironment): void {
    if (this.#busy.delete(env)) this.#account?.release();
    if (this.#stopped || this.#stale.delete(env)) {
      void env.shutdown("spindown");
    } else if (this.#all.has(env) && env.state !== "dead" && env.state !== "shutting-down") {
      this.#idle.push(env);
      this.#idleTimers.set(
        env,
        this.#timers.setTimeout(() => {
          this.#idleTimers.delete(env);
          const at = this.#idle.indexOf(env);
          if (at >= 0) this.#idle.splice(at, 1);
          void env.shutdown("spindown");
        }, this.#options.idleTimeoutMs),
      );
    }
    this.#waiters.shift()?.();
  }

  #discard(env: ExecutionEnvironment): void {
    if (this.#all.delete(env)) this.#account?.environmentGone();
    this.#stale.delete(env);
    this.#clearIdleTimer(env);
    const at = this.#idle.indexOf(env);
    if (at >= 0) this.#idle.splice(at, 1);
  }

  #clearIdleTimer(env: ExecutionEnvironment): void {
    const handle = this.#idleTimers.get(env);
    if (handle !== undefined) this.#timers.clearTimeout(handle);
    this.#idleTimers.delete(env);
  }
}
