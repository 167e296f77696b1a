import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Logger } from "@faultline/extension";
import { LogStore } from "../src/logs.ts";
import {
  ingestEmf,
  MetricInputError,
  MetricStore,
  parseEmfLine,
  percentile,
  recordInvocation,
} from "../src/metrics/index.ts";

const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);

/** The exact line shape the extension prints (packages/extension/src/log.ts). */
const extensionLine = (ts: number, actionId = "aws:lambda:invocation-add-delay", fn = "fn") =>
  JSON.stringify({
    _aws: {
      Timestamp: ts,
      CloudWatchMetrics: [
        {
          Namespace: "aws-fis-extension",
          Dimensions: [["FaultId", "Invocation"]],
          Metrics: [{ Name: "FaultInjected", Unit: "Count" }],
        },
      ],
    },
    FaultId: actionId,
    Invocation: fn,
    FaultInjected: 1,
  });

describe("EMF parsing", () => {
  test("the extension's FaultInjected line becomes one datapoint", () => {
    const r = parseEmfLine(extensionLine(T0 + 1234), 0);
    assert.equal(r.kind, "metrics");
    assert.deepEqual(r.kind === "metrics" && r.datapoints, [
      {
        namespace: "aws-fis-extension",
        metricName: "FaultInjected",
        dimensions: { FaultId: "aws:lambda:invocation-add-delay", Invocation: "fn" },
        value: 1,
        unit: "Count",
        timestamp: T0 + 1234,
      },
    ]);
  });

  test("lines printed by the extension's own Logger parse (real code, not a copy of the shape)", () => {
    const lines: string[] = [];
    const log = new Logger({
      level: "INFO",
      format: "text",
      metrics: true,
      functionName: "orders",
      clock: { now: () => T0 + 5, sleep: async () => {} },
      write: (l) => lines.push(l),
    });
    log.metric("FaultInjected", 1, "Count", { FaultId: "aws:lambda:invocation-error", Invocation: "orders" });
    log.info("not a metric");
    const results = lines.map((l) => parseEmfLine(l, 0));
    assert.deepEqual(
      results.map((r) => r.kind),
      ["metrics", "log"],
    );
    const r = results[0]!;
    assert.ok(r.kind === "metrics");
    assert.equal(r.datapoints[0]?.metricName, "FaultInjected");
    assert.deepEqual(r.datapoints[0]?.dimensions, {
      FaultId: "aws:lambda:invocation-error",
      Invocation: "orders",
    });
    assert.equal(r.datapoints[0]?.timestamp, T0 + 5);
  });

  test("Lambda's text format prefix and JSON log format are unwrapped", () => {
    const emf = extensionLine(T0);
    const text = parseEmfLine(`2026-11-26T12:00:00.000Z\t8f5e-1\tINFO\t${emf}`, 0);
    assert.equal(text.kind === "metrics" && text.datapoints.length, 1);
    const json = parseEmfLine(
      JSON.stringify({ timestamp: "x", level: "INFO", requestId: "r", message: JSON.parse(emf) }),
      0,
    );
    assert.equal(json.kind === "metrics" && json.datapoints.length, 1);
  });

  test("several dimension sets, value arrays, missing Timestamp and Unit", () => {
    const line = JSON.stringify({
      _aws: {
        CloudWatchMetrics: [
          {
            Namespace: "orders",
            Dimensions: [["Service"], ["Service", "Route"], []],
            Metrics: [{ Name: "Latency", Unit: "Milliseconds" }, { Name: "Hits" }],
          },
        ],
      },
      Service: "api",
      Route: "POST /orders",
      Latency: [10, 20],
      Hits: 3,
    });
    const r = parseEmfLine(line, T0);
    assert.ok(r.kind === "metrics");
    // Latency: 2 values × 3 sets; Hits: 1 × 3.
    assert.equal(r.datapoints.length, 9);
    assert.ok(r.datapoints.every((d) => d.timestamp === T0));
    assert.deepEqual(
      r.datapoints.filter((d) => d.metricName === "Hits").map((d) => [d.dimensions, d.unit]),
      [
        [{ Service: "api" }, "None"],
        [{ Service: "api", Route: "POST /orders" }, "None"],
        [{}, "None"],
      ],
    );
  });

  test("ordinary lines are logs; broken directives are malformed and name the problem", () => {
    assert.equal(parseEmfLine("START RequestId: x Version: $LATEST", 0).kind, "log");
    assert.equal(parseEmfLine('{"level":"INFO","msg":"hi"}', 0).kind, "log");
    assert.equal(parseEmfLine('{"_aws": broken', 0).kind, "log");
    const cases: [unknown, RegExp][] = [
      [{ _aws: 1 }, /_aws is not an object/],
      [{ _aws: { CloudWatchMetrics: {} } }, /CloudWatchMetrics is not an array/],
      [{ _aws: { Timestamp: "now", CloudWatchMetrics: [] } }, /Timestamp/],
      [{ _aws: { CloudWatchMetrics: [{ Dimensions: [], Metrics: [] }] } }, /Namespace/],
      [
        { _aws: { CloudWatchMetrics: [{ Namespace: "n", Dimensions: [["a", 1]], Metrics: [] }] } },
        /Dimensions\[0\]/,
      ],
      [
        { _aws: { CloudWatchMetrics: [{ Namespace: "n", Dimensions: [], Metrics: [{ Name: "m" }] }] } },
        /"m" is missing/,
      ],
      [
        {
          _aws: { CloudWatchMetrics: [{ Namespace: "n", Dimensions: [["D"]], Metrics: [{ Name: "m" }] }] },
          m: 1,
        },
        /dimension "D"/,
      ],
      [
        {
          _aws: {
            CloudWatchMetrics: [
              { Namespace: "n", Dimensions: [], Metrics: [{ Name: "m", Unit: "Parsecs" }] },
            ],
          },
          m: 1,
        },
        /Unit "Parsecs"/,
      ],
      [
        {
          _aws: { CloudWatchMetrics: [{ Namespace: "n", Dimensions: [], Metrics: [{ Name: "m" }] }] },
          m: "1",
        },
        /"m"/,
      ],
    ];
    for (const [obj, reason] of cases) {
      const r = parseEmfLine(JSON.stringify(obj), 0);
      assert.equal(r.kind, "malformed", JSON.stringify(obj));
      assert.match(r.kind === "malformed" ? r.reason : "", reason);
    }
  });
});

describe("metric store", () => {
  const id = { namespace: "ns", metricName: "Latency", dimensions: { Fn: "a" } };
  const put = (store: MetricStore, offsetMs: number, value: number, dimensions = id.dimensions) =>
    store.put({ ...id, dimensions, value, unit: "Milliseconds", timestamp: T0 + offsetMs });

  test("statistics per period, aligned to the period, end exclusive", () => {
    const store = new MetricStore();
    // Period 0 (T0..T0+60s): 10, 20, 30, 40. Period 1: 100. At T0+120s (excluded by end): 999.
    for (const [at, v] of [
      [0, 10],
      [1500, 20],
      [59_999, 30],
      [30_000, 40],
      [61_000, 100],
      [120_000, 999],
    ] as const) {
      put(store, at, v);
    }
    put(store, 1000, 5000, { Fn: "other" }); // another dimension set is another metric
    const q = (stat: string) => store.query({ metric: id, period: 60, stat }, T0, T0 + 120_000);
    assert.deepEqual(q("SampleCount"), { timestamps: [T0, T0 + 60_000], values: [4, 1] });
    assert.deepEqual(q("Sum").values, [100, 100]);
    assert.deepEqual(q("Average").values, [25, 100]);
    assert.deepEqual(q("Minimum").values, [10, 100]);
    assert.deepEqual(q("Maximum").values, [40, 100]);
    assert.deepEqual(q("p50").values, [20, 100]);
    assert.deepEqual(q("p99").values, [40, 100]);
    assert.deepEqual(q("p25.5").values, [20, 100]);
  });

  test("one-second resolution and percentile by nearest rank", () => {
    const store = new MetricStore();
    for (let i = 1; i <= 100; i++) put(store, 2000 + i, i);
    put(store, 3000, 7);
    const s = store.query({ metric: id, period: 1, stat: "p99" }, T0, T0 + 10_000);
    assert.deepEqual(s, { timestamps: [T0 + 2000, T0 + 3000], values: [99, 7] });
    assert.equal(percentile([1, 2, 3, 4], 50), 2);
    assert.equal(percentile([4, 3, 2, 1], 100), 4);
    assert.equal(percentile([], 50), undefined);
  });

  test("units filter; statistic sets count in aggregates but not percentiles", () => {
    const store = new MetricStore();
    put(store, 0, 10);
    store.put({ ...id, value: 1, unit: "Seconds", timestamp: T0 });
    store.putStatistics(id, { sampleCount: 2, sum: 30, minimum: 5, maximum: 25 }, "Milliseconds", T0 + 10);
    const q = (stat: string, unit?: "Milliseconds") =>
      store.query({ metric: id, period: 60, stat, ...(unit ? { unit } : {}) }, T0, T0 + 60_000).values;
    assert.deepEqual(q("SampleCount", "Milliseconds"), [3]);
    assert.deepEqual(q("SampleCount"), [4]);
    assert.deepEqual(q("Average", "Milliseconds"), [40 / 3]);
    assert.deepEqual(q("Maximum", "Milliseconds"), [25]);
    assert.deepEqual(q("p100", "Milliseconds"), [10]);
  });

  test("bad queries name the field", () => {
    const store = new MetricStore();
    assert.throws(
      () => store.query({ metric: id, period: 60, stat: "Median" }, T0, T0 + 1),
      (e: unknown) => {
        return e instanceof MetricInputError && e.field === "Stat";
      },
    );
    assert.throws(() => store.query({ metric: id, period: 0, stat: "Sum" }, T0, T0 + 1), /Period/);
    assert.throws(() => store.query({ metric: id, period: 60, stat: "p101" }, T0, T0 + 1), /Stat/);
    assert.throws(() => store.query({ metric: id, period: 60, stat: "Sum" }, T0, T0), /EndTime/);
  });

  test("list filters by namespace, name, dimensions and recency; prune drops old samples", () => {
    const store = new MetricStore();
    put(store, 0, 1);
    put(store, 5000, 1, { Fn: "b" });
    store.put({ namespace: "other", metricName: "X", dimensions: {}, value: 1, unit: "None", timestamp: T0 });
    assert.equal(store.list().length, 3);
    assert.equal(store.list({ namespace: "ns" }).length, 2);
    assert.deepEqual(
      store.list({ dimensions: [{ name: "Fn", value: "b" }] }).map((m) => m.dimensions),
      [{ Fn: "b" }],
    );
    assert.equal(store.list({ dimensions: [{ name: "Fn" }] }).length, 2);
    assert.equal(store.list({ sinceMs: T0 + 1000 }).length, 1);
    store.prune(T0 + 1000);
    assert.equal(store.list().length, 1);
  });
});

describe("AWS/Lambda metrics from invocation records", () => {
  test("invocations, errors, throttles, duration, concurrency, init duration per function and account-wide", () => {
    const store = new MetricStore();
    const base = { functionName: "orders", durationMs: 0, error: false, throttled: false, concurrent: 1 };
    recordInvocation(store, { ...base, startMs: T0, durationMs: 120, initDurationMs: 300 });
    recordInvocation(store, { ...base, startMs: T0 + 100, durationMs: 40, error: true, concurrent: 2 });
    recordInvocation(store, { ...base, startMs: T0 + 200, throttled: true, concurrent: 2 });
    recordInvocation(store, { ...base, functionName: "other", startMs: T0 + 300, durationMs: 10 });
    const q = (metricName: string, stat: string, fn?: string) =>
      store.query(
        {
          metric: { namespace: "AWS/Lambda", metricName, dimensions: fn ? { FunctionName: fn } : {} },
          period: 60,
          stat,
        },
        T0,
        T0 + 60_000,
      ).values;
    assert.deepEqual(q("Invocations", "Sum", "orders"), [2]);
    assert.deepEqual(q("Errors", "Sum", "orders"), [1]);
    assert.deepEqual(q("Errors", "Average", "orders"), [0.5]);
    assert.deepEqual(q("Throttles", "Sum", "orders"), [1]);
    assert.deepEqual(q("Duration", "Maximum", "orders"), [120]);
    assert.deepEqual(q("ConcurrentExecutions", "Maximum", "orders"), [2]);
    assert.deepEqual(q("InitDuration", "SampleCount", "orders"), [1]);
    assert.deepEqual(q("Invocations", "Sum"), [3]);
  });
});

describe("EMF ingestion from the log store", () => {
  test("EMF lines written to the lab's LogStore become metrics; a malformed line is reported once", () => {
    const logs = new LogStore();
    const emit = (message: string, timestamp = T0) =>
      logs.write("fn", "2026/11/26/[$LATEST]abc", message, timestamp);
    const store = new MetricStore();
    const malformed: string[] = [];
    const stop = ingestEmf(logs, store, { onMalformed: (_fn, reason) => malformed.push(reason) });
    emit(extensionLine(T0 + 10));
    emit(`2026-11-26T12:00:00.000Z\treq\tINFO\t${extensionLine(T0 + 20)}`);
    emit("plain log line");
    emit('{"_aws":{"CloudWatchMetrics":7}}');
    emit('{"_aws":{"CloudWatchMetrics":7}}');
    stop();
    emit(extensionLine(T0 + 30));
    const s = store.query(
      {
        metric: {
          namespace: "aws-fis-extension",
          metricName: "FaultInjected",
          dimensions: { FaultId: "aws:lambda:invocation-add-delay", Invocation: "fn" },
        },
        period: 1,
        stat: "Sum",
      },
      T0,
      T0 + 1000,
    );
    assert.deepEqual(s.values, [2]);
    assert.equal(malformed.length, 1);
  });
});
