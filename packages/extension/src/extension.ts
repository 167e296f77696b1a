import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { FAULTLINE_VERSION } from "@faultline/protocol";
import { type Clock, type RandomSource, systemClock } from "./clock.ts";
import { ExtensionsApiClient } from "./extensions-api.ts";
import { createFaultSource } from "./fault-source.ts";
import { loggerFor } from "./log.ts";
import type { FaultPoller } from "./poller.ts";
import { type RuntimeApiProxy, startProxy } from "./proxy.ts";
import { DEFAULT_LISTENER_PORT, readSettings, type Settings } from "./settings.ts";

/** The name Lambda knows the extension by: the launcher's file name under /opt/extensions. */
export const EXTENSION_NAME = "faultline";

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
  const log = loggerFor(settings, clock, options.write);
  // A port file left by an earlier start in this /tmp must never point the runtime at a dead port.
  rmSync(settings.portFile, { force: true });
  log.info(`extension enabled ${FAULTLINE_VERSION}`);
  for (const problem of problems) log.error(`invalid setting, passing every invocation through: ${problem}`);

  const faults = createFaultSource({ settings, problems, log, clock, random });
  const { poller, plan, onInjected, settle } = faults;

  let proxy: RuntimeApiProxy | undefined;
  if (settings.upstream === undefined) {
    log.error("no Runtime API to forward to (AWS_LAMBDA_RUNTIME_API is not set): the proxy is not started");
  } else {
    try {
      proxy = await startProxy(
        { upstream: settings.upstream, plan, onInjected, beforeFirstNext: faults.holdInit, clock, log },
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
    faults.close();
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
          // Start a due poll or marker check now, in parallel with the runtime (the proxy joins a stale one);
          // the next event is asked for only once it ended, so the environment does not freeze mid-request.
          if (poller?.isDue()) void poller.refresh();
          const settling = settle();
          if (settling !== undefined) await settling;
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
