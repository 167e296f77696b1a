import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { FAULTLINE_VERSION, functionPrefix } from "@faultline/protocol";
import { type Clock, type RandomSource, systemClock } from "./clock.ts";
import { ExtensionsApiClient } from "./extensions-api.ts";
import { type Plan, planInvocation } from "./injector.ts";
import { Logger } from "./log.ts";
import { FaultPoller } from "./poller.ts";
import { type RuntimeApiProxy, startProxy } from "./proxy.ts";
import { S3ObjectStore } from "./s3.ts";
import { DEFAULT_LISTENER_PORT, readSettings, type Settings } from "./settings.ts";

/** The name Lambda knows the extension by: the launcher's file name under /opt/extensions. */
export const EXTENSION_NAME = "faultline";
const PASS_THROUGH: Plan = Object.freeze({});
const NOTHING_LIVE: readonly never[] = Object.freeze([]);

/** The initial configuration check during init never holds init longer than this. */
export const INIT_POLL_BUDGET_MS = 1500;

export interface ExtensionOptions {
  env: Readonly<Record<string, string | undefined>>;
  clock?: Clock;
  random?: RandomSource;
  /** Log sink (default stdout). */
  write?: (line: string) => void;
  /** false: run only the proxy and the poller (tests that have no Extensions API). Default true. */
  register?: boolean;
}

export interface RunningExtension {
  readonly settings: Settings;
  /** The proxy's port, or undefined when it could not start (the wrapper then leaves the runtime alone). */
  readonly port: number | undefined;
  readonly poller: FaultPoller | undefined;
  /** Resolves after SHUTDOWN (or `stop`). */
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Start-up order matters: settings, listen, write the port file, register (Lambda starts the runtime only
 * after every extension registered, so the proxy is ready before the runtime's first call), then the bounded
 * initial poll, then the event loop.
 */
export async function startExtension(options: ExtensionOptions): Promise<RunningExtension> {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const { settings, problems } = readSettings(options.env);
  const log = new Logger({
    level: settings.logLevel,
    format: settings.logFormat,
    metrics: settings.metrics,
    functionName: settings.functionName,
    clock,
    write: options.write,
  });
  // A port file left by an earlier start in this /tmp must never point the runtime at a dead port.
  rmSync(settings.portFile, { force: true });
  log.info(`extension enabled ${FAULTLINE_VERSION}`);
  for (const problem of problems) log.error(`invalid setting, passing every invocation through: ${problem}`);

  let poller: FaultPoller | undefined;
  let store: S3ObjectStore | undefined;
  if (problems.length === 0 && settings.location !== undefined) {
    store = new S3ObjectStore(settings.location.bucket, settings.s3);
    poller = new FaultPoller({
      store,
      prefix: functionPrefix(settings.location, settings.functionName),
      functionName: settings.functionName,
      clock,
      log,
      slowPollMs: settings.slowPollMs,
      hotPollMs: settings.hotPollMs,
    });
  } else if (problems.length === 0) {
    log.warn("AWS_FIS_CONFIGURATION_LOCATION is not set: passing every invocation through");
  }

  const identity = { functionVersion: settings.functionVersion, invokedFunctionArn: "" };
  /** Runs on every invocation: no promise, object or array unless a fault is live or a poll is due. */
  function decide(invokedFunctionArn: string): Plan {
    const faults = poller?.faults() ?? NOTHING_LIVE;
    if (faults.length === 0) return PASS_THROUGH;
    identity.invokedFunctionArn = invokedFunctionArn;
    return planInvocation(faults, clock.now(), identity, random);
  }
  function plan(invokedFunctionArn: string): Plan | Promise<Plan> {
    if (poller === undefined || !(poller.polling || poller.isStale())) return decide(invokedFunctionArn);
    return poller.refreshIfStale(settings.pollMaxWaitMs).then(() => decide(invokedFunctionArn));
  }
  function onInjected(p: Plan, requestId: string, part: "delay" | "outcome"): void {
    const dimensions = { FaultId: "", Invocation: settings.functionName };
    if (part === "delay" && p.delay) {
      log.info(`adding ${p.delay.milliseconds} milliseconds of latency to function invocation`, requestId);
      log.metric("FaultInjected", 1, "Count", { ...dimensions, FaultId: p.delay.fault.actionId });
    } else if (part === "outcome" && p.outcome) {
      log.info(
        `modifying the function response (${p.outcome.fault.actionId}, preventExecution ${p.outcome.preventExecution})`,
        requestId,
      );
      log.metric("FaultInjected", 1, "Count", { ...dimensions, FaultId: p.outcome.fault.actionId });
    }
  }

  let proxy: RuntimeApiProxy | undefined;
  if (settings.upstream === undefined) {
    log.error("no Runtime API to forward to (AWS_LAMBDA_RUNTIME_API is not set): the proxy is not started");
  } else {
    try {
      proxy = await startProxy(
        { upstream: settings.upstream, plan, onInjected, clock, log },
        { explicit: settings.listenerPort, preferred: DEFAULT_LISTENER_PORT },
      );
      writePortFile(settings.portFile, proxy.port);
      log.debug(`runtime API proxy listening on 127.0.0.1:${proxy.port}, forwarding to ${settings.upstream}`);
    } catch (error) {
      proxy = undefined;
      log.error(
        `the runtime API proxy could not start, the function runs without it: ${(error as Error).message}`,
      );
    }
  }

  let stopped = false;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const api =
    options.register !== false && settings.extensionsApi !== undefined
      ? new ExtensionsApiClient(settings.extensionsApi)
      : undefined;

  async function stop(): Promise<void> {
    if (stopped) return done;
    stopped = true;
    poller?.stop();
    store?.close();
    api?.close();
    await proxy?.close();
    resolveDone();
  }

  if (api !== undefined) {
    // Failing to register is fatal for an extension: Lambda reports it as an init error.
    await api.register(EXTENSION_NAME, ["INVOKE", "SHUTDOWN"]);
  }
  if (poller !== undefined) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      poller.poll(),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, INIT_POLL_BUDGET_MS))),
    ]);
    clearTimeout(timer);
    poller.start();
  }
  if (api !== undefined) {
    void (async () => {
      try {
        for (;;) {
          const event = await api.next();
          if (event.eventType === "SHUTDOWN") break;
          // Start a due poll now, in parallel with the runtime; the proxy joins it if it is still running.
          if (poller?.isStale()) void poller.poll();
        }
      } catch (error) {
        if (!stopped) log.error(`extensions API: ${(error as Error).message}`);
      }
      await stop();
    })();
  }

  return { settings, port: proxy?.port, poller, done, stop };
}

function writePortFile(path: string, port: number): void {
  mkdirSync(dirname(path), { recursive: true });
  // Write then rename: the wrapper must never read half a number.
  const temporary = `${path}.${process.pid}`;
  writeFileSync(temporary, `${port}\n`);
  renameSync(temporary, path);
}
