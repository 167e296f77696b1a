/**
 * The assertions of a test file, each computed from the raw request records (or a probe) into a verdict with the
 * measured value beside its threshold. One table of phase checks, read top to bottom.
 */
import { baselineOf, timeToEffect, timeToRecover } from "./effect.ts";
import { type RequestRecord, startedIn, statsOf, type WindowStats } from "./records.ts";
import type { TestSpec } from "./spec.ts";

export type Phase = "pre" | "during" | "after";

export interface Verdict {
  /** e.g. "pre: errorRate", "after: probe orders kept". */
  name: string;
  phase: Phase;
  passed: boolean;
  measured: string;
  threshold: string;
  /** One line: what was measured against what. */
  message: string;
  /** Not measured: the run was interrupted first. */
  skipped?: boolean;
  /** The run itself was interrupted (a signal), so it is not a verdict on the system. */
  interrupted?: boolean;
}

/** When the fault ran, and the windows around it (epoch ms). */
export interface Timeline {
  preStartMs: number;
  faultStartMs: number;
  faultEndMs: number;
  postEndMs: number;
}

const fmtMs = (v: number | undefined) => (v === undefined ? "none" : `${Math.round(v)} ms`);
const fmtRate = (v: number | undefined) => (v === undefined ? "no requests" : `${(v * 100).toFixed(2)} %`);

function verdict(phase: Phase, what: string, passed: boolean, measured: string, threshold: string): Verdict {
  const name = `${phase}: ${what}`;
  return {
    name,
    phase,
    passed,
    measured,
    threshold,
    message: `${name} ${passed ? "held" : "FAILED"}: measured ${measured}, threshold ${threshold}`,
  };
}

/** The checks any phase can carry: stat → how it is measured and shown. */
const PHASE_CHECKS = {
  errorRate: {
    measure: (s: WindowStats) => s.errorRate,
    show: fmtRate,
    limit: (c: { max: number }) => c.max,
  },
  p99: { measure: (s: WindowStats) => s.p99, show: fmtMs, limit: (c: { maxMs: number }) => c.maxMs },
  p50: { measure: (s: WindowStats) => s.p50, show: fmtMs, limit: (c: { maxMs: number }) => c.maxMs },
} as const;

type PhaseChecks = Partial<{ errorRate: { max: number }; p99: { maxMs: number }; p50: { maxMs: number } }>;

function phaseVerdicts(phase: Phase, checks: PhaseChecks, records: RequestRecord[]): Verdict[] {
  const stats = statsOf(records);
  const out: Verdict[] = [];
  for (const key of Object.keys(PHASE_CHECKS) as (keyof typeof PHASE_CHECKS)[]) {
    const check = checks[key] as never;
    if (check === undefined) continue;
    const { measure, show, limit } = PHASE_CHECKS[key];
    const value = measure(stats);
    const threshold = (limit as (c: never) => number)(check);
    // No request in the window proves nothing: a failure, not a pass.
    out.push(
      verdict(
        phase,
        key,
        value !== undefined && value <= threshold,
        `${show(value)} of ${stats.requests} requests`,
        `≤ ${show(threshold)}`,
      ),
    );
  }
  return out;
}

/** Every assertion of the file except probes (run by the runner, which can reach the system). */
export function evaluate(spec: TestSpec, records: readonly RequestRecord[], t: Timeline): Verdict[] {
  const a = spec.assertions;
  const pre = startedIn(records, t.preStartMs, t.faultStartMs);
  const during = startedIn(records, t.faultStartMs, t.faultEndMs);
  const after = startedIn(records, t.faultEndMs, t.postEndMs);
  const verdicts = [
    ...phaseVerdicts("pre", a.pre, pre),
    ...phaseVerdicts("during", a.during, during),
    ...phaseVerdicts("after", a.after, after),
  ];
  const baseline = baselineOf(pre);
  const inRun = startedIn(records, t.preStartMs, t.postEndMs);
  if (a.during.timeToEffect) {
    const untilFaultEnd = inRun.filter((r) => r.startMs < t.faultEndMs);
    const tte = baseline && timeToEffect(untilFaultEnd, baseline, t.faultStartMs);
    verdicts.push(
      timing("during", "timeToEffect", tte, a.during.timeToEffect.maxMs, "the fault was never observed"),
    );
  }
  if (a.after.timeToRecover) {
    const ttr = baseline && timeToRecover(inRun, baseline, t.faultEndMs);
    const never = "never recovered within the post window";
    verdicts.push(timing("after", "timeToRecover", ttr, a.after.timeToRecover.maxMs, never));
  }
  return verdicts;
}

/** Time to effect / to recover against its limit; undefined (not seen) fails, saying what was not seen. */
function timing(
  phase: Phase,
  what: string,
  ms: number | undefined,
  limitMs: number,
  unseen: string,
): Verdict {
  const held = ms !== undefined && ms <= limitMs;
  return verdict(phase, what, held, ms === undefined ? unseen : fmtMs(ms), `≤ ${fmtMs(limitMs)}`);
}

/** The pre-phase checks alone, for a run interrupted once its pre window was complete. */
export function evaluatePre(spec: TestSpec, records: readonly RequestRecord[], t: Timeline): Verdict[] {
  return phaseVerdicts("pre", spec.assertions.pre, startedIn(records, t.preStartMs, t.faultStartMs));
}

/** A verdict that was never reached (the run was interrupted before it could be measured). */
export function skipped(phase: Phase, what: string, why: string): Verdict {
  const name = `${phase}: ${what}`;
  return {
    name,
    phase,
    passed: false,
    skipped: true,
    measured: why,
    threshold: "-",
    message: `${name} not run: ${why}`,
  };
}

export { verdict };
