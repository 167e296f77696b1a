import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { PutDashboardCommand } from "@aws-sdk/client-cloudwatch";
import { Engine, ManualClock, ValidationException, validateCreateTemplate } from "../src/index.ts";
import { Moto, readyEnv } from "./moto.ts";
import { seedTemplate } from "./seed.ts";

let moto: Moto;
let dir: string;
const BUCKET = "faults";
const REPORTS = "reports";

before(async () => {
  moto = await Moto.start();
  dir = mkdtempSync(join(tmpdir(), "faultline-engine-reports-"));
  await moto.bucket(BUCKET);
  await moto.bucket(REPORTS);
  const layer = await moto.layer();
  await moto.fn("r1", { tags: { FISExperimentReady: "Yes" }, layer, env: readyEnv(BUCKET) });
  await moto.cloudwatch().send(
    new PutDashboardCommand({
      DashboardName: "orders",
      DashboardBody: JSON.stringify({
        widgets: [
          {
            type: "metric",
            properties: { title: "Errors", metrics: [["AWS/Lambda", "Errors", "FunctionName", "r1"]] },
          },
        ],
      }),
    }),
  );
});
after(async () => {
  await moto?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

let n = 0;
async function engine(dataDir = join(dir, `e${n++}`), clock = new ManualClock()) {
  const e = await Engine.open({
    dataDir,
    lambda: moto.lambda(),
    s3: moto.s3(),
    cloudwatch: moto.cloudwatch(),
    clock,
    stopConditionPollMs: 1000,
    reportPdf: false,
    log: () => {},
  });
  return { e, clock, dataDir };
}

function reportTemplate(config: Record<string, unknown>) {
  const t = seedTemplate();
  t.actions.lat.parameters.duration = "PT10S";
  t.experimentReportConfiguration = config;
  return t;
}

describe("experiment report configuration (validation)", () => {
  const bad = (config: unknown, field: string, fragment: RegExp) =>
    assert.throws(
      () => validateCreateTemplate({ ...seedTemplate(), experimentReportConfiguration: config }),
      (e: unknown) => e instanceof ValidationException && e.field === field && fragment.test(e.message),
    );
  test("FIS's shape, with field-named errors", () => {
    const ok = validateCreateTemplate(
      reportTemplate({
        outputs: { s3Configuration: { bucketName: REPORTS, prefix: "r" } },
        dataSources: { cloudWatchDashboards: [{ dashboardIdentifier: "orders" }] },
        preExperimentDuration: "PT5S",
        postExperimentDuration: "PT20M",
      }),
    );
    assert.equal(ok.body.experimentReportConfiguration?.preExperimentDuration, "PT5S");
    bad({ preExperimentDuration: "5min" }, "experimentReportConfiguration.preExperimentDuration", /ISO 8601/);
    bad({ postExperimentDuration: "PT2H" }, "experimentReportConfiguration.postExperimentDuration", /PT30M/);
    bad({ postExperimentDuration: "PT0S" }, "experimentReportConfiguration.postExperimentDuration", /PT1S/);
    bad(
      { outputs: { s3Configuration: {} } },
      "experimentReportConfiguration.outputs.s3Configuration.bucketName",
      /required/,
    );
    bad(
      { dataSources: { cloudWatchDashboards: [{ name: "x" }] } },
      "experimentReportConfiguration.dataSources.cloudWatchDashboards.0.dashboardIdentifier",
      /is required/,
    );
    bad(
      {
        dataSources: {
          cloudWatchDashboards: Array.from({ length: 6 }, () => ({ dashboardIdentifier: "d" })),
        },
      },
      "experimentReportConfiguration.dataSources.cloudWatchDashboards",
      /at most 5/,
    );
    bad({ colour: "red" }, "experimentReportConfiguration.colour", /not a known field/);
  });
});

describe("experiment reports (moto S3 and CloudWatch, injected clock)", () => {
  test("completed experiment: pending during the post window, then built and uploaded to S3", async () => {
    const { e, clock } = await engine();
    const t = await e.createExperimentTemplate(
      reportTemplate({
        outputs: { s3Configuration: { bucketName: REPORTS, prefix: "fis-reports" } },
        dataSources: { cloudWatchDashboards: [{ dashboardIdentifier: "orders" }] },
        preExperimentDuration: "PT5S",
        postExperimentDuration: "PT5S",
      }),
    );
    const x = await e.startExperiment({ experimentTemplateId: t.id });
    assert.deepEqual(x.experimentReportConfiguration?.postExperimentDuration, "PT5S");
    await e.idle(x.id);
    clock.advance(10_000);
    const done = await e.settled(x.id);
    assert.equal(done.state.status, "completed");
    assert.equal(done.experimentReport?.state.status, "pending");
    clock.advance(4_999);
    await new Promise((r) => setImmediate(r));
    assert.equal(e.getExperiment(x.id).experimentReport?.state.status, "pending");
    clock.advance(1);
    const reported = await e.reportSettled(x.id);
    assert.equal(
      reported.experimentReport?.state.status,
      "completed",
      reported.experimentReport?.state.reason,
    );
    assert.deepEqual(reported.experimentReport?.s3Reports, [
      { arn: `arn:aws:s3:::${REPORTS}/fis-reports/${x.id}/${x.id}.html`, reportType: "text/html" },
    ]);
    assert.deepEqual(await moto.keys(REPORTS), [`fis-reports/${x.id}/${x.id}.html`]);
    const { html } = e.experimentReportFiles(x.id);
    assert.ok(html && existsSync(html));
    const text = readFileSync(html, "utf8");
    assert.match(text, new RegExp(x.id));
    assert.match(text, /Errors/);
    await e.close();
  });

  test("stopped by an alarm: the stop-condition event is recorded and shown; no S3 output → data dir", async () => {
    const alarm = await moto.alarm("report-errors", "OK");
    const { e, clock, dataDir } = await engine();
    const { arn } = alarm;
    const t = await e.createExperimentTemplate({
      ...reportTemplate({ preExperimentDuration: "PT5S", postExperimentDuration: "PT5S" }),
      stopConditions: [{ source: "aws:cloudwatch:alarm", value: arn }],
    });
    const x = await e.startExperiment({ experimentTemplateId: t.id });
    await e.idle(x.id);
    await alarm.set("ALARM");
    clock.advance(1000);
    const stopped = await e.settled(x.id);
    assert.equal(stopped.state.status, "stopped");
    const events = e.stopConditionEvents(x.id);
    assert.equal(events.length, 1);
    assert.equal(events[0]!.source, arn);
    assert.equal(events[0]!.state, "ALARM");
    clock.advance(5000);
    const reported = await e.reportSettled(x.id);
    assert.equal(
      reported.experimentReport?.state.status,
      "completed",
      reported.experimentReport?.state.reason,
    );
    assert.deepEqual(reported.experimentReport?.s3Reports, []);
    const { html } = e.experimentReportFiles(x.id);
    assert.equal(html, join(dataDir, "reports", x.id, `${x.id}.html`));
    assert.match(readFileSync(html!, "utf8"), /report-errors/);
    await e.close();
  });

  test("an experiment that failed before it ran (alarm in ALARM at start) still gets a report", async () => {
    const firing = await moto.alarm("already-firing", "ALARM");
    const { e, clock } = await engine();
    const { arn } = firing;
    const t = await e.createExperimentTemplate({
      ...reportTemplate({ preExperimentDuration: "PT5S", postExperimentDuration: "PT1S" }),
      stopConditions: [{ source: "aws:cloudwatch:alarm", value: arn }],
    });
    const x = await e.startExperiment({ experimentTemplateId: t.id });
    const failed = await e.settled(x.id);
    assert.equal(failed.state.status, "failed");
    assert.equal(failed.startTime, undefined);
    assert.equal(e.stopConditionEvents(x.id)[0]?.source, arn);
    clock.advance(1000);
    const reported = await e.reportSettled(x.id);
    assert.equal(
      reported.experimentReport?.state.status,
      "completed",
      reported.experimentReport?.state.reason,
    );
    assert.match(readFileSync(e.experimentReportFiles(x.id).html!, "utf8"), /already-firing/);
    await e.close();
  });

  test("a missing dashboard fails the report with the reason; a preview gets a cancelled report", async () => {
    const { e, clock } = await engine();
    const t = await e.createExperimentTemplate(
      reportTemplate({
        dataSources: { cloudWatchDashboards: [{ dashboardIdentifier: "nope" }] },
        postExperimentDuration: "PT1S",
      }),
    );
    const x = await e.startExperiment({ experimentTemplateId: t.id });
    await e.idle(x.id);
    clock.advance(10_000);
    await e.settled(x.id);
    clock.advance(1000);
    const failed = await e.reportSettled(x.id);
    assert.equal(failed.experimentReport?.state.status, "failed");
    assert.match(failed.experimentReport!.state.reason, /Report generation failed/);
    const preview = await e.startExperiment({
      experimentTemplateId: t.id,
      experimentOptions: { actionsMode: "skip-all" },
    });
    const p = await e.reportSettled(preview.id);
    assert.equal(p.experimentReport?.state.status, "cancelled");
    await e.close();
  });

  test("restart with a pending report builds it; buildExperimentReport rebuilds on demand", async () => {
    const first = await engine();
    const t = await first.e.createExperimentTemplate(
      reportTemplate({ preExperimentDuration: "PT5S", postExperimentDuration: "PT5S" }),
    );
    const x = await first.e.startExperiment({ experimentTemplateId: t.id });
    await first.e.idle(x.id);
    first.clock.advance(10_000);
    await first.e.settled(x.id);
    await first.e.close();
    const clock = new ManualClock(first.clock.now() + 60_000);
    const { e } = await engine(first.dataDir, clock);
    assert.equal(e.getExperiment(x.id).experimentReport?.state.status, "pending");
    clock.advance(0);
    const reported = await e.reportSettled(x.id);
    assert.equal(
      reported.experimentReport?.state.status,
      "completed",
      reported.experimentReport?.state.reason,
    );
    const again = await e.buildExperimentReport(x.id);
    assert.equal(again.state.status, "completed");
    await e.close();
  });
});
