/**
 * Why an experiment failed, as FIS reports it: `state.reason` (free text, at most 512 characters in the FIS API
 * model) and `state.error` {code, location}. The codes are those of the FIS troubleshooting guide; `location` is
 * "the section of the experiment template that failed", written as the template's path (`targets.fns`,
 * `actions.lat`, `stopConditions`).
 */
import type { ExperimentStatus } from "./model.ts";

export type ExperimentErrorCode =
  | "ConfigurationFailure"
  | "DependentServiceFailure"
  | "InternalFailure"
  | "InvalidTarget"
  | "AuthorizationFailure"
  | "QuotaExceededFailure";

export interface ExperimentError {
  code: ExperimentErrorCode;
  location?: string;
}

/** ExperimentStatusReason and ExperimentActionStatusReason: at most 512 characters. */
export const MAX_REASON_LENGTH = 512;

export function fitReason(reason: string): string {
  if (reason.length <= MAX_REASON_LENGTH) return reason;
  return `${reason.slice(0, MAX_REASON_LENGTH - 1)}…`;
}

/**
 * The state an experiment is put in. A failed one always carries an error; one that failed for a cause that was
 * not classified (an engine restart, a halt recorded before one) is an InternalFailure.
 */
export function experimentState(
  status: ExperimentStatus,
  reason: string,
  error?: ExperimentError,
): { status: ExperimentStatus; reason: string; error?: ExperimentError } {
  const fitted = fitReason(reason);
  if (status !== "failed") return { status, reason: fitted };
  return { status, reason: fitted, error: error ?? { code: "InternalFailure" } };
}

const AUTHORIZATION =
  /AccessDenied|Unauthorized|Forbidden|NotAuthorized|ExpiredToken|InvalidClientTokenId|SignatureDoesNotMatch/i;
const NOT_FOUND = /NotFound|NoSuch/i;

/** An AWS call's failure → the code FIS would give it: permissions, a resource that is gone, or the service. */
export function awsFailure(error: unknown, location: string): ExperimentError {
  const e = error as {
    name?: string;
    Code?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number };
  };
  const name = `${e?.name ?? ""} ${e?.Code ?? ""}`;
  const status = e?.$metadata?.httpStatusCode;
  if (AUTHORIZATION.test(name) || status === 403) return { code: "AuthorizationFailure", location };
  if (NOT_FOUND.test(name) || status === 404 || /not found/i.test(e?.message ?? "")) {
    // A target that does not exist is FIS's InvalidTarget; a missing alarm or bucket is the template's fault.
    return { code: location.startsWith("targets.") ? "InvalidTarget" : "ConfigurationFailure", location };
  }
  return { code: "DependentServiceFailure", location };
}
