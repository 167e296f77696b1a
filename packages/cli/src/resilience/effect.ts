/**
 * Time to effect and time to recover, from the raw request records — not from one-second buckets against a
 * min/max band, which wobbles in and out on noise.
 *
 * The rule: the pre window is the steady state. A request is *anomalous* when it failed or was slower than the
 * pre window's p99. A rolling window (default 2 s, stepped every 250 ms, at least 5 requests) is *out of the
 * steady state* when its count of failed requests, or of requests slower than the pre p99, would happen in the
 * steady state with a probability under 1e-5 (a binomial tail, with the pre window's rates, leaning high —
 * at least 1 % errors, 2 % slow — as the steady state's): rare enough that noise does not trip it across the hundreds of windows of a run.
 *
 * - Time to effect: from the fault's start to the first anomalous request of the first out-of-state window that
 *   starts at or after the fault's start. Undefined: the fault was never observed.
 * - Time to recover: from the fault's end to the start of the first window after which every window is back in the
 *   steady state (0 when none after the end is out). Undefined when the last window of the post phase is still out
 *   of the steady state: it never recovered. Its resolution is the step (250 ms).
 */
import { latencyOf, percentile, type RequestRecord } from "./records.ts";

export interface EffectOptions {
  windowMs?: number;
  stepMs?: number;
  minRequests?: number;
}

export interface Baseline {
  /** The steady state's share of failed requests, and of requests slower than `slowMs` (leaning high). */
  errorRate: number;
  slowRate: number;
  /** The latency above which a request is anomalous: the pre window's p99. */
  slowMs: number;
}

export function baselineOf(pre: readonly RequestRecord[]): Baseline | undefined {
  const slowMs = percentile(pre.map(latencyOf), 99);
  if (slowMs === undefined) return undefined;
  // A short pre window estimates both rates loosely: lean high, so noise is not taken for an effect. A p99
  // taken from n requests is itself exceeded by ~1/n of the steady state, whatever the 1 % says.
  const n = pre.length;
  const errorRate = Math.max(0.01, (pre.filter((r) => r.error).length + 1) / n);
  return { errorRate, slowRate: Math.max(0.02, 2 / n), slowMs };
}

const isAnomalous = (r: RequestRecord, b: Baseline) => r.error || latencyOf(r) > b.slowMs;

/** How unlikely a window must be under the steady state to count as out of it. */
const ALPHA = 1e-5;

/** P(X ≥ k) for X ~ Binomial(n, p). */
export function binomialTail(k: number, n: number, p: number): number {
  let term = (1 - p) ** n; // P(X = 0)
  let below = 0;
  for (let i = 0; i < k; i++) {
    below += term;
    term *= ((n - i) / (i + 1)) * (p / (1 - p));
  }
  return Math.max(0, 1 - below);
}

/** Whether one window's requests could not plausibly come from the steady state. */
export function outOfSteadyState(window: readonly RequestRecord[], b: Baseline): boolean {
  const n = window.length;
  const errors = window.filter((r) => r.error).length;
  const slow = window.filter((r) => !r.error && latencyOf(r) > b.slowMs).length;
  return binomialTail(errors, n, b.errorRate) < ALPHA || binomialTail(slow, n, b.slowRate) < ALPHA;
}

interface Window {
  fromMs: number;
  records: RequestRecord[];
  out: boolean;
}

/** Rolling windows by request start, from `fromMs` to the last request; windows with too few requests are left out. */
function windows(records: readonly RequestRecord[], fromMs: number, b: Baseline, o: EffectOptions): Window[] {
  const { windowMs = 2000, stepMs = 250, minRequests = 5 } = o;
  const sorted = records.filter((r) => r.startMs >= fromMs).sort((x, y) => x.startMs - y.startMs);
  const last = sorted.at(-1)?.startMs;
  const out: Window[] = [];
  if (last === undefined) return out;
  let [lo, hi] = [0, 0];
  for (let t = fromMs; t <= last; t += stepMs) {
    while (lo < sorted.length && sorted[lo]!.startMs < t) lo++;
    while (hi < sorted.length && sorted[hi]!.startMs < t + windowMs) hi++;
    const inside = sorted.slice(lo, hi);
    if (inside.length >= minRequests)
      out.push({ fromMs: t, records: inside, out: outOfSteadyState(inside, b) });
  }
  return out;
}

export function timeToEffect(
  records: readonly RequestRecord[],
  b: Baseline,
  faultStartMs: number,
  options: EffectOptions = {},
): number | undefined {
  const first = windows(records, faultStartMs, b, options).find((w) => w.out);
  const at = first?.records.find((r) => isAnomalous(r, b))?.startMs;
  return at === undefined ? undefined : Math.max(0, at - faultStartMs);
}

export function timeToRecover(
  records: readonly RequestRecord[],
  b: Baseline,
  faultEndMs: number,
  options: EffectOptions = {},
): number | undefined {
  const all = windows(records, faultEndMs, b, options);
  if (all.length === 0 || all.at(-1)!.out) return undefined;
  const lastOut = all.findLastIndex((w) => w.out);
  if (lastOut < 0) return 0;
  return Math.max(0, all[lastOut + 1]!.fromMs - faultEndMs);
}
