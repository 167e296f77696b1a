/**
 * How a long-running command (`serve`, `up`, `lab up`) learns it must stop, and stops within a bounded time.
 *
 * A stop is requested by SIGINT, SIGTERM or SIGHUP — what a terminal, a supervisor (systemd, docker, CI runners)
 * or a closing terminal sends — or by the parent process going away. The parent matters because of
 * `npx faultline up`: on SIGTERM `npm exec` exits at once without waiting for its child, so faultline would live
 * on, re-parented to init, with every function of the lab. Node has no PR_SET_PDEATHSIG, so the parent is watched
 * by polling `process.ppid`: when it changes, the process that started us is gone.
 */
import type { CliIO } from "./command.ts";

/**
 * How long a command may take to stop once asked. The engine gives its cleanup 8 s of it
 * (EngineOptions.shutdownTimeoutMs); what S3 has not confirmed by then stays recorded for the next start.
 */
export const STOP_GRACE_MS = 10_000;

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
/** Read when the CLI loads: a parent that dies while the lab is still starting is noticed too. */
const PARENT = process.ppid;

export type StopReason = NodeJS.Signals | "parent exited";

export interface StopOnSignalOptions {
  graceMs?: number;
  /** How the process ends when stopping overruns the grace period or a second request comes. */
  exit?: (code: number) => void;
  /** Where the signals come from (tests emit them on their own emitter). */
  signals?: Pick<NodeJS.EventEmitter, "on">;
  /** Stop when the parent exits (default true); false for `nohup` / `setsid`-style starts meant to outlive it. */
  exitWithParent?: boolean;
  /** How often the parent is checked (default 500 ms). */
  parentPollMs?: number;
}

/**
 * Resolves after the first stop request (a signal, or the parent's exit) once `stop()` has finished. Stopping is
 * bounded: past `graceMs`, or on a second request, the process exits at once (code 1), saying so — a stuck
 * dependency never keeps it up, and after the parent's exit nobody is left to send SIGKILL.
 */
export function untilStopSignal(
  stop: (reason: StopReason) => Promise<void>,
  io: CliIO,
  {
    graceMs = STOP_GRACE_MS,
    exit = (code) => process.exit(code),
    signals = process,
    exitWithParent = true,
    parentPollMs = 500,
  }: StopOnSignalOptions = {},
): Promise<StopReason> {
  return new Promise((resolve) => {
    let stopping = false;
    let overrun: NodeJS.Timeout | undefined;
    const request = (reason: StopReason) => {
      if (stopping) {
        clearTimeout(overrun);
        io.stderr(`${reason} again: exiting now\n`);
        return exit(1);
      }
      stopping = true;
      clearInterval(watch);
      io.stderr(
        `faultline: ${reason === "parent exited" ? "the parent process exited" : reason}, stopping\n`,
      );
      overrun = setTimeout(() => {
        io.stderr(`stopping took longer than ${graceMs} ms: exiting now\n`);
        exit(1);
      }, graceMs);
      stop(reason)
        .catch((error: unknown) => io.stderr(`error while stopping: ${(error as Error).message}\n`))
        .finally(() => {
          clearTimeout(overrun);
          resolve(reason);
        });
    };
    for (const signal of SIGNALS) signals.on(signal, request);
    // Started by init itself (a container's entry point): there is no parent to outlive.
    const watchParent = exitWithParent && PARENT !== 1;
    const watch = setInterval(() => {
      if (watchParent && process.ppid !== PARENT) request("parent exited");
    }, parentPollMs);
    watch.unref();
  });
}
