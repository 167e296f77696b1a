import { FaultConfigError } from "./errors.ts";

/** The three FIS Lambda fault actions. */
export const LAMBDA_ACTION_IDS = [
  "aws:lambda:invocation-add-delay",
  "aws:lambda:invocation-error",
  "aws:lambda:invocation-http-integration-response",
  // TEMPORARY (faults branch): replaced by the action table of the `actions` branch at merge.
  "faultline:lambda:invocation-timeout",
  "faultline:lambda:response-delay",
  "faultline:lambda:response-corruption",
  "faultline:lambda:init-delay",
] as const;
export type LambdaActionId = (typeof LAMBDA_ACTION_IDS)[number];

export interface AddDelayParameters {
  /** 0–900000, FIS default 1000. */
  startupDelayMilliseconds: number;
  invocationPercentage: number;
}
export interface InvocationErrorParameters {
  preventExecution: boolean;
  invocationPercentage: number;
}
export interface HttpIntegrationResponseParameters {
  /** 0–999 (FIS documents "000-999"). */
  statusCode: number;
  contentTypeHeader: string;
  preventExecution: boolean;
  invocationPercentage: number;
}

export interface InvocationTimeoutParameters {
  invocationPercentage: number;
}
export interface ResponseDelayParameters {
  /** 0–900000, default 1000. */
  delayMilliseconds: number;
  invocationPercentage: number;
}
export interface ResponseCorruptionParameters {
  corruption: "truncated" | "malformed";
  invocationPercentage: number;
}
export interface InitDelayParameters {
  /** 0–10000, default 1000. */
  delayMilliseconds: number;
  invocationPercentage: number;
}

/** Parameters are a discriminated union on `actionId`, never a bag of optionals. */
export type FaultAction =
  | { actionId: "aws:lambda:invocation-add-delay"; parameters: AddDelayParameters }
  | { actionId: "aws:lambda:invocation-error"; parameters: InvocationErrorParameters }
  | {
      actionId: "aws:lambda:invocation-http-integration-response";
      parameters: HttpIntegrationResponseParameters;
    }
  | { actionId: "faultline:lambda:invocation-timeout"; parameters: InvocationTimeoutParameters }
  | { actionId: "faultline:lambda:response-delay"; parameters: ResponseDelayParameters }
  | { actionId: "faultline:lambda:response-corruption"; parameters: ResponseCorruptionParameters }
  | { actionId: "faultline:lambda:init-delay"; parameters: InitDelayParameters };

export const DEFAULT_STARTUP_DELAY_MS = 1000;
export const MAX_STARTUP_DELAY_MS = 900_000;
export const DEFAULT_INVOCATION_PERCENTAGE = 100;

export function isLambdaActionId(value: unknown): value is LambdaActionId {
  return typeof value === "string" && (LAMBDA_ACTION_IDS as readonly string[]).includes(value);
}

/**
 * Turns FIS wire parameters (every value a string, as in a template) into typed fault parameters,
 * applying FIS's defaults. `duration` is the engine's business and is ignored here.
 * Throws FaultConfigError naming the parameter.
 */
export function faultActionFromFisParameters(
  actionId: LambdaActionId,
  wire: Readonly<Record<string, string>>,
  fieldPrefix = "parameters",
): FaultAction {
  const allowed = new Set(["duration", "invocationPercentage", ...PARAMETER_NAMES[actionId]]);
  for (const key of Object.keys(wire)) {
    if (!allowed.has(key)) {
      throw new FaultConfigError(`${fieldPrefix}.${key}`, `is not a parameter of ${actionId}`);
    }
  }
  const invocationPercentage = wireInteger(
    wire,
    "invocationPercentage",
    fieldPrefix,
    1,
    100,
    DEFAULT_INVOCATION_PERCENTAGE,
  );
  switch (actionId) {
    case "aws:lambda:invocation-add-delay":
      return {
        actionId,
        parameters: {
          startupDelayMilliseconds: wireInteger(
            wire,
            "startupDelayMilliseconds",
            fieldPrefix,
            0,
            MAX_STARTUP_DELAY_MS,
            DEFAULT_STARTUP_DELAY_MS,
          ),
          invocationPercentage,
        },
      };
    case "aws:lambda:invocation-error":
      return {
        actionId,
        parameters: {
          preventExecution: wireBoolean(wire, "preventExecution", fieldPrefix),
          invocationPercentage,
        },
      };
    case "aws:lambda:invocation-http-integration-response": {
      const contentTypeHeader = wire.contentTypeHeader;
      if (contentTypeHeader === undefined || contentTypeHeader === "") {
        throw new FaultConfigError(`${fieldPrefix}.contentTypeHeader`, "is required");
      }
      return {
        actionId,
        parameters: {
          statusCode: wireInteger(wire, "statusCode", fieldPrefix, 0, 999),
          contentTypeHeader,
          preventExecution: wireBoolean(wire, "preventExecution", fieldPrefix),
          invocationPercentage,
        },
      };
    }
    case "faultline:lambda:invocation-timeout":
      return { actionId, parameters: { invocationPercentage } };
    case "faultline:lambda:response-delay":
    case "faultline:lambda:init-delay":
      return {
        actionId,
        parameters: {
          delayMilliseconds: wireInteger(
            wire,
            "delayMilliseconds",
            fieldPrefix,
            0,
            actionId === "faultline:lambda:init-delay" ? 10_000 : 900_000,
            1000,
          ),
          invocationPercentage,
        },
      };
    case "faultline:lambda:response-corruption": {
      const corruption = wire.corruption ?? "truncated";
      if (corruption !== "truncated" && corruption !== "malformed")
        throw new FaultConfigError(`${fieldPrefix}.corruption`, `must be "truncated" or "malformed"`);
      return { actionId, parameters: { corruption, invocationPercentage } };
    }
  }
}

const PARAMETER_NAMES: Record<LambdaActionId, readonly string[]> = {
  "aws:lambda:invocation-add-delay": ["startupDelayMilliseconds"],
  "aws:lambda:invocation-error": ["preventExecution"],
  "aws:lambda:invocation-http-integration-response": ["statusCode", "contentTypeHeader", "preventExecution"],
  "faultline:lambda:invocation-timeout": [],
  "faultline:lambda:response-delay": ["delayMilliseconds"],
  "faultline:lambda:response-corruption": ["corruption"],
  "faultline:lambda:init-delay": ["delayMilliseconds"],
};

function wireInteger(
  wire: Readonly<Record<string, string>>,
  name: string,
  fieldPrefix: string,
  min: number,
  max: number,
  fallback?: number,
): number {
  const raw = wire[name];
  const field = `${fieldPrefix}.${name}`;
  if (raw === undefined) {
    if (fallback === undefined) throw new FaultConfigError(field, "is required");
    return fallback;
  }
  if (!/^\d+$/.test(raw))
    throw new FaultConfigError(field, `must be a whole number from ${min} to ${max}, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) {
    throw new FaultConfigError(field, `must be from ${min} to ${max}, got ${value}`);
  }
  return value;
}

function wireBoolean(wire: Readonly<Record<string, string>>, name: string, fieldPrefix: string): boolean {
  const raw = wire[name];
  const field = `${fieldPrefix}.${name}`;
  if (raw === undefined) throw new FaultConfigError(field, 'is required ("true" or "false")');
  if (raw === "true") return true;
  if (raw === "false") return false;
  throw new FaultConfigError(field, `must be "true" or "false", got "${raw}"`);
}
