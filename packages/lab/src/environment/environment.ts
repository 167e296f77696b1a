/**
 * One Lambda execution environment made of real processes: external extensions from /opt/extensions, then the
 * runtime (aws-lambda-ric for nodejs*, a bootstrap for provided.*), all talking to this environment's own
 * Runtime + Extensions API server. Frozen (SIGSTOP) between invocations, as Lambda does.
 */
import type { ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { basename, dirname, join, relative } from "node:path";
import { createInterface } from "node:readline";
import type {
  EnvironmentState,
  ExecutionEnvironment,
  FunctionSpec,
  InvocationInput,
  InvocationOutcome,
  InvocationReport,
  LabServices,
  LogSink,
} from "../contract.ts";
import { ExtensionsApi, type ShutdownReason } from "../extensions-api/index.ts";
import { labWorkRoot, listExtensions, mergeLayers } from "../layers.ts";
import { type InitErrorReport, type RuntimeApiServer, startRuntimeApi } from "../runtime-api/index.ts";
import {
  emptyDir,
  openSandbox,
  type Sandbox,
  type SandboxMode,
  type SandboxMounts,
} from "../sandbox/index.ts";
import { extensionEnvironment, isNodeRuntime, lambdaEnvironment, mapPath } from "./lambda-env.ts";
import { fnError, initTimeoutError, runtimeExitError, timeoutError, unavailableError } from "./outcomes.ts";
import { killAllOnExit, track, untrack } from "./reaper.ts";

export interface EnvironmentSettings {
  sandbox: SandboxMode;
  /** Lambda's init phase limit (10 s). */
  initTimeoutMs: number;
  /** Time extensions get to handle SHUTDOWN before SIGKILL (Lambda: 2000 ms with external extensions). */
  shutdownGraceMs: number;
  ricEntry: string;
  nodeBinary: string;
}

interface Proc {
  name: string;
  kind: "runtime" | "extension";
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  gone: boolean;
}

type InitFailure = Extract<InvocationOutcome, { kind: "function-error" }>;

/** One init phase: its request, its deadline, and how a failure ends it. */
interface InitPhase {
  requestId: string;
  deadline: number;
  fail(outcome: InitFailure, status: string): InitFailure;
}

type Race<T> = { kind: "value"; value: T } | { kind: "timeout" } | { kind: "exit"; how: string };

export class LabEnvironment implements ExecutionEnvironment {
  readonly id = randomUUID().replaceAll("-", "");
  private currentState: EnvironmentState = "ready";
  private readonly streamName: string;
  private api: RuntimeApiServer | undefined;
  private ext: ExtensionsApi | undefined;
  private procs: Proc[] = [];
  private initialized = false;
  private frozen = false;
  private chain: Promise<unknown> = Promise.resolve();
  private shutdownPromise: Promise<void> | undefined;
  private readonly signals = new EventEmitter();
  private readonly deadListeners: Array<() => void> = [];
  private deadFired = false;
  private currentLog: string[] | undefined;
  private mounts: SandboxMounts | undefined;
  private sandbox: Sandbox | undefined;

  constructor(
    readonly spec: FunctionSpec,
    private readonly services: LabServices,
    private readonly logSink: LogSink,
    private readonly settings: EnvironmentSettings,
  ) {
    const d = new Date().toISOString().slice(0, 10).replaceAll("-", "/");
    this.streamName = `${d}/[$LATEST]${this.id}`;
    this.signals.setMaxListeners(0);
  }

  get state(): EnvironmentState {
    return this.currentState;
  }

  get logStreamName(): string {
    return this.streamName;
  }

  onDead(listener: () => void): void {
    if (this.deadFired) queueMicrotask(listener);
    else this.deadListeners.push(listener);
  }

  invoke(input: InvocationInput): Promise<InvocationReport> {
    const run = this.chain.then(() => this.run(input));
    this.chain = run.then(
      (r) => r.done,
      () => {},
    );
    return run.then(
      (r) => r.report,
      (err: unknown) =>
        this.report(
          fnError("Runtime.Unknown", `RequestId: ${input.requestId} Error: ${(err as Error).message}`),
          [],
          0,
        ),
    );
  }

  shutdown(reason: ShutdownReason): Promise<void> {
    this.shutdownPromise ??= this.doShutdown(reason);
    return this.shutdownPromise;
  }

  // ---- invocation ----

  private async run(input: InvocationInput): Promise<{ report: InvocationReport; done: Promise<void> }> {
    const none = Promise.resolve();
    if (this.currentState === "dead" || this.currentState === "shutting-down") {
      return { report: this.report(unavailableError(input.requestId), [], 0), done: none };
    }
    const log: string[] = [];
    this.currentLog = log;
    let initDurationMs: number | undefined;
    if (!this.initialized) {
      this.currentState = "initializing";
      const t0 = performance.now();
      const failure = await this.init(input.requestId);
      initDurationMs = performance.now() - t0;
      if (failure) {
        this.line(`START RequestId: ${input.requestId} Version: $LATEST`);
        await this.discard();
        this.endLines(input.requestId, 0, initDurationMs, `Status: error\tError Type: ${failure.errorType}`);
        this.currentLog = undefined;
        return { report: this.report(failure, log, 0, initDurationMs), done: none };
      }
    }
    this.currentState = "invoking";
    this.line(`START RequestId: ${input.requestId} Version: $LATEST`);
    const timeoutMs = this.spec.timeoutSeconds * 1000;
    const start = performance.now();
    const deadlineMs = Date.now() + timeoutMs;
    this.thaw();
    const api = this.api!;
    const first = await this.race(api.invoke(input, { deadlineMs }), timeoutMs);
    if (first.kind !== "value")
      return { report: await this.failInvocation(input, first, start, initDurationMs, log), done: none };
    const outcome = first.value;
    // Extensions API doc (Invoke phase): the caller gets the response when the runtime posts it; extensions may
    // carry on, the invoke phase (its duration, END/REPORT) ends when they all call Next, and the next
    // invocation of this environment waits for that.
    const report = this.report(outcome, log, performance.now() - start, initDurationMs);
    const phase = this.endInvokePhase(input, outcome, { start, deadlineMs, initDurationMs, log });
    report.phaseEnd = phase;
    return { report, done: phase.then(() => {}) };
  }

  /**
   * The rest of the invoke phase after the response: a streamed body to its end, then the runtime and every
   * extension back in Next (all within the function's timeout). Resolves with the whole invocation's report.
   */
  private async endInvokePhase(
    input: InvocationInput,
    outcome: InvocationOutcome,
    t: { start: number; deadlineMs: number; initDurationMs: number | undefined; log: string[] },
  ): Promise<InvocationReport> {
    let postRuntimeMs = 0;
    const ended = (async () => {
      if (outcome.kind === "stream") await (outcome.completion ?? Promise.resolve({}));
      await this.api!.whenReady();
      // PostRuntimeExtensionsDuration: from the runtime's Next to the last extension's Next.
      const runtimeDone = performance.now();
      await this.ext!.whenAllReady();
      postRuntimeMs = performance.now() - runtimeDone;
    })();
    const r = await this.race(ended, t.deadlineMs - Date.now());
    if (r.kind !== "value") {
      if (outcome.kind === "stream")
        outcome.body.destroy(new Error(r.kind === "timeout" ? "Task timed out" : "Runtime exited"));
      return this.failInvocation(input, r, t.start, t.initDurationMs, t.log, outcome);
    }
    const durationMs = performance.now() - t.start;
    if (!this.stopping) {
      await new Promise((r) => setImmediate(r)); // let the last output lines in before END
      this.freeze();
      this.currentState = "ready";
      this.endLines(input.requestId, durationMs, t.initDurationMs);
      this.currentLog = undefined;
    }
    const report = this.report(outcome, t.log, durationMs, t.initDurationMs);
    report.postRuntimeExtensionsDurationMs = postRuntimeMs;
    return report;
  }

  private async failInvocation(
    input: InvocationInput,
    r: Race<unknown>,
    start: number,
    initDurationMs: number | undefined,
    log: string[],
    answered?: InvocationOutcome,
  ): Promise<InvocationReport> {
    const durationMs = performance.now() - start;
    let outcome: InvocationOutcome;
    if (r.kind === "timeout") {
      // Lambda's own log line, then the environment is reset: the next invoke starts a fresh init.
      this.line(
        `${new Date().toISOString()} ${input.requestId} Task timed out after ${this.spec.timeoutSeconds.toFixed(2)} seconds`,
      );
      outcome = timeoutError(input.requestId, this.spec.timeoutSeconds);
      await this.resetProcesses("timeout");
      this.currentState = "ready";
      this.endLines(input.requestId, durationMs, initDurationMs, "Status: timeout");
    } else {
      outcome = runtimeExitError(input.requestId, r.kind === "exit" ? r.how : "unknown");
      // Lambda resets the environment after a crash as after a timeout: same /tmp, a fresh init next time.
      // (An exit caused by a shutdown in progress ends the environment.)
      if (this.stopping) await this.discard();
      else {
        await this.resetProcesses();
        this.currentState = "ready";
      }
      this.endLines(
        input.requestId,
        durationMs,
        initDurationMs,
        "Status: error\tError Type: Runtime.ExitError",
      );
    }
    this.currentLog = undefined;
    // A failure after the response (extensions over the timeout): the caller keeps what the runtime answered.
    return this.report(answered ?? outcome, log, durationMs, initDurationMs);
  }

  /** Resolves with the value, or the deadline, or the runtime's exit — whichever comes first. */
  private race<T>(p: Promise<T>, ms: number): Promise<Race<T>> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish({ kind: "timeout" }), Math.max(0, ms));
      const onExit = (how: string) => finish({ kind: "exit", how });
      this.signals.once("runtime-exit", onExit);
      const finish = (r: Race<T>) => {
        clearTimeout(timer);
        this.signals.off("runtime-exit", onExit);
        resolve(r);
      };
      p.then(
        (value) => finish({ kind: "value", value }),
        () => {}, // aborted by a reset: the timeout or exit branch has already settled it
      );
    });
  }

  // ---- init ----

  /** Returns undefined when init completed, else the outcome the caller gets. */
  private async init(requestId: string): Promise<InitFailure | undefined> {
    const prepared = await this.openEnvironmentSandbox(requestId);
    if ("outcome" in prepared) return prepared.outcome;
    const { opt, paths } = prepared;
    await this.ensureApi();
    if (this.stopping) {
      // Shut down while this init was waiting: start nothing, and do not leave the new server listening.
      await this.sandbox!.destroy();
      await this.api?.close();
      return unavailableError(requestId);
    }
    const env = this.functionEnvironment(paths);
    this.line(`INIT_START Runtime Version: ${this.spec.runtime.replace(/\.x$/, "")}.lab`);
    const phase = this.initPhase(requestId);
    const extensionsFailure = await this.initExtensions(opt, paths, env, phase);
    if (extensionsFailure) return extensionsFailure;
    const runtimeFailure = await this.initRuntime(paths, env, phase);
    if (runtimeFailure) return runtimeFailure;
    this.initialized = true;
    return undefined;
  }

  /** Merges the layers into /opt, makes this environment's /tmp and opens the sandbox over them. */
  private async openEnvironmentSandbox(
    requestId: string,
  ): Promise<{ opt: string; paths: SandboxMounts } | { outcome: InitFailure }> {
    const spec = this.spec;
    let opt: string;
    try {
      opt = await mergeLayers(spec.layers);
    } catch (err) {
      return {
        outcome: fnError("Runtime.InvalidLayer", `RequestId: ${requestId} Error: ${(err as Error).message}`),
      };
    }
    const tmp = join(await labWorkRoot(), `tmp-${this.id}`);
    await mkdir(tmp, { recursive: true });
    const node = isNodeRuntime(spec.runtime);
    this.mounts = {
      opt,
      task: spec.codeDir,
      tmp,
      // Only Node runtimes have Lambda's Node runtime client in /var/runtime and node in /var/lang/bin; an OS-only
      // runtime is "an OS environment" with no language runtime (runtimes-provided), and brings its own client in
      // its bootstrap (the docs are silent on what else /var/runtime holds there: the lab gives an empty dir).
      runtime: node ? dirname(dirname(this.settings.ricEntry)) : await emptyDir(),
      lang: node ? dirname(this.settings.nodeBinary) : await emptyDir(),
    };
    try {
      this.sandbox = await openSandbox(this.settings.sandbox, this.mounts, { osOnly: !node });
    } catch (err) {
      return {
        outcome: fnError("Runtime.Unknown", `RequestId: ${requestId} Error: ${(err as Error).message}`),
      };
    }
    return { opt, paths: this.sandbox.paths };
  }

  /** The function's environment variables, as the runtime and (filtered) the extensions get them. */
  private functionEnvironment(paths: SandboxMounts): Record<string, string> {
    return {
      ...lambdaEnvironment({
        spec: this.spec,
        services: this.services,
        runtimeApi: this.api!.address,
        logStreamName: this.streamName,
        paths,
      }),
      FAULTLINE_LAB_OWNER: String(process.pid),
      ...(process.env.FAULTLINE_TEST_RUN ? { FAULTLINE_TEST_RUN: process.env.FAULTLINE_TEST_RUN } : {}),
    };
  }

  /** The init deadline starts now; a failure ends the phase with Lambda's INIT_REPORT line. */
  private initPhase(requestId: string): InitPhase {
    const deadline = Date.now() + this.settings.initTimeoutMs;
    return {
      requestId,
      deadline,
      fail: (outcome, status) => {
        this.line(
          `INIT_REPORT Init Duration: ${(this.settings.initTimeoutMs - (deadline - Date.now())).toFixed(2)} ms\tPhase: init\tStatus: ${status}`,
        );
        return outcome;
      },
    };
  }

  /** Step 1: extensions start and must all register before the runtime starts. */
  private async initExtensions(
    opt: string,
    paths: SandboxMounts,
    env: Record<string, string>,
    phase: InitPhase,
  ): Promise<InitFailure | undefined> {
    const ext = this.ext!;
    const names = await listExtensions(opt);
    const registered = new Promise<void>((resolve) => {
      const check = () => {
        if (ext.list().length >= names.length) {
          this.signals.off("ext-register", check);
          resolve();
        }
      };
      this.signals.on("ext-register", check);
      check();
    });
    for (const name of names) {
      this.start(
        "extension",
        name,
        [`${paths.opt}/extensions/${name}`],
        extensionEnvironment(env),
        paths.task,
      );
    }
    const failure = await this.initStep(registered, phase);
    if (failure) return failure;
    ext.closeRegistration();
    return undefined;
  }

  /** Step 2: the runtime; init completes when it first parks in /next and every extension has finished its init. */
  private async initRuntime(
    paths: SandboxMounts,
    env: Record<string, string>,
    phase: InitPhase,
  ): Promise<InitFailure | undefined> {
    const argv = this.runtimeCommand(env, paths);
    if (typeof argv === "string") {
      return phase.fail(
        fnError("Runtime.InvalidEntrypoint", `RequestId: ${phase.requestId} Error: ${argv}`),
        "error",
      );
    }
    this.start("runtime", "runtime", argv, env, paths.task);
    const api = this.api!;
    const ext = this.ext!;
    const ready = (async () => {
      await api.whenReady();
      await ext.whenAllReady();
    })();
    return this.initStep(ready, phase);
  }

  /** Waits for one init step: undefined when it finished, else the failure the caller gets. */
  private async initStep(p: Promise<void>, phase: InitPhase): Promise<InitFailure | undefined> {
    const r = await this.initRace(p, phase.deadline, phase.requestId);
    if (r.kind === "timeout") {
      return phase.fail(initTimeoutError(phase.requestId, this.settings.initTimeoutMs), "timeout");
    }
    if (r.kind === "failed") return phase.fail(r.outcome, "error");
    return undefined;
  }

  /** Waits for `p`, failing early on an init error (runtime or extension), a process exit, or the init deadline. */
  private initRace(
    p: Promise<void>,
    deadline: number,
    requestId: string,
  ): Promise<{ kind: "ok" } | { kind: "timeout" } | { kind: "failed"; outcome: InitFailure }> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => done({ kind: "timeout" }), Math.max(0, deadline - Date.now()));
      const onInitError = (report: InitErrorReport) =>
        done({
          kind: "failed",
          outcome: { kind: "function-error", errorType: report.errorType, payload: report.payload },
        });
      const onExtError = (name: string, errorType: string) =>
        done({ kind: "failed", outcome: fnError(errorType, `Extension ${name} failed to initialise`) });
      const onExit = (how: string) =>
        done({ kind: "failed", outcome: fnError("Runtime.ExitError", `Runtime exited with error: ${how}`) });
      const onExtExit = (name: string, how: string) =>
        done({
          kind: "failed",
          outcome: fnError("Extension.Crash", `Extension ${name} exited during init: ${how}`),
        });
      const done = (r: Parameters<typeof resolve>[0]) => {
        clearTimeout(timer);
        this.signals.off("runtime-init-error", onInitError);
        this.signals.off("ext-init-error", onExtError);
        this.signals.off("runtime-exit", onExit);
        this.signals.off("ext-exit", onExtExit);
        this.signals.off("stop", onStop);
        resolve(r);
      };
      const onStop = () => done({ kind: "failed", outcome: unavailableError(requestId) });
      if (this.stopping) return onStop();
      this.signals.once("stop", onStop);
      this.signals.on("runtime-init-error", onInitError);
      this.signals.on("ext-init-error", onExtError);
      this.signals.on("runtime-exit", onExit);
      this.signals.on("ext-exit", onExtExit);
      p.then(() => done({ kind: "ok" }));
    });
  }

  private runtimeCommand(env: Record<string, string>, paths: SandboxMounts): string[] | string {
    const spec = this.spec;
    if (isNodeRuntime(spec.runtime)) {
      // The client as the process sees it: /var/runtime/bin/index.mjs in a namespace, the host path otherwise.
      const ricEntry = join(paths.runtime, relative(this.mounts!.runtime, this.settings.ricEntry));
      const nodeBinary = join(paths.lang, basename(this.settings.nodeBinary));
      const cmd = [nodeBinary, ricEntry, spec.handler];
      const wrapper = env.AWS_LAMBDA_EXEC_WRAPPER;
      // Lambda runs `wrapper <runtime command…>` for managed runtimes.
      return wrapper ? [this.settings.sandbox === "plain" ? mapPath(wrapper, paths) : wrapper, ...cmd] : cmd;
    }
    const mounts = this.mounts!;
    if (existsSync(join(mounts.task, "bootstrap"))) return [`${paths.task}/bootstrap`];
    if (existsSync(join(mounts.opt, "bootstrap"))) return [`${paths.opt}/bootstrap`];
    return "Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]";
  }

  private async ensureApi(): Promise<void> {
    if (this.api) return;
    const ext = new ExtensionsApi({
      functionName: this.spec.name,
      functionVersion: "$LATEST",
      handler: this.spec.handler,
      accountId: this.spec.accountId,
    });
    const api = await startRuntimeApi({ routes: ext.routes });
    api.onDispatch((inv) => ext.dispatchInvoke(inv));
    api.onInitError((r) => this.signals.emit("runtime-init-error", r));
    ext.onRegister(() => this.signals.emit("ext-register"));
    ext.onError((kind, r) => {
      if (kind === "init-error") this.signals.emit("ext-init-error", r.extension, r.errorType);
      this.line(`EXTENSION ${r.extension} reported ${kind}: ${r.errorType}`);
    });
    this.api = api;
    this.ext = ext;
  }

  // ---- processes ----

  private start(
    kind: Proc["kind"],
    name: string,
    argv: string[],
    env: Record<string, string>,
    cwd: string,
  ): void {
    if (this.stopping) return;
    const child = this.sandbox!.spawn(argv, env, cwd);
    const proc: Proc = {
      name,
      kind,
      child,
      gone: false,
      exited: new Promise((resolve) => {
        child.once("exit", (code, signal) => resolve({ code, signal }));
        child.once("error", () => resolve({ code: null, signal: null }));
      }),
    };
    this.procs.push(proc);
    if (child.pid) track(child.pid);
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on("line", (l) => {
        // The sandbox's own wrapper may complain while being killed; that is not the function's output.
        if (!l.startsWith("unshare: ")) this.line(l);
      });
    }
    void proc.exited.then(({ code, signal }) => {
      proc.gone = true;
      if (child.pid) untrack(child.pid);
      const how = signal ? `signal: ${signalName(signal)}` : `exit status ${code}`;
      if (kind === "runtime") {
        this.signals.emit("runtime-exit", how);
        // A runtime dying while idle takes the environment with it.
        if (this.currentState === "ready" && this.initialized && !this.resetting) void this.discard();
      } else {
        this.signals.emit("ext-exit", name, how);
        this.ext?.forget(name);
      }
    });
  }

  private resetting = false;

  /**
   * Extensions API doc (Failure handling): after a timeout or a runtime error Lambda shuts the runtime down, then
   * sends SHUTDOWN with the reason to every external extension (its grace period applies), then re-initialises
   * on the next invocation.
   */
  private async resetProcesses(reason: ShutdownReason = "failure"): Promise<void> {
    this.resetting = true;
    await this.killRuntime();
    await this.shutdownExtensions(reason);
    await this.killAll();
    this.api?.reset("environment reset");
    this.ext?.reset();
    this.initialized = false;
    this.resetting = false;
  }

  /** SHUTDOWN to subscribed extensions; resolves when they are all back in Next (or gone), at most the grace. */
  private async shutdownExtensions(reason: ShutdownReason): Promise<void> {
    const ext = this.ext;
    if (!ext || !this.procs.some((p) => !p.gone) || ext.subscribers("SHUTDOWN") === 0) return;
    const grace = this.settings.shutdownGraceMs;
    ext.dispatchShutdown(reason, Date.now() + grace);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, grace);
      void ext.whenAllReady().then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** The runtime's processes only (a reset stops the runtime before its extensions get SHUTDOWN). */
  private async killRuntime(): Promise<void> {
    const runtime = this.procs.filter((p) => p.kind === "runtime" && !p.gone);
    for (const p of runtime) {
      const leader = p.child.pid;
      if (!leader) continue;
      // In a namespace the leader is nsenter, which must live to reap the runtime (see killAll): kill its child.
      const child = this.settings.sandbox === "namespace" ? childOf(leader) : undefined;
      signal(child ?? -leader, "SIGKILL");
      signal(-leader, "SIGCONT");
    }
    await Promise.all(runtime.map((p) => p.exited));
  }

  /** The environment can take no more invocations. */
  private discard(): Promise<void> {
    this.discardPromise ??= (async () => {
      this.currentState = "dead";
      this.stopping = true;
      this.signals.emit("stop");
      this.resetting = true;
      await this.killAll();
      await this.api?.close();
      if (this.mounts) await rm(this.mounts.tmp, { recursive: true, force: true });
      this.fireDead();
    })();
    return this.discardPromise;
  }

  private discardPromise: Promise<void> | undefined;
  /** Set once shutdown or discard began: an init in progress must not start anything more. */
  private stopping = false;

  private async killAll(): Promise<void> {
    const live = this.procs.filter((p) => !p.gone);
    const sandbox = this.sandbox;
    this.sandbox = undefined;
    // A stopped (frozen) leader must run to reap its child.
    for (const p of live) if (p.child.pid) signal(-p.child.pid, "SIGCONT");
    // Namespace mode: SIGKILL of the namespace's init kills every process in it; each leader (nsenter, outside the
    // namespace) reaps its child and exits. Killing the leaders as well would leave their children to the dying
    // init, which then waits on them for over a second.
    const sandboxGone = sandbox?.destroy();
    if (sandbox?.mode !== "namespace") for (const p of live) if (p.child.pid) signal(-p.child.pid, "SIGKILL");
    await Promise.all(
      live.map(async (p) => {
        // Backstop: a leader that has not exited soon after (stopped again, say) gets SIGCONT and SIGKILL itself;
        // a stop must never wait forever on one process.
        const late = await Promise.race([
          p.exited.then(() => false),
          new Promise<boolean>((r) => setTimeout(() => r(true), LEADER_EXIT_GRACE_MS).unref()),
        ]);
        if (late && p.child.pid) {
          signal(p.child.pid, "SIGCONT");
          signal(-p.child.pid, "SIGKILL");
        }
        await p.exited;
      }),
    );
    await sandboxGone;
    // The leader's exit does not mean its group is gone (grandchildren die asynchronously).
    await Promise.all(live.map((p) => (p.child.pid ? groupGone(p.child.pid) : undefined)));
    this.procs = [];
    this.frozen = false;
    this.stopNudging();
  }

  /** SIGSTOP every process group: module timers do not tick while idle, as in Lambda. */
  private freeze(): void {
    // Never once a stop or reset has begun: a SIGSTOP landing after killAll's SIGCONT leaves a namespace leader
    // stopped with its killed child unreaped, and the environment never finishes dying (seen with a stream that
    // ended while the lab was stopping).
    if (this.stopping || this.resetting) return;
    this.stopNudging();
    this.signalAll("SIGSTOP");
    this.frozen = true;
  }

  private thaw(): void {
    if (!this.frozen) return;
    this.signalAll("SIGCONT");
    this.frozen = false;
    this.startNudging();
  }

  /**
   * util-linux nsenter, each process's leader in a namespace, waits on its child with WUNTRACED: when it sees the
   * child stopped it stops itself, and continues the child only once it is continued. A freeze can leave it holding
   * that stop: after the thaw it stops itself again while its child runs on, and can no longer reap it, so the
   * child's exit goes unseen (a runtime crash read as a timeout, a SHUTDOWN waiting out the whole grace). While
   * thawed, leaders get a SIGCONT now and then: nothing for a running one, the way out for a stopped one.
   */
  private nudge: NodeJS.Timeout | undefined;

  private startNudging(): void {
    if (this.settings.sandbox !== "namespace" || this.nudge) return;
    this.nudge = setInterval(() => {
      for (const p of this.procs) if (!p.gone && p.child.pid) signal(p.child.pid, "SIGCONT");
    }, LEADER_NUDGE_MS);
    this.nudge.unref();
  }

  private stopNudging(): void {
    clearInterval(this.nudge);
    this.nudge = undefined;
  }

  private signalAll(sig: NodeJS.Signals): void {
    for (const p of this.procs) {
      if (p.gone || !p.child.pid) continue;
      try {
        process.kill(-p.child.pid, sig);
      } catch {
        // exited in between
      }
    }
  }

  private async doShutdown(reason: ShutdownReason): Promise<void> {
    if (this.discardPromise) return this.discardPromise;
    this.stopping = true;
    this.signals.emit("stop");
    this.currentState = "shutting-down";
    this.thaw();
    // Lambda's order with external extensions: the runtime is stopped first, then extensions get SHUTDOWN.
    if (this.ext && this.ext.subscribers("SHUTDOWN") > 0 && this.procs.some((p) => !p.gone)) {
      await this.terminateRuntime();
    }
    await this.shutdownExtensions(reason);
    await this.discard();
  }

  /**
   * Lambda's graceful shutdown with external extensions: SIGTERM to the runtime first, up to 300 ms to exit, then
   * SIGKILL; extensions get SHUTDOWN after (Lambda docs, Extensions API › Shutdown phase). So a runtime never sees
   * an extension's proxy vanish under its parked /next.
   */
  private async terminateRuntime(): Promise<void> {
    const runtime = this.procs.find((p) => p.kind === "runtime" && !p.gone);
    const leader = runtime?.child.pid;
    if (!runtime || !leader) return;
    // In a namespace the leader is nsenter, which does not forward signals: the runtime is its child.
    const target = this.settings.sandbox === "namespace" ? childOf(leader) : leader;
    if (target) signal(target, "SIGTERM");
    const exited = await Promise.race([
      runtime.exited.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), RUNTIME_SHUTDOWN_MS).unref()),
    ]);
    // Only the runtime itself in a namespace: nsenter must live to reap it (see killAll).
    if (!exited) signal(this.settings.sandbox === "namespace" && target ? target : -leader, "SIGKILL");
  }

  private fireDead(): void {
    if (this.deadFired) return;
    this.deadFired = true;
    for (const l of this.deadListeners.splice(0)) l();
  }

  // ---- logs and reports ----

  private line(text: string): void {
    this.logSink.write(this.spec.name, this.streamName, text, Date.now());
    this.currentLog?.push(text);
  }

  private endLines(requestId: string, durationMs: number, initDurationMs?: number, extra?: string): void {
    this.line(`END RequestId: ${requestId}`);
    const parts = [
      `REPORT RequestId: ${requestId}`,
      `Duration: ${durationMs.toFixed(2)} ms`,
      `Billed Duration: ${Math.ceil(durationMs)} ms`,
      `Memory Size: ${this.spec.memorySizeMb} MB`,
      `Max Memory Used: ${this.maxMemoryUsedMb()} MB`,
    ];
    if (initDurationMs !== undefined) parts.push(`Init Duration: ${initDurationMs.toFixed(2)} ms`);
    if (extra) parts.push(extra);
    this.line(`${parts.join("\t")}\t`);
  }

  private report(
    outcome: InvocationOutcome,
    log: string[],
    durationMs: number,
    initDurationMs?: number,
  ): InvocationReport {
    const r: InvocationReport = {
      outcome,
      log: log.length ? `${log.join("\n")}\n` : "",
      durationMs,
      billedDurationMs: Math.ceil(durationMs),
      maxMemoryUsedMb: this.maxMemoryUsedMb(),
    };
    if (initDurationMs !== undefined) r.initDurationMs = initDurationMs;
    return r;
  }

  private peakKb = 0;

  /** Peak resident memory (VmHWM) summed over every process of the environment. */
  private maxMemoryUsedMb(): number {
    let kb = 0;
    for (const p of this.procs) {
      if (!p.gone && p.child.pid) kb += treeHwmKb(p.child.pid);
    }
    this.peakKb = Math.max(this.peakKb, kb);
    return Math.max(1, Math.round(this.peakKb / 1024));
  }
}

/** What Lambda reserves for the runtime's own graceful shutdown when external extensions are registered. */
const RUNTIME_SHUTDOWN_MS = 300;

function childOf(pid: number): number | undefined {
  try {
    const c = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/)[0];
    return c ? Number(c) : undefined;
  } catch {
    return undefined;
  }
}

/** How often a thawed namespace environment's leaders are nudged (see startNudging): the most an exit goes unseen. */
const LEADER_NUDGE_MS = 20;

/** How long killAll waits for a signalled leader before killing it directly. */
const LEADER_EXIT_GRACE_MS = 2000;

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** Resolves once no live (non-zombie) process is left in the group; gives up after 5 s. */
async function groupGone(pgid: number): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    try {
      process.kill(-pgid, 0);
    } catch {
      return;
    }
    if (!liveMemberOf(pgid)) return;
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** True when a non-zombie process belongs to the group (orphaned zombies wait on the host's init). */
function liveMemberOf(pgid: number): boolean {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) === pgid && fields[0] !== "Z") return true;
    } catch {
      // exited while we looked
    }
  }
  return false;
}

function treeHwmKb(pid: number, depth = 0): number {
  if (depth > 8) return 0;
  let kb = 0;
  try {
    const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    if (m) kb += Number(m[1]);
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
    if (children) for (const c of children.split(/\s+/)) kb += treeHwmKb(Number(c), depth + 1);
  } catch {
    // exited while we looked
  }
  return kb;
}

function signalName(signal: NodeJS.Signals): string {
  const names: Record<string, string> = {
    SIGKILL: "killed",
    SIGSEGV: "segmentation fault",
    SIGABRT: "aborted",
    SIGTERM: "terminated",
  };
  return names[signal] ?? signal;
}

export { killAllOnExit };
