import type { ActiveFault, FaultAction, LambdaActionId } from "@faultline/protocol";

/** What the runtime's answer is replaced with. `body` is sent upstream byte for byte. */
export type Outcome =
  | { kind: "error"; errorType: string; body: Buffer }
  | { kind: "response"; contentType: string; body: Buffer };

/** What one fault does to one invocation. */
export type Injection =
  | { kind: "delay"; milliseconds: number }
  | { kind: "outcome"; preventExecution: boolean; outcome: Outcome };

/**
 * Faults in the same slot conflict (earliest start wins); faults in different slots stack: a delay,
 * then an outcome.
 */
export type Slot = Injection["kind"];

export type ParametersOf<K extends LambdaActionId> = Extract<FaultAction, { actionId: K }>["parameters"];

/** One fault kind. The percentage roll is not its business: the injector rolls once, centrally. */
export interface Fault<K extends LambdaActionId> {
  readonly slot: Slot;
  inject(parameters: ParametersOf<K>, fault: ActiveFault): Injection;
}
