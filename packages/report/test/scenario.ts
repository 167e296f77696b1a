/**
 * A synthetic experiment with numbers worked out by hand (see the report tests):
 * one request per second from T0 − 60 s to T0 + 120 s; experiment [T0, T0 + 60 s), pre and post 60 s.
 * pre: 100 ms on even seconds, 110 ms on odd ones. during: 100 ms for s < 5, then 2100 ms (the fault) with
 * FaultInjected from s = 5; seconds 30–39 error. post: 2100 ms for s < 70, then 100/110 ms again.
 */
import {
  type InvocationRecord,
  MetricStore,
  parseEmfLine,
  recordInvocation,
} from "../../lab/src/metrics/index.ts";
import type { MetricSource, Series } from "../src/index.ts";

export const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);
export const FN = "orders-create";
export const ACTION = "aws:lambda:invocation-add-delay";

/** The exact line the extension prints (packages/extension/src/log.ts). */
export const faultLine = (ts: number) =>
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
    FaultId: ACTION,
    Invocation: FN,
    FaultInjected: 1,
  });

export function scenarioStore(options: { recoverAt?: number } = {}): MetricStore {
  const recoverAt = options.recoverAt ?? 70;
  const store = new MetricStore();
  for (let s = -60; s < 120; s++) {
    const startMs = T0 + s * 1000 + 200;
    const normal = Math.abs(s) % 2 === 0 ? 100 : 110;
    const faulted = (s >= 5 && s < 60) || (s >= 60 && s < recoverAt);
    const record: InvocationRecord = {
      functionName: FN,
      startMs,
      durationMs: faulted ? 2100 : normal,
      error: s >= 30 && s < 40,
      throttled: false,
      concurrent: 1,
    };
    recordInvocation(store, record);
    if (s >= 5 && s < 60) {
      const r = parseEmfLine(faultLine(startMs), startMs);
      if (r.kind === "metrics") for (const d of r.datapoints) store.put(d);
    }
  }
  return store;
}

/** A MetricSource straight over a store, in-process (the HTTP path is tested separately). */
export function storeSource(store: MetricStore): MetricSource {
  return {
    async getMetricData(queries, startMs, endMs) {
      const out = new Map<string, Series>();
      for (const q of queries) {
        out.set(q.id, store.query({ metric: q, period: q.period, stat: q.stat }, startMs, endMs));
      }
      return out;
    },
  };
}

export const completedExperiment = {
  id: "EXP7aBcDeFgHiJkLmN",
  experimentTemplateId: "EXTdelay2000ms",
  state: { status: "completed", reason: "Experiment completed." },
  startTime: new Date(T0),
  endTime: new Date(T0 + 60_000),
  actions: {
    delay: {
      actionId: ACTION,
      parameters: { duration: "PT1M", invocationPercentage: "100", startupDelayMilliseconds: "2000" },
      targets: { Functions: "fns" },
      state: { status: "completed", reason: "Action was completed." },
      startTime: new Date(T0 + 150),
      endTime: new Date(T0 + 60_000),
    },
  },
  targets: { fns: { resourceType: "aws:lambda:function", selectionMode: "ALL" } },
  stopConditions: [{ source: "none" }],
};

export const resolvedTargets = [
  {
    resourceType: "aws:lambda:function",
    targetName: "fns",
    targetInformation: { arn: `arn:aws:lambda:us-east-1:123456789012:function:${FN}` },
  },
];

export const dashboard = {
  widgets: [
    {
      type: "metric",
      properties: {
        title: "Invocations",
        stat: "Sum",
        period: 5,
        metrics: [["AWS/Lambda", "Invocations", "FunctionName", FN]],
      },
    },
    {
      type: "metric",
      properties: {
        title: "Duration",
        period: 5,
        yAxis: { left: { label: "ms" } },
        metrics: [
          ["AWS/Lambda", "Duration", "FunctionName", FN, { stat: "p50", label: "p50" }],
          [".", ".", ".", ".", { stat: "p99", label: "p99" }],
        ],
      },
    },
    {
      type: "metric",
      properties: {
        title: "Errors",
        stat: "Sum",
        period: 5,
        metrics: [["AWS/Lambda", "Errors", "FunctionName", FN, { color: "#d62728" }]],
      },
    },
    {
      type: "metric",
      properties: {
        title: "FaultInjected",
        stat: "Sum",
        period: 5,
        metrics: [["aws-fis-extension", "FaultInjected", "FaultId", ACTION, "Invocation", FN]],
      },
    },
    { type: "text", properties: { markdown: "# Orders service\nSteady state: p50 about 100 ms." } },
  ],
};
