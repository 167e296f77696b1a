import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  type BucketPoint,
  bandOf,
  buildReport,
  dashboardName,
  defaultPhaseMetrics,
  parseDashboard,
  parseIsoDuration,
  periodCovering,
  ReportInputError,
  timeToEffect,
  timeToRecover,
} from "../src/index.ts";
import {
  completedExperiment,
  dashboard,
  FN,
  resolvedTargets,
  scenarioStore,
  storeSource,
  T0,
} from "./scenario.ts";

const input = (store = scenarioStore()) => ({
  source: storeSource(store),
  input: {
    experiment: completedExperiment,
    resolvedTargets,
    dashboards: [{ name: "orders", body: dashboard }],
    preExperimentDurationMs: 60_000,
    postExperimentDurationMs: 60_000,
    generatedAt: T0 + 200_000,
  },
});

describe("phase statistics, time to effect, time to recover on a synthetic series", () => {
  test("the per-phase table has the numbers worked out by hand", async () => {
    const { source, input: i } = input();
    const r = await buildReport(i, source);
    const row = (name: string) => r.phases.find((p) => p.name === name)!;
    assert.deepEqual(
      r.phases.map((p) => [p.name, p.requests, p.errors, p.requestRate, p.errorRate, p.p50, p.p99]),
      [
        ["pre", 60, 0, 1, 0, 100, 110],
        ["during", 60, 10, 1, 10 / 60, 2100, 2100],
        ["post", 60, 0, 1, 0, 110, 2100],
      ],
    );
    assert.equal(row("during").startMs, T0);
    // p50 rises by at least 2000 ms over the pre phase: the acceptance figure.
    assert.ok(row("during").p50! - row("pre").p50! >= 2000);
  });

  test("time to effect = 5 s (first FaultInjected at T0 + 5.2 s, 1 s resolution)", async () => {
    const { source, input: i } = input();
    const r = await buildReport(i, source);
    assert.equal(r.timeToEffectMs, 5000);
  });

  test("time to recover = 10 s: bands from the pre buckets, first run of 3 in-band post buckets at T0 + 70 s", async () => {
    const { source, input: i } = input();
    const r = await buildReport(i, source);
    // Pre 5 s buckets alternate p50 100 / 110; median 105 → slack 10.5 + 5.
    assert.deepEqual(r.recovery.latencyBand, { lo: 100 - 15.5, hi: 110 + 15.5 });
    assert.deepEqual(r.recovery.errorBand, { lo: -0.01, hi: 0.01 });
    assert.equal(r.recovery.ms, 10_000);
    assert.match(r.recovery.note, /back inside/);
  });

  test("later recovery and no recovery within the post window", async () => {
    const later = input(scenarioStore({ recoverAt: 98 }));
    // Bucket [95 s, 100 s) holds 3 of 5 requests at 2100 ms: p50 2100, out; [100 s, 105 s) is back.
    assert.equal((await buildReport(later.input, later.source)).recovery.ms, 40_000);
    const never = input(scenarioStore({ recoverAt: 200 }));
    const r = await buildReport(never.input, never.source);
    assert.equal(r.recovery.ms, undefined);
    assert.match(r.recovery.note, /not back inside the pre-phase band/);
  });

  test("timeToRecover: a lone in-band bucket does not count, empty buckets are skipped, no baseline is said", () => {
    const pre: BucketPoint[] = [0, 5, 10].map((s) => ({ t: T0 - 60_000 + s * 1000, p50: 100, errorRate: 0 }));
    const end = T0;
    const post = (values: (number | undefined)[]): BucketPoint[] =>
      values.map((v, i) => ({ t: end + i * 5000, ...(v === undefined ? {} : { p50: v, errorRate: 0 }) }));
    // 100 ± (10 + 5): 2000, 100 (lone), 2000, 100, empty, 100, 100 → recovered at bucket 3 (15 s).
    assert.equal(timeToRecover(pre, post([2000, 100, 2000, 100, undefined, 100, 100]), end).ms, 15_000);
    // Runs reaching the window's end count even when shorter than 3.
    assert.equal(timeToRecover(pre, post([2000, 2000, 2000, 100]), end).ms, 15_000);
    assert.equal(timeToRecover(pre, post([100, 100, 100]), end).ms, 0);
    assert.match(timeToRecover([], post([100]), end).note, /no pre-phase data/);
    assert.match(timeToRecover(pre, post([undefined]), end).note, /no post-phase data/);
    assert.deepEqual(bandOf([100, 110, 120], 0.1, 5), { lo: 100 - 16, hi: 120 + 16 });
  });

  test("timeToEffect takes the earliest positive datapoint over every series", () => {
    const s = (pairs: [number, number][]) => ({
      timestamps: pairs.map((p) => p[0]),
      values: pairs.map((p) => p[1]),
    });
    assert.equal(
      timeToEffect(
        [
          s([[T0 + 9000, 1]]),
          s([
            [T0 + 3000, 0],
            [T0 + 4000, 2],
          ]),
        ],
        T0,
      ),
      4000,
    );
    assert.equal(timeToEffect([s([])], T0), undefined);
    assert.equal(timeToEffect([s([[T0 - 500, 1]])], T0 - 200), 0);
  });
});

describe("report inputs", () => {
  test("dashboard rows: '.' shorthand, per-row options, hidden rows, math skipped, text widgets", () => {
    const d = parseDashboard({
      name: "orders",
      body: JSON.stringify({
        widgets: [
          ...dashboard.widgets,
          {
            type: "metric",
            properties: {
              metrics: [
                [{ expression: "m1/m2", label: "rate" }],
                ["AWS/Lambda", "Errors", "FunctionName", "x", { visible: false }],
              ],
            },
          },
        ],
      }),
    });
    assert.equal(d.charts.length, 5);
    assert.deepEqual(
      d.charts[1]!.metrics.map((m) => [m.metricName, m.dimensions, m.stat, m.period, m.label]),
      [
        ["Duration", { FunctionName: FN }, "p50", 5, "p50"],
        ["Duration", { FunctionName: FN }, "p99", 5, "p99"],
      ],
    );
    assert.equal(d.charts[4]!.metrics.length, 0);
    assert.match(d.charts[4]!.skipped[0]!, /m1\/m2/);
    assert.deepEqual(d.others, [
      { dashboard: "orders", type: "text", text: "# Orders service\nSteady state: p50 about 100 ms." },
    ]);
    assert.throws(
      () =>
        parseDashboard({
          name: "bad",
          body: { widgets: [{ type: "metric", properties: { metrics: [["ns"]] } }] },
        }),
      (e: unknown) =>
        e instanceof ReportInputError && e.field === "dashboards.bad.widgets[0].properties.metrics[0]",
    );
  });

  test("default phase metrics come from resolved functions and Lambda actions", () => {
    const m = defaultPhaseMetrics(completedExperiment, resolvedTargets);
    assert.deepEqual(m.requests, [
      { namespace: "AWS/Lambda", metricName: "Invocations", dimensions: { FunctionName: FN } },
    ]);
    assert.deepEqual(m.faultInjected[0]?.dimensions, {
      FaultId: "aws:lambda:invocation-add-delay",
      Invocation: FN,
    });
  });

  test("durations, periods and dashboard identifiers", () => {
    assert.equal(parseIsoDuration("PT20M"), 1_200_000);
    assert.equal(parseIsoDuration("PT1H30M15S"), 5_415_000);
    assert.equal(parseIsoDuration("PT0.5S"), 500);
    assert.throws(() => parseIsoDuration("20m", "preExperimentDuration"), /preExperimentDuration/);
    assert.deepEqual(
      [periodCovering(800), periodCovering(4000), periodCovering(60_000), periodCovering(61_000)],
      [1, 5, 60, 120],
    );
    assert.equal(dashboardName("arn:aws:cloudwatch::123456789012:dashboard/orders"), "orders");
    assert.equal(dashboardName("orders"), "orders");
  });

  test("bad report input names the field", async () => {
    const { source, input: i } = input();
    await assert.rejects(
      buildReport({ ...i, preExperimentDurationMs: -1 }, source),
      /preExperimentDurationMs/,
    );
    await assert.rejects(
      buildReport({ ...i, experiment: { ...completedExperiment, endTime: new Date(T0 - 1) } }, source),
      /experiment.endTime/,
    );
  });
});
