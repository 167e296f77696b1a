import type { IncomingMessage } from "node:http";
import { corrupt, type Outcome, type Posted } from "./faults/index.ts";
import type { Plan } from "./injector.ts";

/**
 * Past the deadline Lambda has reset the environment (killing the runtime whose answer is held); should it not
 * have, the held answer goes on after this grace: every fault expires.
 */
export const TIMEOUT_GRACE_MS = 2000;
/** Lambda's longest function timeout: the hold's bound for an event that carries no deadline. */
const MAX_FUNCTION_TIMEOUT_MS = 900_000;

/**
 * What the faults that let the handler run do to the runtime's answer of one invocation. Shared by both modes:
 * the proxy applies it to the runtime's POST, the in-process hook to the native client's done/error.
 */
export interface AnswerRule {
  /** Replaces (error, response), transforms (corrupt) or holds past the deadline (timeout) the answer. */
  outcome: Outcome | undefined;
  /** Held this long from the moment the answer arrives (response-delay). */
  holdMs: number;
  /** Held at least until this epoch ms (invocation-timeout); 0 when there is no such floor. */
  holdUntilMs: number;
}

/** The rule for an invocation whose handler runs, or undefined when its answer passes untouched. */
export function answerRule(
  plan: Plan,
  nowMs: number,
  deadlineMs: number | undefined,
): AnswerRule | undefined {
  const outcome = plan.outcome?.preventExecution === false ? plan.outcome.outcome : undefined;
  if (outcome === undefined && plan.hold === undefined) return undefined;
  const deadline = deadlineMs ?? nowMs + MAX_FUNCTION_TIMEOUT_MS;
  return {
    outcome,
    holdMs: plan.hold?.milliseconds ?? 0,
    holdUntilMs: outcome?.kind === "timeout" ? deadline + TIMEOUT_GRACE_MS : 0,
  };
}

/** Lambda-Runtime-Deadline-Ms as a number, if it is one. */
export function parseDeadline(value: unknown): number | undefined {
  const ms = typeof value === "string" ? Number(value) : Number.NaN;
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

/** How long an answer arriving at `nowMs` is held. */
export function holdFor(rule: AnswerRule, nowMs: number): number {
  return Math.max(rule.holdMs, rule.holdUntilMs - nowMs, 0);
}

/**
 * What goes upstream in place of the runtime's own answer; undefined: the runtime's own, untouched (a hold
 * only, a timeout whose hold ended, a corruption of an error — only responses are corrupted).
 */
export function replacementFor(outcome: Outcome | undefined, own: Posted): Posted | undefined {
  if (outcome === undefined || outcome.kind === "timeout") return undefined;
  if (outcome.kind !== "corrupt") return outcome;
  if (own.kind !== "response") return undefined;
  return { kind: "response", contentType: own.contentType, body: corrupt(own.body, outcome.corruption) };
}

export function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.once("end", () => resolve(Buffer.concat(chunks)));
    req.once("error", reject);
  });
}

/** The runtime's own answer: an error (the /error route, or a stream that ended with error trailers) or a response. */
export function ownAnswer(req: IncomingMessage, errorRoute: boolean, body: Buffer): Posted {
  const errorType =
    req.headers["lambda-runtime-function-error-type"] ?? req.trailers["lambda-runtime-function-error-type"];
  if (errorRoute || typeof errorType === "string") {
    // A stream that failed carries its error body in a trailer (base64), after whatever it had streamed.
    const trailerBody = req.trailers["lambda-runtime-function-error-body"];
    return {
      kind: "error",
      errorType: typeof errorType === "string" ? errorType : "Unhandled",
      body: errorRoute || trailerBody === undefined ? body : Buffer.from(trailerBody, "base64"),
    };
  }
  return { kind: "response", contentType: req.headers["content-type"] ?? "application/json", body };
}
