/** The report as one self-contained HTML file: inline CSS and SVG, no script, no network. */
import type { PhaseStats } from "./analysis.ts";
import { renderChart } from "./charts.ts";
import { ms } from "./model.ts";
import type { Report } from "./report.ts";

const STATUS_COLOURS: Record<string, string> = {
  completed: "#1d8102",
  running: "#0972d3",
  stopped: "#d13212",
  failed: "#d13212",
  cancelled: "#5f6b7a",
  skipped: "#5f6b7a",
};

export function renderHtml(r: Report): string {
  const e = r.experiment;
  const w = r.window;
  const actions = r.timeline.map((a) => ({
    name: a.name,
    ...(a.startMs === undefined ? {} : { startMs: a.startMs }),
    ...(a.endMs === undefined ? {} : { endMs: a.endMs }),
  }));
  const charts = r.charts
    .map(
      (c) => `<figure class="chart">${renderChart(c.widget, c.series, w, actions)}
<figcaption>${esc(c.widget.dashboard)} · ${esc(
        c.widget.metrics
          .map((m) => `${m.stat}/${m.period}s`)
          .filter(unique)
          .join(", "),
      )}${
        c.widget.skipped.length ? ` · not charted: ${esc(c.widget.skipped.join("; "))}` : ""
      }</figcaption></figure>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(r.title)}</title>
<style>${CSS}</style></head>
<body>
<header>
<h1>${esc(r.title)}</h1>
<div class="meta">
<span class="badge" style="background:${STATUS_COLOURS[e.state.status] ?? "#5f6b7a"}">${esc(e.state.status)}</span>
${e.state.reason ? `<span class="reason">${esc(e.state.reason)}</span>` : ""}
</div>
<dl class="facts">
<dt>Experiment</dt><dd><code>${esc(e.id)}</code></dd>
<dt>Template</dt><dd><code>${esc(e.experimentTemplateId ?? "—")}</code></dd>
<dt>Start</dt><dd>${when(w.startMs)}</dd>
<dt>End</dt><dd>${e.endTime === undefined ? "running" : when(w.endMs)} (${duration(w.endMs - w.startMs)})</dd>
<dt>Report window</dt><dd>${when(w.fromMs)} → ${when(w.toMs)} (pre ${duration(w.startMs - w.fromMs)}, post ${duration(w.toMs - w.endMs)})</dd>
<dt>Generated</dt><dd>${when(r.generatedAtMs)}</dd>
</dl>
</header>
${
  r.halted
    ? `<section class="halt" id="halt"><strong>Experiment ${esc(e.state.status)}</strong>: ${esc(e.state.reason ?? "no reason given")}${
        r.stopConditionEvents.length
          ? ` — stop condition ${esc(r.stopConditionEvents[0]!.source)} went ${esc(r.stopConditionEvents[0]!.state)} at ${when(ms(r.stopConditionEvents[0]!.time))}`
          : ""
      }</section>`
    : ""
}
<section class="figures">
<div class="figure" id="time-to-effect"><div class="label">Time to effect</div><div class="value">${
    r.timeToEffectMs === undefined ? "—" : duration(r.timeToEffectMs)
  }</div><div class="note">${esc(r.effectNote)}</div></div>
<div class="figure" id="time-to-recover"><div class="label">Time to recover</div><div class="value">${
    r.recovery.ms === undefined ? "—" : duration(r.recovery.ms)
  }</div><div class="note">${esc(r.recovery.note)}${bands(r)}</div></div>
</section>
<section><h2>Phases</h2>
<table class="phases" id="phases"><thead><tr><th>Phase</th><th>Window</th><th>Requests</th><th>Request rate</th><th>Error rate</th><th>p50 latency</th><th>p99 latency</th></tr></thead>
<tbody>${r.phases.map(phaseRow).join("")}</tbody></table></section>
<section><h2>Action timeline</h2>
<table class="timeline" id="timeline"><thead><tr><th>Action</th><th>Action ID</th><th>State</th><th>Start</th><th>End</th><th class="bar-col">Timeline</th></tr></thead><tbody>
${r.timeline
  .map(
    (a) => `<tr><td>${esc(a.name)}</td><td><code>${esc(a.actionId)}</code>${params(a.parameters)}</td>
<td><span class="badge small" style="background:${STATUS_COLOURS[a.status] ?? "#5f6b7a"}">${esc(a.status)}</span>${
      a.reason ? `<div class="note">${esc(a.reason)}</div>` : ""
    }</td><td>${a.startMs === undefined ? "—" : `+${duration(a.startMs - w.startMs)}`}</td><td>${
      a.endMs === undefined ? "—" : `+${duration(a.endMs - w.startMs)}`
    }</td><td class="bar-col">${bar(a.startMs, a.endMs, w.fromMs, w.toMs, w.startMs, w.endMs)}</td></tr>`,
  )
  .join("\n")}
</tbody></table></section>
<section><h2>Targets</h2>
${
  r.resolvedTargets.length === 0
    ? `<p class="note">No resolved targets recorded.</p>`
    : `<table id="targets"><thead><tr><th>Target</th><th>Resource type</th><th>Resource</th><th>Extension</th><th>Ready</th></tr></thead><tbody>${r.resolvedTargets
        .map(
          (t) =>
            `<tr><td>${esc(t.targetName)}</td><td>${esc(t.resourceType)}</td><td><code>${esc(
              t.targetInformation.arn ?? JSON.stringify(t.targetInformation),
            )}</code></td><td>${esc(t.targetInformation.extension ?? "—")}</td><td>${readiness(t.targetInformation)}</td></tr>`,
        )
        .join("")}</tbody></table>`
}</section>
<section><h2>Stop conditions</h2>
<p>${
    (e.stopConditions ?? []).filter((s) => s.source !== "none").length === 0
      ? "None declared."
      : (e.stopConditions ?? [])
          .filter((s) => s.source !== "none")
          .map((s) => `<code>${esc(s.source)}</code> ${esc(s.value ?? "")}`)
          .join("<br>")
  }</p>
${
  r.stopConditionEvents.length === 0
    ? `<p class="note" id="stop-events">No stop condition fired.</p>`
    : `<table id="stop-events"><thead><tr><th>Time</th><th>Source</th><th>State</th><th>Reason</th></tr></thead><tbody>${r.stopConditionEvents
        .map(
          (s) =>
            `<tr><td>${when(ms(s.time))} (+${duration(ms(s.time) - w.startMs)})</td><td><code>${esc(s.source)}</code></td><td>${esc(s.state)}</td><td>${esc(s.reason ?? "")}</td></tr>`,
        )
        .join("")}</tbody></table>`
}</section>
<section><h2>Dashboards</h2>
<p class="legend"><span class="swatch"></span> experiment window · <span class="line start"></span> action start · <span class="line end"></span> action end</p>
${r.charts.length === 0 ? `<p class="note">No dashboard metric widgets.</p>` : `<div class="charts">${charts}</div>`}
${r.otherWidgets
  .filter((o) => o.text !== undefined)
  .map((o) => `<pre class="text-widget">${esc(o.text!)}</pre>`)
  .join("\n")}
</section>
<section class="method"><h2>How the figures are computed</h2>
<p><b>Phases</b>: pre = [start − pre duration, start), during = [start, end), post = [end, end + post duration). Request rate = requests / phase seconds; error rate = errors / requests; p50 and p99 are taken over the whole phase (the highest over the latency metrics).</p>
<p><b>Time to effect</b>: experiment start → the first <code>FaultInjected</code> datapoint of the extension (namespace <code>aws-fis-extension</code>).</p>
<p><b>Time to recover</b>: the pre and post windows are cut into ${r.recoveryBucketSeconds} s buckets; per bucket, the error rate and the p50 latency. Each metric's band is [min − slack, max + slack] over the pre buckets, slack = 10 % of the pre median + 5 ms (latency) or + 1 point (error rate). Recovered = the first post bucket with requests that is inside every band and is followed by two more (or the window's end); time to recover = its start − experiment end.</p>
</section>
<footer>faultline · self-contained report, no network needed</footer>
</body></html>
`;
}

function phaseRow(p: PhaseStats): string {
  return `<tr data-phase="${p.name}"><th>${p.name}</th><td>${duration(p.endMs - p.startMs)}</td><td class="num">${p.requests}</td><td class="num">${
    p.requestRate === undefined ? "—" : `${fixed(p.requestRate, 2)} /s`
  }</td><td class="num">${p.errorRate === undefined ? "—" : `${fixed(p.errorRate * 100, 1)} %`}</td><td class="num">${
    p.p50 === undefined ? "—" : `${fixed(p.p50, 1)} ms`
  }</td><td class="num">${p.p99 === undefined ? "—" : `${fixed(p.p99, 1)} ms`}</td></tr>`;
}

function bands(r: Report): string {
  const parts: string[] = [];
  if (r.recovery.latencyBand) {
    parts.push(`p50 band ${fixed(r.recovery.latencyBand.lo, 1)}–${fixed(r.recovery.latencyBand.hi, 1)} ms`);
  }
  if (r.recovery.errorBand) {
    parts.push(
      `error band ${fixed(Math.max(0, r.recovery.errorBand.lo) * 100, 1)}–${fixed(r.recovery.errorBand.hi * 100, 1)} %`,
    );
  }
  return parts.length ? `<br>${esc(parts.join(" · "))}` : "";
}

function params(p: Record<string, string>): string {
  const entries = Object.entries(p);
  return entries.length === 0
    ? ""
    : `<div class="note">${entries.map(([k, v]) => `${esc(k)}=${esc(v)}`).join(", ")}</div>`;
}

/** A CSS bar (no drawing): the action's span within the report window. */
function bar(
  start: number | undefined,
  end: number | undefined,
  from: number,
  to: number,
  es: number,
  ee: number,
): string {
  const pct = (t: number) => Math.max(0, Math.min(100, ((t - from) / (to - from || 1)) * 100));
  const win = `<span class="win" style="left:${pct(es).toFixed(2)}%;width:${(pct(ee) - pct(es)).toFixed(2)}%"></span>`;
  if (start === undefined) return `<div class="track">${win}</div>`;
  const left = pct(start);
  const right = pct(end ?? ee);
  return `<div class="track">${win}<span class="act" style="left:${left.toFixed(2)}%;width:${Math.max(0.5, right - left).toFixed(2)}%"></span></div>`;
}

const unique = <T>(v: T, i: number, a: T[]) => a.indexOf(v) === i;
const fixed = (v: number, digits: number) =>
  v.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

export function duration(msValue: number): string {
  const neg = msValue < 0;
  const v = Math.abs(msValue);
  let out: string;
  if (v < 1000) out = `${Math.round(v)} ms`;
  else if (v < 60_000) out = `${(v / 1000).toFixed(1)} s`;
  else if (v < 3600_000)
    out = `${Math.floor(v / 60_000)} m ${String(Math.round((v % 60_000) / 1000)).padStart(2, "0")} s`;
  else
    out = `${Math.floor(v / 3600_000)} h ${String(Math.floor((v % 3600_000) / 60_000)).padStart(2, "0")} m`;
  return neg ? `−${out}` : out;
}

function when(t: number): string {
  return `${new Date(t).toISOString().replace("T", " ").slice(0, 19)} UTC`;
}

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const CSS = `
:root{font-family:"Amazon Ember","Helvetica Neue",Arial,sans-serif;color:#16191f;background:#fff}
body{max-width:1180px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 8px}h2{font-size:16px;margin:24px 0 8px;border-bottom:1px solid #e9ebed;padding-bottom:4px}
.meta{display:flex;gap:10px;align-items:center;margin-bottom:8px}
.badge{color:#fff;border-radius:10px;padding:2px 10px;font-size:13px;font-weight:bold;text-transform:uppercase}
.badge.small{font-size:11px;padding:1px 7px}
.reason{color:#414d5c}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:0;font-size:13px}
.facts dt{color:#5f6b7a}.facts dd{margin:0}
.halt{background:#fff1f0;border:1px solid #d13212;color:#8a1c07;padding:10px 14px;border-radius:6px;margin-top:16px}
.figures{display:flex;gap:16px;margin-top:16px}
.figure{flex:1;border:1px solid #e9ebed;border-radius:8px;padding:12px 16px}
.figure .label{font-size:12px;color:#5f6b7a;text-transform:uppercase;letter-spacing:.04em}
.figure .value{font-size:28px;font-weight:bold;margin:4px 0}
.note{font-size:12px;color:#5f6b7a}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid #e9ebed;padding:5px 8px;text-align:left;vertical-align:top}
thead th{background:#fafafa;color:#414d5c}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.bar-col{width:32%}
.track{position:relative;height:12px;background:#f2f3f3;border-radius:3px;margin-top:3px}
.track .win{position:absolute;top:0;bottom:0;background:rgba(255,153,0,.25)}
.track .act{position:absolute;top:2px;bottom:2px;background:#0972d3;border-radius:2px}
.charts{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:12px}
figure.chart{margin:0;border:1px solid #e9ebed;border-radius:6px;padding:4px;break-inside:avoid}
figure.chart svg{width:100%;height:auto;display:block}
figcaption{font-size:11px;color:#5f6b7a;padding:2px 6px}
.legend{font-size:12px;color:#414d5c}
.swatch{display:inline-block;width:14px;height:10px;background:rgba(255,153,0,.3);vertical-align:middle}
.line{display:inline-block;width:14px;height:0;border-top:2px dashed #2e7d32;vertical-align:middle}
.line.end{border-top:2px dotted #8e24aa}
.method p{font-size:12px;color:#414d5c}
pre.text-widget{background:#fafafa;padding:8px;font-size:12px;white-space:pre-wrap}
footer{margin-top:24px;font-size:11px;color:#8d99a8}
code{font-size:12px}
@media print{body{padding:0}section,figure{break-inside:avoid}}
`;

/** A target the engine left out of its actions says so, with the engine's reasons. */
function readiness(info: Record<string, string>): string {
  if (info.ready === "true") return "yes";
  if (info.ready === "false") return `<strong>no, left out</strong>: ${esc(info.problems ?? "")}`;
  return "—";
}
