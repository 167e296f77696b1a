/**
 * One pool per function: concurrent invocations get separate environments (cold starts), warm ones are reused
 * (most recently used first, as Lambda tends to), idle ones shut down after `idleTimeoutMs`.
 * Reserved concurrency caps the environments busy at once; beyond it a synchronous call gets TooManyRequests,
 * an asynchronous (Event) one waits for a free slot, as Lambda's internal queue does.
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
import { ServiceError, TooManyRequestsError } from "./errors.ts";
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

export interface PoolOptions {
  spec: FunctionSpec;
  factory: EnvironmentFactory;
  services: LabServices;
  logSink: LogSink;
  idleTimeoutMs: number;
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
    if (!this.#hasSlot()) {
      this.#record({ startMs, durationMs: 0, error: false, throttled: true, concurrent: this.#busy.size });
      throw new TooManyRequestsError();
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
        await new Promise<void>((resolve) => this.#waiters.push(resolve));
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

  #hasSlot(): boolean {
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
    return env;
  }

  #release(env: ExecutionEnvironment): void {
    this.#busy.delete(env);
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
    this.#all.delete(env);
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
