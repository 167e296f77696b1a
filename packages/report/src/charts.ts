/** Dashboard widgets as SVG charts, rendered on the server by Apache ECharts (SSR, SVG renderer; no script needed). */
import * as echarts from "echarts";
import type { ChartWidget } from "./dashboards.ts";

export interface ChartSeries {
  label: string;
  color?: string;
  yAxis: "left" | "right";
  points: [number, number][];
}

export interface ChartWindow {
  fromMs: number;
  startMs: number;
  endMs: number;
  toMs: number;
}

export interface ActionMark {
  name: string;
  startMs?: number;
  endMs?: number;
}

/** The shading of the experiment window; tests and readers look for this colour. */
export const WINDOW_FILL = "#ff9900";
export const WINDOW_OPACITY = 0.16;
/** CloudWatch's default series palette. */
const PALETTE = [
  "#1f77b4",
  "#ff7f0e",
  "#2ca02c",
  "#d62728",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
  "#17becf",
];

export function renderChart(
  widget: Pick<ChartWidget, "title" | "yLabel">,
  series: ChartSeries[],
  window: ChartWindow,
  actions: ActionMark[],
  size = { width: 560, height: 260 },
): string {
  const chart = echarts.init(null, null, {
    renderer: "svg",
    ssr: true,
    width: size.width,
    height: size.height,
  });
  const marks: { xAxis: number; name: string; lineStyle: { color: string; type: "dashed" | "dotted" } }[] =
    [];
  for (const a of actions) {
    if (a.startMs !== undefined) {
      marks.push({
        xAxis: a.startMs,
        name: `${a.name} start`,
        lineStyle: { color: "#2e7d32", type: "dashed" },
      });
    }
    if (a.endMs !== undefined) {
      marks.push({ xAxis: a.endMs, name: `${a.name} end`, lineStyle: { color: "#8e24aa", type: "dotted" } });
    }
  }
  const hasRight = series.some((s) => s.yAxis === "right");
  try {
    chart.setOption({
      animation: false,
      backgroundColor: "#ffffff",
      color: PALETTE,
      // The axis label goes in the title: as an axis name it collides with the title in a small chart.
      title: {
        text: widget.yLabel ? `${widget.title} (${widget.yLabel})` : widget.title,
        left: 8,
        top: 4,
        textStyle: { fontSize: 13, fontWeight: "bold", color: "#16191f" },
      },
      legend: { bottom: 0, type: "plain", textStyle: { fontSize: 10 }, itemHeight: 8, itemWidth: 14 },
      grid: { left: 56, right: hasRight ? 56 : 20, top: 36, bottom: 52 },
      xAxis: {
        type: "time",
        min: window.fromMs,
        max: window.toMs,
        axisLabel: { fontSize: 10, hideOverlap: true, formatter: (v: number) => clock(v) },
        splitLine: { show: false },
      },
      yAxis: [
        {
          type: "value",
          axisLabel: { fontSize: 10 },
          splitLine: { lineStyle: { color: "#e9ebed" } },
        },
        ...(hasRight ? [{ type: "value", axisLabel: { fontSize: 10 }, splitLine: { show: false } }] : []),
      ],
      series: [
        ...series.map((s) => ({
          type: "line",
          name: s.label,
          yAxisIndex: s.yAxis === "right" && hasRight ? 1 : 0,
          showSymbol: s.points.length < 40,
          symbolSize: 3,
          lineStyle: { width: 1.5 },
          ...(s.color ? { itemStyle: { color: s.color } } : {}),
          data: s.points,
        })),
        {
          // Carries the experiment window and the action marks, so they show even without data.
          type: "line",
          name: "experiment window",
          data: [],
          itemStyle: { color: WINDOW_FILL },
          markArea: {
            silent: true,
            itemStyle: { color: WINDOW_FILL, opacity: WINDOW_OPACITY },
            label: { show: true, position: "insideTop", fontSize: 10, color: "#8a5300" },
            data: [[{ name: "experiment", xAxis: window.startMs }, { xAxis: window.endMs }]],
          },
          markLine: {
            silent: true,
            symbol: "none",
            label: { show: false },
            data: marks,
          },
        },
      ],
    });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}
