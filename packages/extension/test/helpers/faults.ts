import type { ActiveFault, FaultConfig } from "@faultline/protocol";
import { parseFaultConfig, serializeFaultConfig } from "@faultline/protocol";
import { type Clock, Logger } from "../../src/index.ts";
import type { LogLevel } from "../../src/settings.ts";

type Shape = Pick<FaultConfig, "actionId" | "parameters"> & Partial<FaultConfig>;

/** A valid fault config around `shape`, active from `startMs` for `durationMs`. */
export function faultConfig(shape: Shape, startMs: number, durationMs = 60_000): FaultConfig {
  return {
    version: 1,
    experimentId: "EXP1",
    actionName: "act",
    startTime: new Date(startMs).toISOString(),
    endTime: new Date(startMs + durationMs).toISOString(),
    ...shape,
  } as FaultConfig;
}

export function activeFault(shape: Shape, startMs: number, durationMs = 60_000): ActiveFault {
  return parseFaultConfig(serializeFaultConfig(faultConfig(shape, startMs, durationMs)));
}

export const delay = (ms: number, invocationPercentage = 100): Shape => ({
  actionId: "aws:lambda:invocation-add-delay",
  parameters: { startupDelayMilliseconds: ms, invocationPercentage },
});
export const error = (preventExecution: boolean, invocationPercentage = 100): Shape => ({
  actionId: "aws:lambda:invocation-error",
  parameters: { preventExecution, invocationPercentage },
});
export const integration = (
  statusCode: number,
  preventExecution: boolean,
  contentTypeHeader = "application/json",
): Shape => ({
  actionId: "aws:lambda:invocation-http-integration-response",
  parameters: { statusCode, contentTypeHeader, preventExecution, invocationPercentage: 100 },
});

export const invocationTimeout = (invocationPercentage = 100): Shape => ({
  actionId: "faultline:lambda:invocation-timeout",
  parameters: { invocationPercentage },
});
export const responseDelay = (delayMilliseconds: number, invocationPercentage = 100): Shape => ({
  actionId: "faultline:lambda:response-delay",
  parameters: { delayMilliseconds, invocationPercentage },
});
export const responseCorruption = (
  corruption: "truncated" | "malformed",
  invocationPercentage = 100,
): Shape => ({
  actionId: "faultline:lambda:response-corruption",
  parameters: { corruption, invocationPercentage },
});
export const initDelay = (delayMilliseconds: number, invocationPercentage = 100): Shape => ({
  actionId: "faultline:lambda:init-delay",
  parameters: { delayMilliseconds, invocationPercentage },
});

/** A clock the test moves by hand. */
export function manualClock(start = Date.parse("2026-11-26T12:00:00.000Z")) {
  let now = start;
  return {
    now: () => now,
    sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
    advance: (ms: number) => {
      now += ms;
    },
  };
}

/** A text logger for the function "demo", handing every line to `write` (tests assert on what it logged). */
export function testLogger(
  clock: Clock,
  write: (line: string) => void,
  o: { level?: LogLevel; metrics?: boolean } = {},
): Logger {
  return new Logger({
    level: o.level ?? "INFO",
    format: "text",
    metrics: o.metrics ?? false,
    functionName: "demo",
    clock,
    write,
  });
}
