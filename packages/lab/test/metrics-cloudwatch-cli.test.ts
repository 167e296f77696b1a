import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { awsCliV1, awsCliV2 } from "../../testing/src/index.ts";
import {
  type CloudWatchServer,
  fromQuery,
  MetricStore,
  recordInvocation,
  startCloudWatchServer,
} from "../src/metrics/index.ts";

const run = promisify(execFile);
const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);

// AWS CLI v1 (botocore 1.43: smithy-rpc-v2-cbor) and v2 (Debian's 2.9: awsQuery), both found on PATH.

describe("awsQuery form decoding", () => {
  test("members become lists, typed members numbers or booleans, the rest strings", () => {
    const input = fromQuery(
      new URLSearchParams(
        "Action=GetMetricData&Version=2010-08-01&StartTime=2026-11-26T12%3A00%3A00Z" +
          "&MetricDataQueries.member.1.Id=a&MetricDataQueries.member.1.ReturnData=false" +
          "&MetricDataQueries.member.1.MetricStat.Period=60&MetricDataQueries.member.1.MetricStat.Stat=p99" +
          "&MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Name=FunctionName" +
          "&MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Value=fn" +
          "&MetricDataQueries.member.2.Id=b&MetricData.member.1.Values.member.1=1.5&MetricData.member.1.Values.member.2=2",
      ),
    );
    assert.deepEqual(input, {
      StartTime: "2026-11-26T12:00:00Z",
      MetricDataQueries: [
        {
          Id: "a",
          ReturnData: false,
          MetricStat: {
            Period: 60,
            Stat: "p99",
            Metric: { Dimensions: [{ Name: "FunctionName", Value: "fn" }] },
          },
        },
        { Id: "b" },
      ],
      MetricData: [{ Values: [1.5, 2] }],
    });
  });
});

describe("the AWS CLI against the lab's CloudWatch API", () => {
  let server: CloudWatchServer;
  const clock = { now: () => T0 + 120_000 };
  before(async () => {
    const store = new MetricStore();
    for (let i = 0; i < 10; i++) {
      recordInvocation(store, {
        functionName: "fn",
        startMs: T0 + i * 1000,
        durationMs: (i + 1) * 10,
        error: false,
        throttled: false,
        concurrent: 1,
      });
    }
    server = await startCloudWatchServer(store, clock, { evaluateEveryMs: 0 });
  });
  after(() => server.close());

  for (const [label, cmd] of [
    ["v1 (rpc-v2-cbor)", awsCliV1],
    ["v2 (awsQuery)", awsCliV2],
  ] as const) {
    test(`AWS CLI ${label}: alarm set and read, metric data, errors`, async (t) => {
      if (cmd.skip) {
        t.skip(cmd.skip);
        return;
      }
      const bin = cmd.require();
      const env = {
        ...process.env,
        AWS_ACCESS_KEY_ID: "AKIDTEST",
        AWS_SECRET_ACCESS_KEY: "secret",
        AWS_DEFAULT_REGION: "us-east-1",
        AWS_PAGER: "",
      };
      const cli = async (...args: string[]) =>
        JSON.parse(
          (await run(bin, ["cloudwatch", ...args, "--endpoint-url", server.url, "--output", "json"], { env }))
            .stdout || "{}",
        );
      const name = `cli-${label.length}`;
      await cli(
        "put-metric-alarm",
        ...["--alarm-name", name, "--namespace", "AWS/Lambda", "--metric-name", "Errors"],
        ...["--statistic", "Sum", "--period", "10", "--evaluation-periods", "1", "--threshold", "1"],
        ...["--comparison-operator", "GreaterThanOrEqualToThreshold"],
      );
      await cli(
        "set-alarm-state",
        "--alarm-name",
        name,
        "--state-value",
        "ALARM",
        "--state-reason",
        "by hand",
      );
      const alarms = await cli("describe-alarms", "--alarm-names", name);
      assert.deepEqual(
        [
          alarms.MetricAlarms[0].StateValue,
          alarms.MetricAlarms[0].StateReason,
          alarms.MetricAlarms[0].Period,
        ],
        ["ALARM", "by hand", 10],
      );
      const data = await cli(
        "get-metric-data",
        ...["--start-time", new Date(T0).toISOString(), "--end-time", new Date(T0 + 60_000).toISOString()],
        "--metric-data-queries",
        JSON.stringify([
          {
            Id: "p90",
            MetricStat: {
              Metric: {
                Namespace: "AWS/Lambda",
                MetricName: "Duration",
                Dimensions: [{ Name: "FunctionName", Value: "fn" }],
              },
              Period: 60,
              Stat: "p90",
            },
          },
        ]),
      );
      assert.deepEqual(data.MetricDataResults[0].Values, [90]);
      await assert.rejects(cli("get-dashboard", "--dashboard-name", "nope"), /ResourceNotFound/);
    });
  }
});
