/**
 * Acceptance on the lab: alarms and dashboards from the lab config, an `aws:cloudwatch:alarm` stop condition tripped
 * by real errors, and an experiment report (HTML in the lab's S3) built by the engine, then fetched with
 * `faultline report` through the API. Real function processes with the faultline layer, real HTTP, real SDK clients.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type CloudWatchClient, DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import { InvokeCommand, type LambdaClient } from "@aws-sdk/client-lambda";
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { main } from "../../cli/src/main.ts";
import { seedTemplate } from "../../engine/test/seed.ts";
import { testLayer } from "../../extension/test/helpers/layer.ts";
import { awsAccess, type Lab, startLab } from "../../lab/src/index.ts";
import { findChromium as findChromiumBinary } from "../../report/src/index.ts";
import { chromium as chromiumTool } from "../../testing/src/index.ts";

// Chromium is optional locally (no PDF) and required under CI=true.
const findChromium = () => findChromiumBinary() ?? (chromiumTool.skip ? undefined : chromiumTool.require());

import { type Faultline, serveFaultline } from "../src/index.ts";
import { faultlineFunction, labClients } from "./kit.ts";

const ALARM_ARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:orders-errors";

describe("stop conditions and reports on the lab (alarms and dashboards from the lab config)", () => {
  const dir = mkdtempSync(join(tmpdir(), "faultline-report-lab-"));
  let lab: Lab;
  let f: Faultline;
  let lambda: LambdaClient;
  let s3: S3Client;
  let cw: CloudWatchClient;
  let clients: ReturnType<typeof labClients>;

  before(async () => {
    const layer = await testLayer(join(dir, "faultline-layer.zip"));
    lab = await startLab({
      buckets: ["faults", "reports"],
      functions: [
        faultlineFunction("orders", {
          layer: layer.zipPath,
          tags: { FISExperimentReady: "Yes" },
          environment: { AWS_FIS_EXTENSION_METRICS: "all" },
        }),
      ],
      alarms: [
        {
          name: "orders-errors",
          namespace: "AWS/Lambda",
          metricName: "Errors",
          dimensions: { FunctionName: "orders" },
          statistic: "Sum",
          period: 2,
          evaluationPeriods: 1,
          threshold: 2,
          comparisonOperator: "GreaterThanOrEqualToThreshold",
          treatMissingData: "notBreaching",
        },
      ],
      dashboards: [
        {
          name: "orders",
          body: {
            widgets: [
              {
                type: "metric",
                properties: {
                  title: "orders: invocations and errors",
                  period: 1,
                  stat: "Sum",
                  metrics: [
                    ["AWS/Lambda", "Invocations", "FunctionName", "orders"],
                    [".", "Errors", ".", "."],
                  ],
                },
              },
            ],
          },
        },
      ],
    } as never);
    clients = labClients(lab);
    ({ lambda, s3, cloudwatch: cw } = clients);
    f = await serveFaultline({
      dataDir: join(dir, "data"),
      ...awsAccess(lab),
      stopConditionPollMs: 500,
      reportPdf: "auto",
      log: () => {},
    });
  });
  after(async () => {
    await f?.close();
    clients?.destroy();
    await lab?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const invoke = () => lambda.send(new InvokeCommand({ FunctionName: "orders", Payload: "{}" }));
  /** Steady load until `done` resolves (or `limitMs` passes): the load is the test's input, not a wait. */
  const loadUntil = async <T>(done: Promise<T>, limitMs: number): Promise<T> => {
    let settled = false;
    const result = done.finally(() => {
      settled = true;
    });
    const deadline = performance.now() + limitMs;
    while (!settled && performance.now() < deadline) await invoke();
    assert.ok(settled, `not settled within ${limitMs} ms of load`);
    return result;
  };
  const faultKeys = async () =>
    ((await s3.send(new ListObjectsV2Command({ Bucket: "faults" }))).Contents ?? [])
      .map((o) => o.Key!)
      .filter((k) => !k.includes("/.faultline/markers/")); // the change markers stay (not fault objects)

  test("the lab config's alarm and dashboard are in the lab's CloudWatch, with FIS-usable ARNs", async () => {
    const out = await cw.send(new DescribeAlarmsCommand({ AlarmNames: ["orders-errors"] }));
    assert.equal(out.MetricAlarms?.[0]?.AlarmArn, ALARM_ARN);
  });

  test("(a) invocation errors trip the lab alarm; the engine halts the experiment and removes the faults", async () => {
    const tpl = seedTemplate();
    tpl.stopConditions = [{ source: "aws:cloudwatch:alarm", value: ALARM_ARN }];
    tpl.actions = {
      err: {
        actionId: "aws:lambda:invocation-error",
        parameters: { duration: "PT60S", invocationPercentage: "100", preventExecution: "true" },
        targets: { Functions: "fns" },
      },
    };
    const t = await f.engine.createExperimentTemplate(tpl);
    const x = await f.engine.startExperiment({ experimentTemplateId: t.id });
    const done = await loadUntil(f.engine.settled(x.id), 30_000);
    assert.deepEqual(done.state, { status: "stopped", reason: "Experiment halted by stop condition" });
    assert.equal(done.actions.err!.state.status, "stopped");
    assert.deepEqual(await faultKeys(), []);
    const events = f.engine.stopConditionEvents(x.id);
    assert.equal(events[0]?.source, ALARM_ARN);
    // Faults gone: invocations succeed again once the extension has seen the deletion.
    const ok = async () => {
      for (;;) if ((await invoke()).FunctionError === undefined) return;
    };
    await loadUntil(ok(), 10_000);
  });

  test("(b, c) a report: completed, HTML in S3 with the shaded window and a time to effect; faultline report writes it", async () => {
    const tpl = seedTemplate();
    tpl.actions.lat.parameters = {
      duration: "PT6S",
      invocationPercentage: "100",
      startupDelayMilliseconds: "200",
    };
    tpl.experimentReportConfiguration = {
      outputs: { s3Configuration: { bucketName: "reports", prefix: "fis" } },
      dataSources: { cloudWatchDashboards: [{ dashboardIdentifier: "orders" }] },
      preExperimentDuration: "PT5S",
      postExperimentDuration: "PT5S",
    };
    const t = await f.engine.createExperimentTemplate(tpl);
    // The pre window's steady state: five seconds of load measured by the lab's own metrics.
    const preEnd = performance.now() + 5000;
    while (performance.now() < preEnd) await invoke();
    const x = await f.engine.startExperiment({ experimentTemplateId: t.id });
    const reported = await loadUntil(f.engine.reportSettled(x.id), 40_000);
    assert.equal(reported.state.status, "completed");
    const report = reported.experimentReport!;
    assert.equal(report.state.status, "completed", report.state.reason);
    const key = `fis/${x.id}/${x.id}.html`;
    // The PDF too when Chromium is installed (docs/reports.md); FIS lists the PDF first.
    const pdfKey = `fis/${x.id}/${x.id}.pdf`;
    assert.deepEqual(report.s3Reports, [
      ...(findChromium() ? [{ arn: `arn:aws:s3:::reports/${pdfKey}`, reportType: "application/pdf" }] : []),
      { arn: `arn:aws:s3:::reports/${key}`, reportType: "text/html" },
    ]);
    const obj = await s3.send(new GetObjectCommand({ Bucket: "reports", Key: key }));
    const html = await obj.Body!.transformToString();
    assert.match(html, /orders: invocations and errors/);
    assert.match(html, /fill="#ff9900"/, "the experiment window is shaded");
    const effect =
      /id="time-to-effect"><div class="label">Time to effect<\/div><div class="value">([^<]+)</.exec(html);
    assert.ok(effect && effect[1] !== "—", `time to effect: ${effect?.[1]}`);
    console.log(`# time to effect on the lab: ${effect![1]}`);

    let stdout = "";
    let stderr = "";
    const out = join(dir, "cli-out");
    const code = await main(["report", x.id, "--out", out, "--endpoint", f.url], {
      stdout: (s) => {
        stdout += s;
      },
      stderr: (s) => {
        stderr += s;
      },
    });
    process.exitCode = undefined;
    assert.equal(code, 0, stderr);
    const written = [join(out, `${x.id}.html`), ...(findChromium() ? [join(out, `${x.id}.pdf`)] : [])];
    assert.equal(stdout, written.map((p) => `${p}\n`).join(""));
    if (findChromium()) assert.equal(readFileSync(written[1]!).subarray(0, 5).toString(), "%PDF-");
    assert.equal(readFileSync(join(out, `${x.id}.html`), "utf8"), html);
  });
});
