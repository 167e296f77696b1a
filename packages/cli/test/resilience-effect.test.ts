/** Time to effect / time to recover on synthetic series with known answers (the rule is in resilience/effect.ts). */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { baselineOf, timeToEffect, timeToRecover } from "../src/resilience/effect.ts";
import type { RequestRecord } from "../src/resilience/records.ts";

/** A small seeded PRNG, so every series is the same on every run. */
function mulberry32(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const RATE = 10; // requests per second
const [FAULT_START, FAULT_END, END] = [10_000, 20_000, 30_000];

/** 30 s of requests at 10/s; `shape(t, random)` gives each one's latency and whether it failed. */
function series(shape: (t: number, random: () => number) => { ms: number; error?: boolean }, seed = 1) {
  const random = mulberry32(seed);
  const records: RequestRecord[] = [];
  for (let t = 0; t < END; t += 1000 / RATE) {
    const { ms, error = false } = shape(t, random);
    records.push({ name: "r", startMs: t, endMs: t + ms, status: error ? 500 : 200, error });
  }
  return records;
}
/** Steady state: 40–60 ms. */
const steady = (random: () => number) => 40 + 20 * random();
const measure = (records: RequestRecord[]) => {
  const b = baselineOf(records.filter((r) => r.startMs < FAULT_START))!;
  return { tte: timeToEffect(records, b, FAULT_START), ttr: timeToRecover(records, b, FAULT_END) };
};

describe("time to effect and time to recover", () => {
  test("sharp step: +2000 ms from the fault's start to its end → effect and recovery at once", () => {
    const { tte, ttr } = measure(
      series((t, r) => ({ ms: steady(r) + (t >= FAULT_START && t < FAULT_END ? 2000 : 0) })),
    );
    assert.equal(tte, 0);
    assert.equal(ttr, 0);
  });

  test("sharp step of errors, taking hold 1.5 s late and lasting 0.8 s past the end (an extension's poll)", () => {
    const { tte, ttr } = measure(
      series((t, r) => ({ ms: steady(r), error: t >= FAULT_START + 1500 && t < FAULT_END + 800 })),
    );
    assert.equal(tte, 1500);
    // The last failure starts 700 ms after the end; the answer is in 250 ms steps and needs a window's worth of
    // failures to call it out, so it lands within a step of it.
    assert.ok(ttr !== undefined && ttr >= 450 && ttr <= 950, `time to recover ${ttr}`);
  });

  test("ramp: latency grows 100 ms per second of fault, then decays with a 1 s time constant", () => {
    const records = series((t, r) => {
      if (t < FAULT_START) return { ms: steady(r) };
      if (t < FAULT_END) return { ms: steady(r) + (100 * (t - FAULT_START)) / 1000 };
      return { ms: steady(r) + 1000 * Math.exp(-(t - FAULT_END) / 1000) };
    });
    const { tte, ttr } = measure(records);
    // The first request above the pre p99 (~60 ms) comes within a few hundred ms of the start.
    assert.ok(tte !== undefined && tte > 0 && tte <= 300, `time to effect ${tte}`);
    // A request is slow when 40–60 ms noise + 1000·e^(−t/1 s) passes the pre p99 (~60 ms): with probability
    // ≈ d/20 for an excess d. A 2 s window of 20 is out while it holds ≥ 4 slow ones (binomial tail at 1 % under
    // 1e-5), i.e. while the mean excess over the window is above ~3 ms: 432·e^(−t) > 3 → t < ln(144) ≈ 5 s.
    assert.ok(ttr !== undefined && ttr >= 4000 && ttr <= 6000, `time to recover ${ttr}`);
  });

  test("noisy steady state (1 % errors, 1 % spikes to 300 ms) with no fault: no effect, nothing to recover", () => {
    for (let seed = 1; seed <= 100; seed++) {
      const records = series((_t, r) => {
        const roll = r();
        return { ms: roll < 0.01 ? 300 : steady(r), error: roll > 0.99 };
      }, seed);
      const { tte, ttr } = measure(records);
      assert.equal(tte, undefined, `seed ${seed}: no effect expected, got ${tte}`);
      assert.equal(ttr, 0, `seed ${seed}`);
    }
  });

  test("never recovers: half the requests keep failing after the fault ends → undefined", () => {
    const { tte, ttr } = measure(series((t, r) => ({ ms: steady(r), error: t >= FAULT_START && r() < 0.5 })));
    assert.ok(tte !== undefined && tte < 500, `time to effect ${tte}`);
    assert.equal(ttr, undefined);
  });

  test("a fault too small to tell from the steady state is not observed", () => {
    // 2 % of requests 5 ms slower than the pre p99: under both thresholds.
    const { tte } = measure(series((t, r) => ({ ms: t >= FAULT_START && r() < 0.02 ? 65 : steady(r) })));
    assert.equal(tte, undefined);
  });
});
