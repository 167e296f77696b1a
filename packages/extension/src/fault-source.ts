import { changeMarkerKey, functionPrefix } from "@faultline/protocol";
import type { Clock, RandomSource } from "./clock.ts";
import { type Plan, planInit, planInvocation } from "./injector.ts";
import type { Logger } from "./log.ts";
import { FaultPoller } from "./poller.ts";
import { S3ObjectStore } from "./s3.ts";
import type { Settings } from "./settings.ts";

/**
 * The fault decisions both modes share (the external proxy and the in-process hook): the poller over S3, the
 * injector, and the log lines and metrics of an injection. Absent location or invalid settings → no poller,
 * and every plan is empty (pass-through).
 */
export interface FaultSource {
  readonly poller: FaultPoller | undefined;
  /**
   * Decides one invocation, refreshing a stale view for at most `pollMaxWaitMs` first. Synchronous, and
   * allocation-free, when no fault is live and no poll is due: it runs on every invocation.
   */
  plan(invokedFunctionArn: string): Plan | Promise<Plan>;
  /** Logs (and counts, with metrics on) one injected part of a plan. */
  onInjected(plan: Plan, requestId: string, part: "delay" | "outcome" | "hold"): void;
  /**
   * Once per environment, before the runtime's first `next` (which ends Init): refreshes a stale view for at most
   * `pollMaxWaitMs`, then holds for an init-delay fault if one applies. Never rejects.
   */
  holdInit(): Promise<void>;
  /**
   * Called before the environment may freeze (the extension's next event, the runtime's next call): the check
   * or poll in flight, bounded by POST_INVOKE_SETTLE_MS; undefined (nothing allocated) when none is.
   */
  settle(): Promise<void> | undefined;
  close(): void;
}

/**
 * How long the environment is kept thawed, at most, for a check or poll started during an invocation. A 304 takes
 * milliseconds in-Region; a store slower than this is left to finish on the next thaw.
 */
export const POST_INVOKE_SETTLE_MS = 1000;

const PASS_THROUGH: Plan = Object.freeze({});
const NOTHING_LIVE: readonly never[] = Object.freeze([]);

export function createFaultSource(o: {
  settings: Settings;
  problems: readonly string[];
  log: Logger;
  clock: Clock;
  random: RandomSource;
  /** In-process: polls never hold the runtime's event loop (see PollerOptions.background). */
  background?: boolean;
}): FaultSource {
  const { settings, log, clock, random } = o;
  let poller: FaultPoller | undefined;
  let store: S3ObjectStore | undefined;
  if (o.problems.length === 0 && settings.location !== undefined) {
    store = new S3ObjectStore(settings.location.bucket, settings.s3);
    poller = new FaultPoller({
      store,
      prefix: functionPrefix(settings.location, settings.functionName),
      functionName: settings.functionName,
      clock,
      log,
      slowPollMs: settings.slowPollMs,
      hotPollMs: settings.hotPollMs,
      marker: {
        key: changeMarkerKey(settings.location, settings.functionName),
        checkMs: settings.markerCheckMs,
      },
      ...(o.background ? { background: true } : {}),
    });
  } else if (o.problems.length === 0) {
    log.warn("AWS_FIS_CONFIGURATION_LOCATION is not set: passing every invocation through");
  }
  const identity = { functionVersion: settings.functionVersion, invokedFunctionArn: "" };
  function decide(invokedFunctionArn: string): Plan {
    const faults = poller?.faults() ?? NOTHING_LIVE;
    if (faults.length === 0) return PASS_THROUGH;
    identity.invokedFunctionArn = invokedFunctionArn;
    return planInvocation(faults, clock.now(), identity, random);
  }
  return {
    poller,
    plan(invokedFunctionArn) {
      if (poller === undefined) return decide(invokedFunctionArn);
      if (!(poller.polling || poller.isStale())) {
        // A marker check due: started now, beside the invocation; settle() keeps the environment thawed for it.
        if (poller.isDue()) void poller.refresh();
        return decide(invokedFunctionArn);
      }
      return poller.refreshIfStale(settings.pollMaxWaitMs).then(() => decide(invokedFunctionArn));
    },
    onInjected(p, requestId, part) {
      const dimensions = { FaultId: "", Invocation: settings.functionName };
      if (part === "delay" && p.delay) {
        log.info(`adding ${p.delay.milliseconds} milliseconds of latency to function invocation`, requestId);
        log.metric("FaultInjected", 1, "Count", { ...dimensions, FaultId: p.delay.fault.actionId });
      } else if (part === "outcome" && p.outcome) {
        log.info(
          `modifying the function response (${p.outcome.fault.actionId}, preventExecution ${p.outcome.preventExecution})`,
          requestId,
        );
        log.metric("FaultInjected", 1, "Count", { ...dimensions, FaultId: p.outcome.fault.actionId });
      } else if (part === "hold" && p.hold) {
        log.info(`holding the function response ${p.hold.milliseconds} milliseconds`, requestId);
        log.metric("FaultInjected", 1, "Count", { ...dimensions, FaultId: p.hold.fault.actionId });
      }
    },
    async holdInit() {
      try {
        await poller?.refreshIfStale(settings.pollMaxWaitMs);
        const faults = poller?.faults() ?? NOTHING_LIVE;
        const init = planInit(faults, clock.now(), settings.functionVersion, random);
        if (init === undefined) return;
        log.info(`adding ${init.milliseconds} milliseconds to the Init phase`);
        log.metric("FaultInjected", 1, "Count", {
          FaultId: init.fault.actionId,
          Invocation: settings.functionName,
        });
        await clock.sleep(init.milliseconds);
      } catch (error) {
        log.error(`init-delay not applied: ${(error as Error).message}`);
      }
    },
    settle() {
      return poller?.settle(POST_INVOKE_SETTLE_MS);
    },
    close() {
      poller?.stop();
      store?.close();
    },
  };
}
