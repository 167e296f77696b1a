import { basename } from "node:path";
import type { AnswerRule } from "../answer.ts";
import { type Clock, type RandomSource, systemClock } from "../clock.ts";
import type { FaultSource } from "../fault-source.ts";
import type { Posted } from "../faults/index.ts";
import { Logger } from "../log.ts";
import type { FaultSide, openFaultSide } from "./fault-side.ts";
import { hookNativeClient, isKnownNativeClient, postOutcome } from "./native-client.ts";
import { interceptStreamedResults, type StreamedResults } from "./streamed-results.ts";

/** The native module the official Node runtime client loads (aws-lambda-ric 3.x/4.x, Lambda's /var/runtime). */
export const NATIVE_CLIENT_FILE = "rapid-client.node";
/** What the exec wrapper adds to NODE_OPTIONS; removed again so the function's own child processes don't inherit it. */
const PRELOAD_OPTION = /\s*--require\s+"[^"]*in-process\.cjs"/;

export type InProcessState = "waiting" | "hooked" | "unknown-client" | "disabled";

export interface InProcessOptions {
  /** The runtime's environment (process.env); NODE_OPTIONS is cleaned in place. */
  env: Record<string, string | undefined>;
  /**
   * Loads the fault side (settings, logger, poller, S3, injector). In the layer: a require of
   * faultline/in-process-faults.cjs, so the preload itself stays a few kilobytes.
   */
  loadFaultSide(): { openFaultSide: typeof openFaultSide };
  clock?: Clock;
  random?: RandomSource;
  write?: (line: string) => void;
}

export interface InProcess {
  state(): InProcessState;
  /** Hooks a loaded native client (exported for tests; normally reached through process.dlopen). */
  attach(nativeClient: unknown): void;
  close(): void;
}

/**
 * The in-process mode, preloaded into the Node runtime (`--require`): waits for the runtime client's native
 * module to load, checks its shape, and wraps its calls. The preload is only the hooks: the fault side (a separate
 * bundle) is loaded, and its first poll started, in the background once the runtime client is found; the runtime's
 * first `next` waits for that poll (bounded) and any init-delay. Faults are decided by the same fault source as
 * the external proxy; polling runs on unref'd timers beside the runtime. Anything unexpected: pass-through.
 */
export function installInProcess(o: InProcessOptions): InProcess {
  const clock = o.clock ?? systemClock;
  const env = o.env;
  if (env.NODE_OPTIONS !== undefined) {
    const cleaned = env.NODE_OPTIONS.replace(PRELOAD_OPTION, "").trim();
    if (cleaned === "") delete env.NODE_OPTIONS;
    else env.NODE_OPTIONS = cleaned;
  }
  // Settings are read when the fault side loads, from the environment as the runtime was started with (the
  // function's init code may change process.env).
  const startEnv = { ...env };
  let side: FaultSide | undefined;
  const faultSide = (): FaultSide => {
    side ??= loadFaultSide(o, startEnv, clock);
    return side;
  };
  const log: Pick<Logger, "once" | "error"> = {
    once: (...a) => faultSide().log.once(...a),
    error: (...a) => faultSide().log.error(...a),
  };
  let state: InProcessState = "waiting";
  let streamed: StreamedResults | undefined;
  const rules = new Map<string, AnswerRule>();
  let post: ((id: string, outcome: Posted) => void) | undefined;
  const restoreDlopen = watchNativeLoad((exports) => attach(exports));

  if (env.AWS_LAMBDA_NODEJS_USE_ALTERNATIVE_CLIENT_1 === "true") {
    // That client fetches events over node:http, not through the native calls the hook wraps.
    disable(
      "the runtime client's alternative HTTP client is on (AWS_LAMBDA_NODEJS_USE_ALTERNATIVE_CLIENT_1)",
    );
  } else if (env.AWS_LAMBDA_RUNTIME_API) {
    streamed = interceptStreamedResults({
      runtimeApi: env.AWS_LAMBDA_RUNTIME_API,
      rules,
      clock,
      post: (id, outcome) => post?.(id, outcome),
      log,
    });
  }

  function disable(reason: string): void {
    restoreDlopen();
    state = "disabled";
    faultSide().log.warn(`in-process mode off, passing every invocation through: ${reason}`);
  }

  function attach(nativeClient: unknown): void {
    if (state !== "waiting") return;
    restoreDlopen();
    if (!isKnownNativeClient(nativeClient)) {
      state = "unknown-client";
      faultSide().log.warn(
        `runtime client not recognised (${NATIVE_CLIENT_FILE} without next/done/error): passing every invocation through; FAULTLINE_MODE=external uses the proxy instead`,
      );
      return;
    }
    state = "hooked";
    const faults = (): FaultSource => faultSide().faults();
    post = (id, outcome) => {
      try {
        postOutcome(nativeClient, id, outcome);
      } catch (error) {
        faultSide().log.error(`could not post the injected result: ${(error as Error).message}`, id);
      }
    };
    // The fault side loads, and its first poll starts, on the event loop's next turn: off the preload's and the
    // runtime client's synchronous path, overlapping the runtime's own init and the handler's loading. The first
    // `next` (which ends Init) waits for that poll — at most AWS_FIS_POLL_MAX_WAIT_MILLISECONDS from its start, as in
    // the external mode — and holds for an init-delay fault, so the delay counts in Init Duration and the first
    // invocation finds a fresh view. The poller then keeps its own unref'd timer.
    setImmediate(() => {
      try {
        const poller = faults().poller;
        if (poller?.isStale()) void poller.poll();
      } catch (error) {
        log.once("ERROR", "hook:start", `in-process start failed: ${(error as Error).message}`);
      }
    }).unref();
    hookNativeClient(nativeClient, {
      plan: (invokedFunctionArn) => faults().plan(invokedFunctionArn),
      onInjected: (plan, requestId, part) => faults().onInjected(plan, requestId, part),
      beforeFirstNext: () => faults().holdInit(),
      clock,
      log,
      rules,
      beforeReplacement: streamed?.ready,
      beforeNext: () => faults().settle(),
    });
  }

  return {
    state: () => state,
    attach,
    close() {
      restoreDlopen();
      side?.close();
      streamed?.close();
    },
  };
}

/** The fault side, or — if it cannot load (a damaged layer) — a pass-through stand-in that says so once. */
function loadFaultSide(
  o: InProcessOptions,
  env: Record<string, string | undefined>,
  clock: Clock,
): FaultSide {
  try {
    return o.loadFaultSide().openFaultSide({ env, clock, random: o.random ?? Math.random, write: o.write });
  } catch (error) {
    const log = new Logger({
      level: "INFO",
      format: "text",
      metrics: false,
      functionName: env.AWS_LAMBDA_FUNCTION_NAME ?? "",
      clock,
      write: o.write,
    });
    log.error(`in-process mode could not load its fault side, passing every invocation through: ${error}`);
    const passThrough: FaultSource = {
      poller: undefined,
      plan: () => ({}),
      onInjected: () => {},
      holdInit: async () => {},
      settle: () => undefined,
      close: () => {},
    };
    return { log, faults: () => passThrough, close: () => {} };
  }
}

/** Calls `onLoad` with the exports of the first rapid-client.node loaded, then steps out of the way. */
function watchNativeLoad(onLoad: (exports: unknown) => void): () => void {
  const original = process.dlopen;
  let active = true;
  const wrapped: typeof process.dlopen = function (this: unknown, module, filename, ...rest) {
    const result = original.call(this, module, filename, ...rest);
    if (active && basename(filename) === NATIVE_CLIENT_FILE) onLoad((module as { exports: unknown }).exports);
    return result;
  };
  process.dlopen = wrapped;
  return () => {
    active = false;
    if (process.dlopen === wrapped) process.dlopen = original;
  };
}
