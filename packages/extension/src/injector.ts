import type { ActiveFault, LambdaActionId } from "@faultline/protocol";
import type { RandomSource } from "./clock.ts";
import { FAULTS, type Fault, type Outcome, type Posted, type Slot } from "./faults/index.ts";

/** What happens to one invocation. Empty (no keys) → the invocation passes through untouched. */
export interface Plan {
  delay?: { fault: ActiveFault; milliseconds: number };
  outcome?:
    | { fault: ActiveFault; preventExecution: boolean; outcome: Posted }
    | { fault: ActiveFault; preventExecution: false; outcome: Outcome };
  /** The runtime's answer is held this long before it goes on (response-delay). */
  hold?: { fault: ActiveFault; milliseconds: number };
}

export interface InvocationIdentity {
  /** Lambda-Runtime-Invoked-Function-Arn, qualified or not. */
  invokedFunctionArn: string;
  /** AWS_LAMBDA_FUNCTION_VERSION of this environment. */
  functionVersion: string;
}

/**
 * Decides one invocation: keep faults inside their time window whose qualifier matches, pick one winner per
 * slot (earliest start; a later one takes over when the earlier ends, since ended faults drop out here), then
 * roll each winner's invocationPercentage once, independently.
 */
export function planInvocation(
  faults: readonly ActiveFault[],
  nowMs: number,
  identity: InvocationIdentity,
  random: RandomSource,
): Plan {
  const winners = new Map<Slot, ActiveFault>();
  for (const fault of faults) {
    if (nowMs < fault.startMs || nowMs >= fault.endMs) continue;
    if (!qualifierMatches(fault.qualifier, identity)) continue;
    const slot = FAULTS[fault.actionId].slot;
    if (slot === "init") continue;
    const current = winners.get(slot);
    if (current === undefined || earlier(fault, current)) winners.set(slot, fault);
  }
  const plan: Plan = {};
  for (const fault of winners.values()) {
    if (!roll(fault.parameters.invocationPercentage, random)) continue;
    const injection = inject(fault);
    if (injection.kind === "delay") plan.delay = { fault, milliseconds: injection.milliseconds };
    else if (injection.kind === "hold") plan.hold = { fault, milliseconds: injection.milliseconds };
    else if (injection.kind === "outcome")
      plan.outcome = injection.preventExecution
        ? { fault, preventExecution: true, outcome: injection.outcome }
        : { fault, preventExecution: false, outcome: injection.outcome };
  }
  return plan;
}

/**
 * Decides one new environment's Init (init-delay): the earliest live `init` fault for this environment's
 * version, its percentage rolled once. An environment does not know which alias will invoke it, so a fault
 * qualified by an alias matches no Init (only its version, or none).
 */
export function planInit(
  faults: readonly ActiveFault[],
  nowMs: number,
  functionVersion: string,
  random: RandomSource,
): { fault: ActiveFault; milliseconds: number } | undefined {
  let winner: ActiveFault | undefined;
  for (const fault of faults) {
    if (nowMs < fault.startMs || nowMs >= fault.endMs || FAULTS[fault.actionId].slot !== "init") continue;
    if (fault.qualifier !== undefined && fault.qualifier !== functionVersion) continue;
    if (winner === undefined || earlier(fault, winner)) winner = fault;
  }
  if (winner === undefined || !roll(winner.parameters.invocationPercentage, random)) return undefined;
  const injection = inject(winner);
  return injection.kind === "init" ? { fault: winner, milliseconds: injection.milliseconds } : undefined;
}

/** The one place the percentage is rolled. */
export function roll(percentage: number, random: RandomSource): boolean {
  return percentage >= 100 || random() * 100 < percentage;
}

function inject(fault: ActiveFault) {
  // The table is keyed by actionId and the union is discriminated by it, so this pairing is sound.
  const kind = FAULTS[fault.actionId] as Fault<LambdaActionId>;
  return kind.inject(fault.parameters as never, fault);
}

function earlier(a: ActiveFault, b: ActiveFault): boolean {
  if (a.startMs !== b.startMs) return a.startMs < b.startMs;
  // Same start: any stable order will do, so every environment picks the same winner.
  return `${a.experimentId}/${a.actionName}` < `${b.experimentId}/${b.actionName}`;
}

/** The qualifier of an invoked ARN: `…:function:name` → "$LATEST", `…:function:name:prod` → "prod". */
export function invokedQualifier(invokedFunctionArn: string): string {
  const parts = invokedFunctionArn.split(":");
  return parts.length >= 8 && parts[7] !== "" ? (parts[7] as string) : "$LATEST";
}

/**
 * No qualifier → every invocation. Otherwise it must name the invoked qualifier (unqualified = $LATEST) or
 * this environment's version (an alias resolves to a version, which is what the environment runs).
 */
export function qualifierMatches(qualifier: string | undefined, identity: InvocationIdentity): boolean {
  if (qualifier === undefined) return true;
  return (
    qualifier === invokedQualifier(identity.invokedFunctionArn) || qualifier === identity.functionVersion
  );
}
