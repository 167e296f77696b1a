import type { CliIO } from "./command.ts";

/**
 * How long `serve` and `up` may take to stop after SIGINT/SIGTERM/SIGHUP. The engine gives its cleanup 8 s of it
 * (EngineOptions.shutdownTimeoutMs); what S3 has not confirmed by then stays recorded for the next start.
 */
export const STOP_GRACE_MS = 10_000;

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

export interface StopOnSignalOptions {
  graceMs?: number;
  /** How the process ends when stopping overruns the grace period or a second signal comes. */
  exit?: (code: number) => void;
  /** Where the signals come from (tests emit them on their own emitter). */
  signals?: Pick<NodeJS.EventEmitter, "on">;
}

/**
 * Resolves after the first SIGINT/SIGTERM/SIGHUP once `stop()` has finished. Stopping is bounded: past `graceMs`,
 * or on a second signal, the process exits at once (code 1), saying so — a stuck dependency never keeps it up.
 */
export function untilStopSignal(
  stop: () => Promise<void>,
  io: CliIO,
  {
    graceMs = STOP_GRACE_MS,
    exit = (code) => process.exit(code),
    signals = process,
  }: StopOnSignalOptions = {},
): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    let overrun: NodeJS.Timeout | undefined;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        clearTimeout(overrun);
        io.stderr(`${signal} again: exiting now\n`);
        return exit(1);
      }
      stopping = true;
      overrun = setTimeout(() => {
        io.stderr(`stopping took longer than ${graceMs} ms: exiting now\n`);
        exit(1);
      }, graceMs);
      stop()
        .catch((error: unknown) => io.stderr(`error while stopping: ${(error as Error).message}\n`))
        .finally(() => {
          clearTimeout(overrun);
          resolve();
        });
    };
    for (const signal of SIGNALS) signals.on(signal, onSignal);
  });
}
