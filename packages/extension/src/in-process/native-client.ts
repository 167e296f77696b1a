import type { Clock } from "../clock.ts";
import type { Outcome } from "../faults/index.ts";
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
  onInjected(plan: Plan, requestId: string, part: "delay" | "outcome"): void;
  clock: Clock;
  log: Logger;
  /** Invocations whose result is replaced once the handler has run (shared with the stream interceptor). */
  replacements: Map<string, Outcome>;
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
export function postOutcome(native: NativeRuntimeClient, id: string, outcome: Outcome): void {
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
  const post = (id: string, outcome: Outcome) => postOutcome(unwrapped, id, outcome);

  async function decide(event: NextEvent): Promise<"deliver" | "answered"> {
    const requestId = stringHeader(event, "lambda-runtime-aws-request-id");
    if (requestId === undefined) return "deliver";
    const plan = await o.plan(stringHeader(event, "lambda-runtime-invoked-function-arn") ?? "");
    if (plan.delay !== undefined) {
      o.onInjected(plan, requestId, "delay");
      await o.clock.sleep(plan.delay.milliseconds);
    }
    if (plan.outcome === undefined) return "deliver";
    o.onInjected(plan, requestId, "outcome");
    if (plan.outcome.preventExecution) {
      post(requestId, plan.outcome.outcome);
      return "answered";
    }
    await o.beforeReplacement?.();
    if (o.replacements.size >= MAX_PENDING_REPLACEMENTS) {
      o.replacements.delete(o.replacements.keys().next().value as string);
    }
    o.replacements.set(requestId, plan.outcome.outcome);
    return "deliver";
  }

  native.next = async function next(): Promise<NextEvent> {
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
    }
  };
  native.done = function done(id: string, body: string) {
    const outcome = take(o.replacements, id);
    if (outcome === undefined) return unwrapped.done(id, body);
    return post(decodeId(id), outcome);
  };
  native.error = function error(id: string, body: string, xrayCause: string) {
    const outcome = take(o.replacements, id);
    if (outcome === undefined) return unwrapped.error(id, body, xrayCause);
    return post(decodeId(id), outcome);
  };
}

function take(replacements: Map<string, Outcome>, id: string): Outcome | undefined {
  if (replacements.size === 0) return undefined;
  const key = decodeId(id);
  const outcome = replacements.get(key);
  if (outcome !== undefined) replacements.delete(key);
  return outcome;
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
