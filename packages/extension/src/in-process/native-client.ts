import { type AnswerRule, answerRule, holdFor, parseDeadline, replacementFor } from "../answer.ts";
import type { Clock } from "../clock.ts";
import type { Posted } from "../faults/index.ts";
import type { Plan } from "../injector.ts";
import type { Logger } from "../log.ts";

/**
 * The official Node runtime client's native RAPID client (rapid-client.node, aws-lambda-ric 3.x and 4.x and
 * Lambda's own /var/runtime): `next` is asynchronous (a libuv worker), `done` and `error` post synchronously.
 */
export interface NativeRuntimeClient {
  next(): Promise<NextEvent>;
  done(id: string, body: string): unknown;
  error(id: string, body: string, xrayCause: string): unknown;
}

export interface NextEvent {
  bodyJson: string;
  headers: Record<string, unknown>;
}

export interface HookOptions {
  plan(invokedFunctionArn: string): Plan | Promise<Plan>;
  onInjected(plan: Plan, requestId: string, part: "delay" | "outcome" | "hold"): void;
  /** Awaited before the runtime's first `next`, which ends Init (the first poll, init-delay). */
  beforeFirstNext?(): Promise<void>;
  clock: Clock;
  log: Pick<Logger, "once" | "error">;
  /** Invocations whose answer a fault changes or holds once the handler has run (shared with the stream interceptor). */
  rules: Map<string, AnswerRule>;
  /** Awaited before a replacement is handed to the runtime (the stream interceptor gets ready). */
  beforeReplacement?(): Promise<void>;
  /** Awaited (when it returns a promise) before the runtime's next call, which lets the environment freeze. */
  beforeNext?(): Promise<void> | undefined;
}

const MAX_PENDING_REPLACEMENTS = 64;
/** What the runtime client sends as X-Ray cause for an error; only the shape matters. */
const XRAY_CAUSE = JSON.stringify({ working_directory: "", exceptions: [], paths: [] });

/** Feature check: the three methods the hook wraps, as functions. Anything else is a client we do not know. */
export function isKnownNativeClient(candidate: unknown): candidate is NativeRuntimeClient {
  if (typeof candidate !== "object" || candidate === null) return false;
  const c = candidate as Record<string, unknown>;
  return typeof c.next === "function" && typeof c.done === "function" && typeof c.error === "function";
}

/** Posts `outcome` for `id` in the runtime's place, through the client's own (synchronous) calls. */
export function postOutcome(native: NativeRuntimeClient, id: string, outcome: Posted): void {
  const body = outcome.body.toString("utf8");
  if (outcome.kind === "error") native.error(encodeURIComponent(id), body, XRAY_CAUSE);
  else native.done(encodeURIComponent(id), body);
}

/**
 * Wraps next/done/error in place. `next`: delays, and answers preventExecution faults itself (the runtime never
 * sees those events); `done`/`error`: replaced when a fault said so. Any failure of ours passes the event
 * through: the runtime must never see an error that is not its own.
 */
export function hookNativeClient(native: NativeRuntimeClient, o: HookOptions): void {
  const original = { next: native.next, done: native.done, error: native.error };
  const unwrapped: NativeRuntimeClient = {
    next: () => original.next.call(native),
    done: (id, body) => original.done.call(native, id, body),
    error: (id, body, cause) => original.error.call(native, id, body, cause),
  };
  const post = (id: string, outcome: Posted) => postOutcome(unwrapped, id, outcome);
  let initHeld = o.beforeFirstNext === undefined;
  /** An answer being held (response-delay, invocation-timeout): the next `next` waits for it to be posted. */
  let held: Promise<void> | undefined;

  async function decide(event: NextEvent): Promise<"deliver" | "answered"> {
    const requestId = stringHeader(event, "lambda-runtime-aws-request-id");
    if (requestId === undefined) return "deliver";
    const plan = await o.plan(stringHeader(event, "lambda-runtime-invoked-function-arn") ?? "");
    if (plan.delay !== undefined) {
      o.onInjected(plan, requestId, "delay");
      await o.clock.sleep(plan.delay.milliseconds);
    }
    if (plan.outcome === undefined && plan.hold === undefined) return "deliver";
    if (plan.outcome !== undefined) o.onInjected(plan, requestId, "outcome");
    if (plan.hold !== undefined) o.onInjected(plan, requestId, "hold");
    if (plan.outcome?.preventExecution) {
      if (plan.hold !== undefined) await o.clock.sleep(plan.hold.milliseconds);
      post(requestId, plan.outcome.outcome);
      return "answered";
    }
    const deadline = parseDeadline(event.headers?.["lambda-runtime-deadline-ms"]);
    const rule = answerRule(plan, o.clock.now(), deadline);
    if (rule === undefined) return "deliver";
    await o.beforeReplacement?.();
    if (o.rules.size >= MAX_PENDING_REPLACEMENTS) o.rules.delete(o.rules.keys().next().value as string);
    o.rules.set(requestId, rule);
    return "deliver";
  }

  /** Posts what the rule makes of the runtime's own answer, now or once its hold ends. */
  function answer(rule: AnswerRule, id: string, own: Posted, passOn: () => unknown): unknown {
    const replacement = replacementFor(rule.outcome, own);
    const send = replacement === undefined ? passOn : () => post(decodeId(id), replacement);
    const holdMs = holdFor(rule, o.clock.now());
    if (holdMs <= 0) return send();
    // A ref'd timer: the runtime must stay alive, busy with this invocation, until the answer goes (or Lambda's
    // timeout kills it).
    held = new Promise<void>((resolve) =>
      setTimeout(() => {
        held = undefined;
        try {
          send();
        } catch (error) {
          o.log.error(`could not post the held answer: ${(error as Error).message}`, decodeId(id));
        }
        resolve();
      }, holdMs),
    );
    return undefined;
  }

  native.next = async function next(): Promise<NextEvent> {
    if (!initHeld) {
      initHeld = true;
      try {
        await o.beforeFirstNext?.();
      } catch (error) {
        o.log.once("ERROR", "hook:init", `in-process init hold failed: ${(error as Error).message}`);
      }
    }
    if (held !== undefined) await held;
    const settling = o.beforeNext?.();
    if (settling !== undefined) await settling;
    for (;;) {
      const event = await unwrapped.next();
      let verdict: "deliver" | "answered" = "deliver";
      try {
        verdict = await decide(event);
      } catch (error) {
        o.log.once(
          "ERROR",
          "hook:decide",
          `in-process hook failed, passing through: ${(error as Error).message}`,
        );
      }
      if (verdict === "deliver") return event;
      // Answered here (preventExecution): this loop's next call lets the environment freeze just as the runtime's
      // would, so the check started on arrival is awaited first — frozen mid-flight, its result (a stop) would
      // come only after the following invocation was decided.
      const answeredSettling = o.beforeNext?.();
      if (answeredSettling !== undefined) await answeredSettling;
    }
  };
  native.done = function done(id: string, body: string) {
    const rule = take(o.rules, id);
    if (rule === undefined) return unwrapped.done(id, body);
    const own: Posted = { kind: "response", contentType: "application/json", body: Buffer.from(body) };
    return answer(rule, id, own, () => unwrapped.done(id, body));
  };
  native.error = function error(id: string, body: string, xrayCause: string) {
    const rule = take(o.rules, id);
    if (rule === undefined) return unwrapped.error(id, body, xrayCause);
    const own: Posted = { kind: "error", errorType: "Unhandled", body: Buffer.from(body) };
    return answer(rule, id, own, () => unwrapped.error(id, body, xrayCause));
  };
}

function take(rules: Map<string, AnswerRule>, id: string): AnswerRule | undefined {
  if (rules.size === 0) return undefined;
  const key = decodeId(id);
  const rule = rules.get(key);
  if (rule !== undefined) rules.delete(key);
  return rule;
}

/** aws-lambda-ric 3.x/4.x pass the id URI-encoded, Lambda's own runtime passes it raw. */
export function decodeId(id: string): string {
  try {
    return decodeURIComponent(id);
  } catch {
    return id;
  }
}

function stringHeader(event: NextEvent, name: string): string | undefined {
  const value = event.headers?.[name];
  return typeof value === "string" && value !== "" ? value : undefined;
}
