import { basename } from "node:path";
import { FAULTLINE_VERSION } from "@faultline/protocol";
import { type Clock, type RandomSource, systemClock } from "../clock.ts";
import { createFaultSource, type FaultSource } from "../fault-source.ts";
import type { Outcome } from "../faults/index.ts";
import { loggerFor } from "../log.ts";
import { readSettings } from "../settings.ts";
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
 * module to load, checks its shape, and wraps its calls. Faults are decided by the same fault source as the
 * external proxy; polling runs on unref'd timers beside the runtime. Anything unexpected: pass-through.
 */
export function installInProcess(o: InProcessOptions): InProcess {
  const clock = o.clock ?? systemClock;
  const env = o.env;
  if (env.NODE_OPTIONS !== undefined) {
    const cleaned = env.NODE_OPTIONS.replace(PRELOAD_OPTION, "").trim();
    if (cleaned === "") delete env.NODE_OPTIONS;
    else env.NODE_OPTIONS = cleaned;
  }
  const { settings, problems } = readSettings(env);
  const log = loggerFor(settings, clock, o.write);
  let state: InProcessState = "waiting";
  let faults: FaultSource | undefined;
  let streamed: StreamedResults | undefined;
  const replacements = new Map<string, Outcome>();
  let post: ((id: string, outcome: Outcome) => void) | undefined;
  const restoreDlopen = watchNativeLoad((exports) => attach(exports));

  if (env.AWS_LAMBDA_NODEJS_USE_ALTERNATIVE_CLIENT_1 === "true") {
    // That client fetches events over node:http, not through the native calls the hook wraps.
    disable(
      "the runtime client's alternative HTTP client is on (AWS_LAMBDA_NODEJS_USE_ALTERNATIVE_CLIENT_1)",
    );
  } else if (settings.extensionsApi !== undefined) {
    streamed = interceptStreamedResults({
      runtimeApi: settings.extensionsApi,
      replacements,
      post: (id, outcome) => post?.(id, outcome),
      log,
    });
  }

  function disable(reason: string): void {
    restoreDlopen();
    state = "disabled";
    log.warn(`in-process mode off, passing every invocation through: ${reason}`);
  }

  function attach(nativeClient: unknown): void {
    if (state !== "waiting") return;
    restoreDlopen();
    if (!isKnownNativeClient(nativeClient)) {
      state = "unknown-client";
      log.warn(
        `runtime client not recognised (${NATIVE_CLIENT_FILE} without next/done/error): passing every invocation through; FAULTLINE_MODE=external uses the proxy instead`,
      );
      return;
    }
    state = "hooked";
    log.info(`extension enabled ${FAULTLINE_VERSION} (in-process)`);
    for (const problem of problems)
      log.error(`invalid setting, passing every invocation through: ${problem}`);
    faults = createFaultSource({
      settings,
      problems,
      log,
      clock,
      random: o.random ?? Math.random,
      background: true,
    });
    post = (id, outcome) => {
      try {
        postOutcome(nativeClient, id, outcome);
      } catch (error) {
        log.error(`could not post the injected result: ${(error as Error).message}`, id);
      }
    };
    // No poll during the runtime's init: on this one thread it would delay the handler's loading (signing,
    // sockets). The first invocation finds the view stale and polls, held at most AWS_FIS_POLL_MAX_WAIT_MILLISECONDS
    // as in the external mode; the poller then keeps its own (unref'd) timer.
    hookNativeClient(nativeClient, {
      plan: faults.plan,
      onInjected: faults.onInjected,
      clock,
      log,
      replacements,
      beforeReplacement: streamed?.ready,
      beforeNext: faults.settle,
    });
  }

  return {
    state: () => state,
    attach,
    close() {
      restoreDlopen();
      faults?.close();
      streamed?.close();
    },
  };
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
