import type { ActiveFault, FaultAction, LambdaActionId } from "@faultline/protocol";

export type Corruption = "truncated" | "malformed";

/**
 * What the runtime's answer is replaced with. `body` is sent upstream byte for byte. `corrupt` and `timeout`
 * need the handler to run: `corrupt` is made from the runtime's own response, `timeout` holds the runtime's
 * answer past the invocation's deadline so that Lambda's own timeout happens.
 */
export type Outcome =
  | { kind: "error"; errorType: string; body: Buffer }
  | { kind: "response"; contentType: string; body: Buffer }
  | { kind: "corrupt"; corruption: Corruption }
  | { kind: "timeout" };

/** An answer as posted to the Runtime API: the runtime's own, or one a fault posts in its place. */
export type Posted = Extract<Outcome, { kind: "error" | "response" }>;

/** What one fault does to one invocation (or, for `init`, to one new execution environment). */
export type Injection =
  | { kind: "delay"; milliseconds: number }
  | { kind: "outcome"; preventExecution: boolean; outcome: Posted }
  | { kind: "outcome"; preventExecution: false; outcome: Outcome }
  | { kind: "hold"; milliseconds: number }
  | { kind: "init"; milliseconds: number };

/**
 * Faults in the same slot conflict (earliest start wins); faults in different slots stack: a delay, then an
 * outcome, whose answer is then held. `init` faults act once per environment, before its first invocation.
 */
export type Slot = Injection["kind"];

export type ParametersOf<K extends LambdaActionId> = Extract<FaultAction, { actionId: K }>["parameters"];

/** One fault kind. The percentage roll is not its business: the injector rolls once, centrally. */
export interface Fault<K extends LambdaActionId> {
  readonly slot: Slot;
  inject(parameters: ParametersOf<K>, fault: ActiveFault): Injection;
}
