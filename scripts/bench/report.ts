/**
 * Metrics and report benchmark (issue 5). Run alone: `node --import tsx scripts/bench/report.ts`.
 *
 * EMF parsing (lines/s, the extension's FaultInjected line), metric store ingestion (datapoints/s), GetMetricData
 * through @aws-sdk/client-cloudwatch against the lab's CloudWatch API over one hour of 1 req/s for 10 functions,
 * and one report: build (all GetMetricData calls), HTML render (ECharts SSR), HTML size, PDF via Chromium.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  MetricStore,
  parseEmfLine,
  recordInvocation,
  startCloudWatchServer,
} from "../../packages/lab/src/metrics/index.ts";
import {
  buildReport,
  CloudWatchMetricSource,
  findChromium,
  printToPdf,
  renderHtml,
} from "../../packages/report/src/index.ts";

export interface ReportBenchResult {
  emfLinesPerSecond: number;
  storeDatapointsPerSecond: number;
  getMetricDataP50Ms: number;
  buildReportMs: number;
  renderHtmlMs: number;
  htmlKiB: number;
  pdfMs?: number;
}

const HOUR = 3600_000;
const FUNCTIONS = 10;

export async function benchReport(log: (line: string) => void = console.log): Promise<ReportBenchResult> {
  const t0 = Date.UTC(2026, 10, 26, 12);
  const line = JSON.stringify({
    _aws: {
      Timestamp: t0,
      CloudWatchMetrics: [
        {
          Namespace: "aws-fis-extension",
          Dimensions: [["FaultId", "Invocation"]],
          Metrics: [{ Name: "FaultInjected", Unit: "Count" }],
        },
      ],
    },
    FaultId: "aws:lambda:invocation-add-delay",
    Invocation: "fn",
    FaultInjected: 1,
  });
  const N = 100_000;
  let start = performance.now();
  for (let i = 0; i < N; i++) parseEmfLine(line, t0);
  const emfLinesPerSecond = Math.round(N / ((performance.now() - start) / 1000));
  log(`EMF: ${emfLinesPerSecond} lines/s`);

  const store = new MetricStore();
  start = performance.now();
  let puts = 0;
  for (let s = 0; s < HOUR / 1000; s++) {
    for (let f = 0; f < FUNCTIONS; f++) {
      recordInvocation(store, {
        functionName: `fn${f}`,
        startMs: t0 + s * 1000,
        durationMs: s > 1200 && s < 2400 ? 2100 : 100 + (s % 7),
        error: s % 50 === 0,
        throttled: false,
        concurrent: 1,
      });
      puts += 10; // 5 metrics × (per function + account-wide)
    }
  }
  const storeDatapointsPerSecond = Math.round(puts / ((performance.now() - start) / 1000));
  log(`store: ${storeDatapointsPerSecond} datapoints/s (${puts} put)`);

  const server = await startCloudWatchServer(store, { now: () => t0 + HOUR }, { evaluateEveryMs: 0 });
  const source = CloudWatchMetricSource.forEndpoint(server.url);
  const dir = mkdtempSync(join(tmpdir(), "faultline-bench-report-"));
  try {
    const query = [0, 1, 2, 3].map((i) => ({
      id: `q${i}`,
      namespace: "AWS/Lambda",
      metricName: "Duration",
      dimensions: { FunctionName: `fn${i}` },
      stat: "p99",
      period: 60,
    }));
    const times: number[] = [];
    for (let i = 0; i < 30; i++) {
      const s = performance.now();
      await source.getMetricData(query, t0, t0 + HOUR);
      times.push(performance.now() - s);
    }
    times.sort((a, b) => a - b);
    const getMetricDataP50Ms = round(times[Math.floor(times.length / 2)]!);
    log(`GetMetricData (4 queries × 60 periods over 1 h of 10 functions): p50 ${getMetricDataP50Ms} ms`);

    const fns = Array.from({ length: FUNCTIONS }, (_, f) => `fn${f}`);
    start = performance.now();
    const report = await buildReport(
      {
        experiment: {
          id: "EXPbench",
          experimentTemplateId: "EXTbench",
          state: { status: "completed", reason: "Experiment completed." },
          startTime: t0 + 20 * 60_000,
          endTime: t0 + 40 * 60_000,
          actions: {
            delay: {
              actionId: "aws:lambda:invocation-add-delay",
              startTime: t0 + 20 * 60_000,
              endTime: t0 + 40 * 60_000,
            },
          },
        },
        resolvedTargets: fns.map((f) => ({
          resourceType: "aws:lambda:function",
          targetName: "fns",
          targetInformation: { arn: `arn:aws:lambda:us-east-1:123456789012:function:${f}` },
        })),
        dashboards: [
          {
            name: "bench",
            body: {
              widgets: ["Invocations", "Errors", "Duration", "ConcurrentExecutions"].map((m) => ({
                type: "metric",
                properties: {
                  title: m,
                  stat: m === "Duration" ? "p99" : "Sum",
                  period: 60,
                  metrics: fns.map((f) => ["AWS/Lambda", m, "FunctionName", f]),
                },
              })),
            },
          },
        ],
        preExperimentDurationMs: 20 * 60_000,
        postExperimentDurationMs: 20 * 60_000,
        recoveryBucketSeconds: 60,
        generatedAt: t0 + HOUR,
      },
      source,
    );
    const buildReportMs = round(performance.now() - start);
    start = performance.now();
    const html = renderHtml(report);
    const renderHtmlMs = round(performance.now() - start);
    const htmlKiB = round(Buffer.byteLength(html) / 1024);
    log(`report: build ${buildReportMs} ms, render ${renderHtmlMs} ms, ${htmlKiB} KiB`);
    let pdfMs: number | undefined;
    if (findChromium()) {
      const { writeFileSync } = await import("node:fs");
      const file = join(dir, "r.html");
      writeFileSync(file, html);
      start = performance.now();
      await printToPdf(file, join(dir, "r.pdf"));
      pdfMs = round(performance.now() - start);
      log(`PDF: ${pdfMs} ms, ${round(statSync(join(dir, "r.pdf")).size / 1024)} KiB`);
    }
    return {
      emfLinesPerSecond,
      storeDatapointsPerSecond,
      getMetricDataP50Ms,
      buildReportMs,
      renderHtmlMs,
      htmlKiB,
      ...(pdfMs === undefined ? {} : { pdfMs }),
    };
  } finally {
    source.client.destroy();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const round = (v: number) => Math.round(v * 10) / 10;

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await benchReport(), null, 2));
}
