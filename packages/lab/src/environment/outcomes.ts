/** The function errors Lambda hands the caller when the platform (not the handler) ends an invocation. */
import type { InvocationOutcome } from "../contract.ts";

type FunctionError = Extract<InvocationOutcome, { kind: "function-error" }>;

export function fnError(errorType: string, errorMessage: string): FunctionError {
  return {
    kind: "function-error",
    errorType,
    payload: Buffer.from(JSON.stringify({ errorType, errorMessage })),
  };
}

/** Lambda (2023+): {"errorType":"Sandbox.Timedout","errorMessage":"RequestId: … Error: Task timed out after 3.00 seconds"}. */
export function timeoutError(requestId: string, seconds: number): FunctionError {
  return fnError(
    "Sandbox.Timedout",
    `RequestId: ${requestId} Error: Task timed out after ${seconds.toFixed(2)} seconds`,
  );
}

export function initTimeoutError(requestId: string, initTimeoutMs: number): FunctionError {
  return fnError(
    "Sandbox.Timedout",
    `RequestId: ${requestId} Error: Task timed out after ${(initTimeoutMs / 1000).toFixed(2)} seconds`,
  );
}

/** Lambda: {"errorType":"Runtime.ExitError","errorMessage":"RequestId: … Error: Runtime exited with error: exit status 1"}. */
export function runtimeExitError(requestId: string, how: string): FunctionError {
  return fnError("Runtime.ExitError", `RequestId: ${requestId} Error: Runtime exited with error: ${how}`);
}

export function unavailableError(requestId: string): FunctionError {
  return fnError(
    "Runtime.Unavailable",
    `RequestId: ${requestId} Error: the execution environment has shut down`,
  );
}
