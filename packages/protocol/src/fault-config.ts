import { type FaultAction, faultActionFromJson, isFaultActionId } from "./actions/index.ts";
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
  if (!isFaultActionId(obj.actionId)) {
    throw new FaultConfigError("actionId", `unknown action ${JSON.stringify(obj.actionId)}`);
  }
  const fault = faultActionFromJson(obj.actionId, record(obj.parameters, "parameters"));
  return {
    version: FAULT_CONFIG_VERSION,
    experimentId,
    actionName,
    ...(qualifier === undefined ? {} : { qualifier }),
    startTime,
    endTime,
    startMs,
    endMs,
    ...fault,
  };
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

/** The fault object the engine writes for one (function, experiment, action), active in [startMs, endMs). */
export function newFaultConfig(options: {
  experimentId: string;
  actionName: string;
  fault: FaultAction;
  qualifier?: string | undefined;
  startMs: number;
  endMs: number;
}): FaultConfig {
  const { experimentId, actionName, fault, qualifier, startMs, endMs } = options;
  return {
    version: FAULT_CONFIG_VERSION,
    experimentId,
    actionName,
    ...fault,
    ...(qualifier ? { qualifier } : {}),
    startTime: new Date(startMs).toISOString(),
    endTime: new Date(endMs).toISOString(),
  };
}
