import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";
import { type CloudWatchServer, startCloudWatchServer } from "../../lab/src/metrics/index.ts";
import { chromium as chromiumTool } from "../../testing/src/index.ts";
import {
  CloudWatchMetricSource,
  findChromium,
  generateExperimentReport,
  type ReportUploader,
} from "../src/index.ts";
import { completedExperiment, dashboard, resolvedTargets, scenarioStore, T0 } from "./scenario.ts";

describe("generateExperimentReport: FIS experimentReportConfiguration → files in S3 → experimentReport", () => {
  let cw: CloudWatchServer;
  let source: CloudWatchMetricSource;
  let s3server: S3rver;
  let s3: S3Client;
  let dir: string;
  const uploader: ReportUploader = {
    put: async (Bucket, Key, Body, ContentType) => {
      await s3.send(new PutObjectCommand({ Bucket, Key, Body, ContentType }));
    },
  };

  before(async () => {
    cw = await startCloudWatchServer(scenarioStore(), { now: () => T0 + 200_000 }, { evaluateEveryMs: 0 });
    cw.service.putDashboard("orders", dashboard);
    source = CloudWatchMetricSource.forEndpoint(cw.url);
    dir = mkdtempSync(join(tmpdir(), "faultline-generate-"));
    s3server = new S3rver({
      port: 0,
      address: "127.0.0.1",
      silent: true,
      directory: join(dir, "s3"),
      configureBuckets: [{ name: "reports" }],
    });
    const { port } = await s3server.run();
    s3 = new S3Client({
      region: "us-east-1",
      endpoint: `http://127.0.0.1:${port}`,
      forcePathStyle: true,
      credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
      requestChecksumCalculation: "WHEN_REQUIRED",
    });
  });
  after(async () => {
    source.client.destroy();
    s3.destroy();
    await cw.close();
    await s3server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const configuration = {
    outputs: { s3Configuration: { bucketName: "reports", prefix: "fis/" } },
    dataSources: {
      cloudWatchDashboards: [{ dashboardIdentifier: "arn:aws:cloudwatch::123456789012:dashboard/orders" }],
    },
    preExperimentDuration: "PT1M",
    postExperimentDuration: "PT1M",
  };

  test("a completed experiment: HTML (and PDF with Chromium) uploaded, s3Reports as FIS lists them", async () => {
    const out = await generateExperimentReport({
      experiment: completedExperiment,
      resolvedTargets,
      configuration,
      source,
      dir: join(dir, "out"),
      uploader,
      generatedAt: T0 + 200_000,
    });
    assert.equal(out.experimentReport.state.status, "completed", out.experimentReport.state.reason);
    const id = completedExperiment.id;
    const expected = [
      ...((findChromium() ?? (chromiumTool.skip ? undefined : chromiumTool.require()))
        ? [{ arn: `arn:aws:s3:::reports/fis/${id}/${id}.pdf`, reportType: "application/pdf" }]
        : []),
      { arn: `arn:aws:s3:::reports/fis/${id}/${id}.html`, reportType: "text/html" },
    ];
    assert.deepEqual(out.experimentReport.s3Reports, expected);
    const html = await s3.send(new GetObjectCommand({ Bucket: "reports", Key: `fis/${id}/${id}.html` }));
    const text = await html.Body!.transformToString();
    assert.match(text, /Time to recover/);
    assert.equal((text.match(/<figure class="chart">/g) ?? []).length, 4);
  });

  test("cancelled experiments and previews get no report; a failure is a failed report state with the reason", async () => {
    const cancelled = await generateExperimentReport({
      experiment: { ...completedExperiment, state: { status: "cancelled", reason: "x" } },
      configuration,
      source,
      dir,
    });
    assert.deepEqual(cancelled.experimentReport.s3Reports, []);
    assert.equal(cancelled.experimentReport.state.status, "cancelled");
    const preview = await generateExperimentReport({
      experiment: completedExperiment,
      actionsMode: "skip-all",
      configuration,
      source,
      dir,
    });
    assert.equal(preview.experimentReport.state.status, "cancelled");
    const failed = await generateExperimentReport({
      experiment: completedExperiment,
      configuration: {
        ...configuration,
        dataSources: { cloudWatchDashboards: [{ dashboardIdentifier: "missing" }] },
      },
      source,
      dir,
      pdf: false,
    });
    assert.equal(failed.experimentReport.state.status, "failed");
    assert.match(
      failed.experimentReport.state.reason,
      /Report generation failed: Dashboard missing does not exist/,
    );
  });
});
