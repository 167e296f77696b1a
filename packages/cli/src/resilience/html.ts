/** The HTML report of one resilience test: the verdicts, and every request's latency and errors on a chart. */
import { renderChart } from "@faultline/report";
import type { Verdict } from "./assertions.ts";
import { latencyOf } from "./records.ts";
import type { TestResult } from "./run.ts";

const esc = (s: string) =>
  s.replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]!);

function errorsPerSecond(result: TestResult): [number, number][] {
  const bySecond = new Map<number, number>();
  for (const r of result.records) {
    const s = Math.floor(r.startMs / 1000) * 1000;
    bySecond.set(s, (bySecond.get(s) ?? 0) + (r.error ? 1 : 0));
  }
  return [...bySecond].sort(([a], [b]) => a - b);
}

const mark = (v: Verdict) => (v.passed ? "✓" : v.skipped ? "–" : "✗");

export function resilienceReportHtml(result: TestResult): string {
  const t = result.timeline;
  const chart = t
    ? renderChart(
        { title: "Every request: latency (ms) and errors per second", yLabel: "ms" },
        [
          {
            label: "latency (ms)",
            yAxis: "left",
            // Records are kept in the order answers came back: the chart wants them by start.
            points: result.records
              .map((r): [number, number] => [r.startMs, latencyOf(r)])
              .sort(([a], [b]) => a - b),
          },
          { label: "errors/s", yAxis: "right", color: "#d62728", points: errorsPerSecond(result) },
        ],
        { fromMs: t.preStartMs, startMs: t.faultStartMs, endMs: t.faultEndMs, toMs: t.postEndMs },
        [{ name: "fault", startMs: t.faultStartMs, endMs: t.faultEndMs }],
        { width: 900, height: 320 },
      )
    : "";
  const rows = result.verdicts
    .map(
      (v) =>
        `<tr class="${v.passed ? "pass" : v.skipped ? "skip" : "fail"}"><td>${mark(v)}</td><td>${esc(v.name)}</td><td>${esc(v.measured)}</td><td>${esc(v.threshold)}</td></tr>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(result.name)} — faultline test</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:960px}table{border-collapse:collapse}
td,th{padding:.3rem .7rem;border-bottom:1px solid #ddd;text-align:left}.pass td:first-child{color:#2e7d32}
.fail td:first-child,.fail td:nth-child(3){color:#c62828;font-weight:600}.skip{color:#888}</style></head>
<body><h1>${result.interrupted ? `INTERRUPTED (${esc(result.interrupted)})` : result.passed ? "PASS" : "FAIL"}: ${esc(result.name)}</h1>
<p>${esc(result.file)} · experiment ${esc(result.experimentId ?? "-")} · ${result.records.length} requests ·
${(result.durationMs / 1000).toFixed(1)} s</p>
<table><thead><tr><th></th><th>assertion</th><th>measured</th><th>threshold</th></tr></thead><tbody>
${rows}
</tbody></table>
${chart}
</body></html>
`;
}
