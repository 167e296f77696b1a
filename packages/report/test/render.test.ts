import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parse } from "node-html-parser";
import { PNG } from "pngjs";
import { createCloudWatchService } from "../../lab/src/metrics/index.ts";
import { chromium as chromiumTool } from "../../testing/src/index.ts";
import {
  buildReport,
  CloudWatchMetricSource,
  dashboardName,
  findChromium,
  renderHtml,
  resolveReportConfiguration,
  screenshot,
  WINDOW_FILL,
  writeReport,
} from "../src/index.ts";
import { completedExperiment, dashboard, resolvedTargets, scenarioStore, T0 } from "./scenario.ts";

const chromium = findChromium();
// One rule for external tools: skipped with a reason locally, required under CI=true.
const noChromium = chromium ? false : chromiumTool.skip;

describe("report rendered from the lab's CloudWatch API through @aws-sdk/client-cloudwatch", () => {
  let server: http.Server;
  let source: CloudWatchMetricSource;
  let dir: string;

  before(async () => {
    const service = createCloudWatchService(scenarioStore(), { now: () => T0 + 200_000 });
    service.putDashboard("orders", dashboard);
    server = http.createServer(service.handle);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    source = CloudWatchMetricSource.forEndpoint(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    dir = mkdtempSync(join(tmpdir(), "faultline-report-"));
  });
  after(async () => {
    source.client.destroy();
    await new Promise((r) => server.close(r));
    if (!process.env.FAULTLINE_KEEP_REPORT) rmSync(dir, { recursive: true, force: true });
  });

  const build = async (experiment = completedExperiment, extra = {}) =>
    buildReport(
      {
        experiment,
        resolvedTargets,
        // Read back with GetDashboard, as the engine will for `dataSources.cloudWatchDashboards`.
        dashboards: [
          {
            name: "orders",
            body: await source.getDashboard(
              dashboardName("arn:aws:cloudwatch::123456789012:dashboard/orders"),
            ),
          },
        ],
        preExperimentDurationMs: 60_000,
        postExperimentDurationMs: 60_000,
        generatedAt: T0 + 200_000,
        ...extra,
      },
      source,
    );

  test("same figures over HTTP as in-process: the one code path for AWS and the lab", async () => {
    const r = await build();
    assert.deepEqual(
      r.phases.map((p) => [p.name, p.requests, p.p50, p.p99]),
      [
        ["pre", 60, 100, 110],
        ["during", 60, 2100, 2100],
        ["post", 60, 110, 2100],
      ],
    );
    assert.equal(r.timeToEffectMs, 5000);
    assert.equal(r.recovery.ms, 10_000);
    assert.equal(r.charts.length, 4);
    assert.equal(r.charts[0]!.series[0]!.points.length, 36); // 180 s of 5 s periods, all with requests
  });

  test("experimentReportConfiguration: windows parsed, dashboards read by ARN with GetDashboard", async () => {
    const r = await resolveReportConfiguration(
      {
        dataSources: {
          cloudWatchDashboards: [
            { dashboardIdentifier: "arn:aws:cloudwatch::123456789012:dashboard/orders" },
          ],
        },
        preExperimentDuration: "PT1M",
      },
      source,
    );
    assert.equal(r.preExperimentDurationMs, 60_000);
    assert.equal(r.postExperimentDurationMs, 20 * 60_000);
    assert.deepEqual(
      r.dashboards.map((d) => [d.name, JSON.parse(d.body as string)]),
      [["orders", dashboard]],
    );
    await assert.rejects(
      resolveReportConfiguration(
        { dataSources: { cloudWatchDashboards: [{ dashboardIdentifier: "nope" }] } },
        source,
      ),
      (e: Error) => e.name === "ResourceNotFound",
    );
  });

  test("the HTML: one chart per metric widget, window shaded in each, action marks, phase table with numbers", async () => {
    const html = renderHtml(await build());
    const doc = parse(html);
    assert.equal(doc.querySelectorAll("script").length, 0);
    assert.doesNotMatch(html, /(src|href)="https?:/);
    const charts = doc.querySelectorAll("figure.chart svg");
    assert.equal(charts.length, 4);
    for (const svg of charts) {
      const shade = svg
        .querySelectorAll("polygon, path")
        .filter((p) => p.getAttribute("fill") === WINDOW_FILL);
      assert.equal(shade.length, 1, "one shaded experiment window per chart");
      assert.ok(svg.querySelectorAll('[stroke="#2e7d32"]').length >= 1, "action start marked");
      assert.ok(svg.querySelectorAll('[stroke="#8e24aa"]').length >= 1, "action end marked");
    }
    const rows = doc.querySelectorAll("#phases tbody tr");
    assert.deepEqual(
      rows.map((r) => r.getAttribute("data-phase")),
      ["pre", "during", "post"],
    );
    const during = rows[1]!.querySelectorAll("td").map((td) => td.text);
    assert.deepEqual(during, ["1 m 00 s", "60", "1.00 /s", "16.7 %", "2,100.0 ms", "2,100.0 ms"]);
    assert.equal(doc.querySelector("#time-to-effect .value")?.text, "5.0 s");
    assert.equal(doc.querySelector("#time-to-recover .value")?.text, "10.0 s");
    assert.match(doc.querySelector("#targets")?.text ?? "", /function:orders-create/);
    assert.match(doc.querySelector("#timeline")?.text ?? "", /aws:lambda:invocation-add-delay/);
    assert.equal(doc.querySelector("#halt"), null);
  });

  test("targets the engine left out (not ready) are marked in the report with the engine's reasons", async () => {
    const unready = {
      resourceType: "aws:lambda:function",
      targetName: "fns",
      targetInformation: {
        arn: "arn:aws:lambda:us-east-1:123456789012:function:bare",
        ready: "false",
        problems: "function bare has no faultline layer attached (layers: none)",
      },
    };
    const ready = {
      ...resolvedTargets[0]!,
      targetInformation: {
        ...resolvedTargets[0]!.targetInformation,
        ready: "true",
        extension: "faultline 0.1.0",
      },
    };
    const doc = parse(renderHtml(await build(completedExperiment, { resolvedTargets: [ready, unready] })));
    const rows = doc
      .querySelectorAll("#targets tbody tr")
      .map((r) => r.querySelectorAll("td").map((td) => td.text));
    assert.deepEqual(rows[0]!.slice(3), ["faultline 0.1.0", "yes"]);
    assert.deepEqual(rows[1]!.slice(3), [
      "—",
      "no, left out: function bare has no faultline layer attached (layers: none)",
    ]);
  });

  test("a stopped experiment's report shows the stop, its reason and the stop-condition event", async () => {
    const alarm = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:orders-errors";
    const stopped = {
      ...completedExperiment,
      state: { status: "stopped", reason: "Experiment halted by stop condition" },
      endTime: new Date(T0 + 31_000),
      stopConditions: [{ source: "aws:cloudwatch:alarm", value: alarm }],
      actions: {
        delay: {
          ...completedExperiment.actions.delay,
          state: { status: "stopped", reason: "Action was stopped." },
          endTime: new Date(T0 + 31_000),
        },
      },
    };
    const r = await build(stopped, {
      stopConditionEvents: [
        { time: new Date(T0 + 30_500), source: alarm, state: "ALARM", reason: "Threshold Crossed" },
      ],
    });
    const doc = parse(renderHtml(r));
    const halt = doc.querySelector("#halt")?.text ?? "";
    assert.match(halt, /Experiment stopped/);
    assert.match(halt, /Experiment halted by stop condition/);
    assert.match(halt, /orders-errors/);
    assert.match(doc.querySelector("#stop-events")?.text ?? "", /ALARM.*Threshold Crossed/s);
    assert.equal(doc.querySelector(".badge")?.text, "stopped");
  });

  test("what a person sees: Chromium screenshot of the written report, and its PDF", {
    skip: noChromium,
  }, async () => {
    const written = await writeReport(await build(), { dir, pdf: "auto" });
    assert.ok(existsSync(written.html));
    assert.ok(written.pdf && readFileSync(written.pdf).subarray(0, 5).toString() === "%PDF-");
    const png = join(dir, "report.png");
    await screenshot(written.html, png, { width: 1200, height: 2200 });
    const image = PNG.sync.read(readFileSync(png));
    assert.deepEqual([image.width, image.height], [1200, 2200]);
    // Non-trivial: many colours (text, lines, fills), and the shaded window (#ff9900 at 16 % on white).
    const colours = new Set<number>();
    let shaded = 0;
    for (let i = 0; i < image.data.length; i += 4) {
      const [r, g, b] = [image.data[i]!, image.data[i + 1]!, image.data[i + 2]!];
      colours.add((r << 16) | (g << 8) | b);
      if (r >= 250 && Math.abs(g - 239) <= 6 && Math.abs(b - 214) <= 8) shaded++;
    }
    assert.ok(colours.size > 200, `only ${colours.size} colours`);
    assert.ok(shaded > 4 * 5000, `shaded window: ${shaded} pixels`);
    if (process.env.FAULTLINE_KEEP_REPORT) console.log(`report kept in ${dir}`);
  });
});
