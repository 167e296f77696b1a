import { FAULTLINE_VERSION } from "@faultline/protocol";
import type { Clock, RandomSource } from "../clock.ts";
import { createFaultSource, type FaultSource } from "../fault-source.ts";
import { type Logger, loggerFor } from "../log.ts";
import { readSettings } from "../settings.ts";

/**
 * The in-process mode's heavier half (settings, logger, poller, S3 client, injector), loaded only once the runtime
 * asks for its first event — from faultline/in-process-faults.cjs in the layer — so none of it costs the runtime's
 * init. The preload (index.ts) carries only the hooks.
 */
export interface FaultSide {
  log: Logger;
  /** The fault source, created (and announced) on first use. */
  faults(): FaultSource;
  close(): void;
}

export function openFaultSide(o: {
  env: Readonly<Record<string, string | undefined>>;
  clock: Clock;
  random: RandomSource;
  write?: (line: string) => void;
}): FaultSide {
  const { settings, problems } = readSettings(o.env);
  const log = loggerFor(settings, o.clock, o.write);
  let faults: FaultSource | undefined;
  return {
    log,
    faults() {
      if (faults !== undefined) return faults;
      log.info(`extension enabled ${FAULTLINE_VERSION} (in-process)`);
      for (const problem of problems)
        log.error(`invalid setting, passing every invocation through: ${problem}`);
      faults = createFaultSource({
        settings,
        problems,
        log,
        clock: o.clock,
        random: o.random,
        background: true,
      });
      return faults;
    },
    close: () => faults?.close(),
  };
}
