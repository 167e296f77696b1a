/**
 * How a long-running command (`up`, `lab up`) learns it must stop: SIGINT, SIGTERM or SIGHUP — what a terminal,
 * a supervisor (systemd, docker, CI runners) or a closing terminal sends — or its parent process going away.
 *
 * The parent matters because of `npx faultline up`: on SIGTERM `npm exec` exits at once without waiting for its
 * child, so faultline would live on, re-parented to init, with every function of the lab. Node has no
 * PR_SET_PDEATHSIG, so the parent is watched by polling `process.ppid`: when it changes, the process that
 * started us is gone. A second signal while stopping exits at once (the lab's environments die with us:
 * pdeathsig); so does a stop that hangs past `forceExitMs`.
 */
import type { CliIO } from "./command.ts";

export type StopReason = NodeJS.Signals | "parent exited";

export interface LifetimeOptions {
  /** Stop when the parent exits (default true); false for `nohup` / `setsid`-style starts meant to outlive it. */
  exitWithParent?: boolean;
  /** How often the parent is checked (default 500 ms). */
  parentPollMs?: number;
  /** After the stop request, exit anyway if stopping takes longer than this (default 30 s). */
  forceExitMs?: number;
}

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
/** Read when the CLI loads: a parent that dies while the lab is still starting is noticed too. */
const PARENT = process.ppid;

/**
 * Resolves with the reason once the command should stop (the first signal, or the parent gone). Call once the
 * command is running; the caller then stops what it started and returns.
 */
export function untilStopRequested(io: CliIO, options: LifetimeOptions = {}): Promise<StopReason> {
  return new Promise((resolve) => {
    let requested = false;
    const request = (reason: StopReason) => {
      if (requested) {
        io.stderr(`faultline: ${reason} while stopping: exiting now\n`);
        process.exit(130);
      }
      requested = true;
      clearInterval(watch);
      io.stderr(
        `faultline: ${reason === "parent exited" ? "the parent process exited" : reason}, stopping\n`,
      );
      // Bounded even if something below hangs: nobody may be left to send SIGKILL (the parent is gone).
      setTimeout(() => {
        io.stderr("faultline: stopping took too long, exiting now\n");
        process.exit(1);
      }, options.forceExitMs ?? 30_000).unref();
      resolve(reason);
    };
    for (const signal of SIGNALS) process.on(signal, request);
    // Started by init itself (a container's entry point): there is no parent to outlive.
    const watchParent = options.exitWithParent !== false && PARENT !== 1;
    const watch = setInterval(() => {
      if (watchParent && process.ppid !== PARENT) request("parent exited");
    }, options.parentPollMs ?? 500);
    watch.unref();
  });
}
