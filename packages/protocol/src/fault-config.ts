import { type FaultAction, isLambdaActionId, MAX_STARTUP_DELAY_MS } from "./actions.ts";
import { FaultConfigError } from "./errors.ts";

export const FAULT_CONFIG_VERSION = 1 as const;

/**
 * One fault object in S3: one (function, experiment, action). Every fault carries its own start and
 * end time so it ends on time even if nobody deletes it.
 */
export type FaultConfig = FaultAction & {
  version: typeof FAULT_CONFIG_VERSION;
  experimentId: string;
  actionName: string;
  /** Version, alias or `$LATEST`; absent means every invocation of the function. */
  qualifier?: string;
  /** ISO 8601 UTC. */
  startTime: string;
  /** ISO 8601 UTC. */
  endTime: string;
};

/** A fault config with its times parsed, ready for the hot path. */
export type ActiveFault = FaultConfig & { startMs: number; endMs: number };

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

export function serializeFaultConfig(config: FaultConfig): string {
  return JSON.stringify(config);
}

/** Validates untrusted JSON text from the store. Throws FaultConfigError naming the field. */
export function parseFaultConfig(text: string): ActiveFault {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new FaultConfigError("(document)", `is not JSON: ${(error as Error).message}`);
  }
  return validateFaultConfig(raw);
}

export function validateFaultConfig(raw: unknown): ActiveFault {
  const obj = record(raw, "(document)");
  if (obj.version !== FAULT_CONFIG_VERSION) {
    throw new FaultConfigError("version", `unsupported version ${JSON.stringify(obj.version)} (expected 1)`);
  }
  const experimentId = nonEmptyString(obj.experimentId, "experimentId");
  const actionName = nonEmptyString(obj.actionName, "actionName");
  const startTime = isoTime(obj.startTime, "startTime");
  const endTime = isoTime(obj.endTime, "endTime");
  const startMs = Date.parse(startTime);
  const endMs = Date.parse(endTime);
  if (endMs <= startMs) throw new FaultConfigError("endTime", "must be after startTime");
  let qualifier: string | undefined;
  if (obj.qualifier !== undefined) qualifier = nonEmptyString(obj.qualifier, "qualifier");
  if (!isLambdaActionId(obj.actionId)) {
    throw new FaultConfigError("actionId", `unknown action ${JSON.stringify(obj.actionId)}`);
  }
  const params = record(obj.parameters, "parameters");
  const invocationPercentage = integer(
    params.invocationPercentage,
    "parameters.invocationPercentage",
    1,
    100,
  );
  const base = {
    version: FAULT_CONFIG_VERSION,
    experimentId,
    actionName,
    startTime,
    endTime,
    startMs,
    endMs,
  };
  const withQualifier = qualifier === undefined ? base : { ...base, qualifier };
  switch (obj.actionId) {
    case "aws:lambda:invocation-add-delay":
      return {
        ...withQualifier,
        actionId: obj.actionId,
        parameters: {
          startupDelayMilliseconds: integer(
            params.startupDelayMilliseconds,
            "parameters.startupDelayMilliseconds",
            0,
            MAX_STARTUP_DELAY_MS,
          ),
          invocationPercentage,
        },
      };
    case "aws:lambda:invocation-error":
      return {
        ...withQualifier,
        actionId: obj.actionId,
        parameters: {
          preventExecution: boolean(params.preventExecution, "parameters.preventExecution"),
          invocationPercentage,
        },
      };
    case "aws:lambda:invocation-http-integration-response":
      return {
        ...withQualifier,
        actionId: obj.actionId,
        parameters: {
          statusCode: integer(params.statusCode, "parameters.statusCode", 0, 999),
          contentTypeHeader: nonEmptyString(params.contentTypeHeader, "parameters.contentTypeHeader"),
          preventExecution: boolean(params.preventExecution, "parameters.preventExecution"),
          invocationPercentage,
        },
      };
    // TEMPORARY (faults branch): replaced by the action table of the `actions` branch at merge.
    case "faultline:lambda:invocation-timeout":
      return { ...withQualifier, actionId: obj.actionId, parameters: { invocationPercentage } };
    case "faultline:lambda:response-delay":
    case "faultline:lambda:init-delay":
      return {
        ...withQualifier,
        actionId: obj.actionId,
        parameters: {
          delayMilliseconds: integer(
            params.delayMilliseconds,
            "parameters.delayMilliseconds",
            0,
            obj.actionId === "faultline:lambda:init-delay" ? 10_000 : 900_000,
          ),
          invocationPercentage,
        },
      };
    case "faultline:lambda:response-corruption": {
      const corruption = params.corruption;
      if (corruption !== "truncated" && corruption !== "malformed")
        throw new FaultConfigError("parameters.corruption", 'must be "truncated" or "malformed"');
      return { ...withQualifier, actionId: obj.actionId, parameters: { corruption, invocationPercentage } };
    }
  }
}

function record(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new FaultConfigError(field, "must be an object");
  }
  return value as Record<string, unknown>;
}

function nonEmptyString(value: unknown, field: string): string {
  if (typeof value !== "string" || value.length === 0)
    throw new FaultConfigError(field, "must be a non-empty string");
  return value;
}

function isoTime(value: unknown, field: string): string {
  const text = nonEmptyString(value, field);
  if (!ISO_UTC.test(text) || Number.isNaN(Date.parse(text))) {
    throw new FaultConfigError(
      field,
      `must be an ISO 8601 UTC time like 2026-01-01T00:00:00.000Z, got "${text}"`,
    );
  }
  return text;
}

function integer(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new FaultConfigError(field, `must be a whole number from ${min} to ${max}`);
  }
  return value;
}

function boolean(value: unknown, field: string): boolean {
  if (typeof value !== "boolean") throw new FaultConfigError(field, "must be true or false");
  return value;
}
