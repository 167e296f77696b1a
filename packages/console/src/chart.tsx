/** The per-second metrics of an experiment's targets (uPlot), the experiment window shaded. */
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { Metrics } from "./api.ts";

/** The report's colour for the experiment window (report/src/charts.ts WINDOW_FILL). */
const WINDOW_FILL = "rgba(255, 153, 0, 0.16)";

function data(m: Metrics): uPlot.AlignedData {
  return [m.t.map((t) => t / 1000), m.invocations, m.errors, m.faultInjected, m.p50, m.p99];
}

function shadeWindow(m: () => Metrics): uPlot.Plugin {
  return {
    hooks: {
      drawClear: (u) => {
        const { startMs, endMs } = m();
        if (startMs === undefined) return;
        const x0 = u.valToPos(startMs / 1000, "x", true);
        const last = u.data[0][u.data[0].length - 1] ?? startMs / 1000;
        const x1 = u.valToPos(endMs === undefined ? last : endMs / 1000, "x", true);
        const { top, height, left, width } = u.bbox;
        const a = Math.max(left, x0);
        const b = Math.min(left + width, x1);
        if (b <= a) return;
        u.ctx.save();
        u.ctx.fillStyle = WINDOW_FILL;
        u.ctx.fillRect(a, top, b - a, height);
        u.ctx.restore();
      },
    },
  };
}

export function MetricsChart({ metrics }: { metrics: Metrics }) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const latest = useRef(metrics);
  latest.current = metrics;
  useEffect(() => {
    const el = host.current!;
    const width = () => Math.max(300, el.clientWidth);
    plot.current = new uPlot(
      {
        width: width(),
        height: 260,
        scales: { x: { time: true }, ms: { auto: true } },
        series: [
          {},
          { label: "Invocations/s", stroke: "#1f77b4", width: 2, points: { show: false } },
          { label: "Errors/s", stroke: "#d62728", width: 2, points: { show: false } },
          { label: "FaultInjected/s", stroke: "#ff7f0e", width: 2, dash: [6, 3], points: { show: false } },
          { label: "p50 ms", stroke: "#2ca02c", scale: "ms", width: 1, points: { show: false } },
          { label: "p99 ms", stroke: "#9467bd", scale: "ms", width: 1, points: { show: false } },
        ],
        axes: [{}, { label: "per second" }, { scale: "ms", side: 1, label: "ms", grid: { show: false } }],
        plugins: [shadeWindow(() => latest.current)],
      },
      data(metrics),
      el,
    );
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: width(), height: 260 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
    };
  }, []);
  useEffect(() => {
    plot.current?.setData(data(metrics));
  }, [metrics]);
  const total = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return (
    <figure>
      <div
        ref={host}
        class="chart"
        role="img"
        aria-label="Per-second metrics of the targets; the experiment window is shaded"
      />
      <figcaption class="muted">
        {metrics.functions.join(", ") || "no target"} — {total(metrics.invocations)} invocations,{" "}
        {total(metrics.errors)} errors, {total(metrics.faultInjected)} faults injected in view. Shaded: the
        experiment window. Latency: the highest p50/p99 across the targets.
      </figcaption>
    </figure>
  );
}
