/**
 * The lab's metrics as a user meets them: real invocations, then CloudWatch's own API through the real SDK —
 * AWS/Lambda metrics from the pool and a function's own EMF line from its log.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from "@aws-sdk/client-cloudwatch";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { type Lab, startLab } from "../src/index.ts";

const labJson = join(import.meta.dirname, "fixtures", "lab-basic", "lab.json");
const credentials = { accessKeyId: "x", secretAccessKey: "x" };
let lab: Lab;
let lambda: LambdaClient;
let cloudwatch: CloudWatchClient;

before(async () => {
  lab = await startLab(labJson);
  lambda = new LambdaClient({
    endpoint: lab.endpoints.lambda,
    region: "us-east-1",
    credentials,
    maxAttempts: 1,
  });
  cloudwatch = new CloudWatchClient({
    endpoint: lab.endpoints.cloudwatch,
    region: "us-east-1",
    credentials,
    maxAttempts: 1,
  });
});
after(async () => {
  lambda?.destroy();
  cloudwatch?.destroy();
  await lab?.stop();
});

const sum = (id: string, namespace: string, metricName: string, dimensions: Record<string, string>) =>
  ({
    Id: id,
    MetricStat: {
      Metric: {
        Namespace: namespace,
        MetricName: metricName,
        Dimensions: Object.entries(dimensions).map(([Name, Value]) => ({ Name, Value })),
      },
      Period: 60,
      Stat: "Sum",
    },
  }) satisfies MetricDataQuery;

test("invocations, errors and EMF lines become CloudWatch metrics read with GetMetricData", async () => {
  const started = new Date(Date.now() - 60_000);
  const emf = JSON.stringify({
    _aws: {
      Timestamp: Date.now(),
      CloudWatchMetrics: [
        {
          Namespace: "orders",
          Dimensions: [["Service"]],
          Metrics: [{ Name: "OrdersPlaced", Unit: "Count" }],
        },
      ],
    },
    Service: "api",
    OrdersPlaced: 3,
  });
  const invoke = (event: unknown) =>
    lambda.send(new InvokeCommand({ FunctionName: "node-echo", Payload: JSON.stringify(event) }));
  assert.equal((await invoke({ log: emf })).FunctionError, undefined);
  assert.equal((await invoke({ throw: "boom" })).FunctionError, "Unhandled");
  assert.equal((await invoke({ echo: 1 })).FunctionError, undefined);

  const fn = { FunctionName: "node-echo" };
  const out = await cloudwatch.send(
    new GetMetricDataCommand({
      StartTime: started,
      EndTime: new Date(Date.now() + 60_000),
      MetricDataQueries: [
        sum("invocations", "AWS/Lambda", "Invocations", fn),
        sum("errors", "AWS/Lambda", "Errors", fn),
        sum("orders", "orders", "OrdersPlaced", { Service: "api" }),
      ],
    }),
  );
  const total = (id: string) =>
    (out.MetricDataResults ?? []).find((r) => r.Id === id)?.Values?.reduce((a, b) => a + b, 0);
  assert.equal(total("invocations"), 3);
  assert.equal(total("errors"), 1);
  assert.equal(total("orders"), 3);
});
