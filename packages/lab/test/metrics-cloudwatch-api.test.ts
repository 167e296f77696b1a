import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import {
  CloudWatchClient,
  DeleteAlarmsCommand,
  DeleteDashboardsCommand,
  DescribeAlarmsCommand,
  GetDashboardCommand,
  GetMetricDataCommand,
  GetMetricStatisticsCommand,
  ListDashboardsCommand,
  ListMetricsCommand,
  PutDashboardCommand,
  PutMetricAlarmCommand,
  PutMetricDataCommand,
  SetAlarmStateCommand,
} from "@aws-sdk/client-cloudwatch";
import {
  type AlarmStateChange,
  type CloudWatchService,
  createCloudWatchService,
  MetricStore,
  recordInvocation,
  startCloudWatchServer,
} from "../src/metrics/index.ts";

const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);

describe("CloudWatch API served by the lab, driven by @aws-sdk/client-cloudwatch", () => {
  let server: http.Server;
  let cw: CloudWatchClient;
  let service: CloudWatchService;
  let store: MetricStore;
  const clock = { t: T0, now: () => clock.t };
  const changes: AlarmStateChange[] = [];

  before(async () => {
    store = new MetricStore();
    service = createCloudWatchService(store, clock, { region: "eu-west-1", accountId: "111122223333" });
    service.onAlarmStateChange((c) => changes.push(c));
    server = http.createServer(service.handle);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    cw = new CloudWatchClient({
      region: "eu-west-1",
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "secret" },
      maxAttempts: 1,
    });
  });
  after(async () => {
    cw.destroy();
    await new Promise((r) => server.close(r));
  });

  test("PutMetricData then GetMetricData: periods, statistics, descending by default", async () => {
    await cw.send(
      new PutMetricDataCommand({
        Namespace: "orders",
        MetricData: [
          {
            MetricName: "Latency",
            Dimensions: [{ Name: "Route", Value: "POST" }],
            Value: 10,
            Unit: "Milliseconds",
            Timestamp: new Date(T0 + 1000),
          },
          {
            MetricName: "Latency",
            Dimensions: [{ Name: "Route", Value: "POST" }],
            Values: [20, 30],
            Counts: [1, 2],
            Unit: "Milliseconds",
            Timestamp: new Date(T0 + 2000),
          },
          {
            MetricName: "Latency",
            Dimensions: [{ Name: "Route", Value: "POST" }],
            Value: 100,
            Unit: "Milliseconds",
            Timestamp: new Date(T0 + 61_000),
          },
        ],
      }),
    );
    const metric = {
      Namespace: "orders",
      MetricName: "Latency",
      Dimensions: [{ Name: "Route", Value: "POST" }],
    };
    const out = await cw.send(
      new GetMetricDataCommand({
        StartTime: new Date(T0),
        EndTime: new Date(T0 + 120_000),
        MetricDataQueries: [
          { Id: "avg", MetricStat: { Metric: metric, Period: 60, Stat: "Average" } },
          { Id: "p50", MetricStat: { Metric: metric, Period: 60, Stat: "p50" }, Label: "median" },
          { Id: "count", MetricStat: { Metric: metric, Period: 60, Stat: "SampleCount" } },
        ],
      }),
    );
    const [avg, p50, count] = out.MetricDataResults ?? [];
    assert.deepEqual(avg?.Timestamps, [new Date(T0 + 60_000), new Date(T0)]);
    assert.deepEqual(avg?.Values, [100, (10 + 20 + 30 + 30) / 4]);
    assert.deepEqual(p50?.Values, [100, 20]);
    assert.equal(p50?.Label, "median");
    assert.deepEqual(count?.Values, [1, 4]);
    assert.equal(avg?.StatusCode, "Complete");
  });

  test("the lab's AWS/Lambda metrics: GetMetricData ascending, GetMetricStatistics, ListMetrics", async () => {
    for (let i = 0; i < 10; i++) {
      recordInvocation(store, {
        functionName: "CreateOrder",
        startMs: T0 + i * 1000,
        durationMs: (i + 1) * 10,
        error: i === 9,
        throttled: false,
        concurrent: 1,
      });
    }
    const metric = (name: string) => ({
      Namespace: "AWS/Lambda",
      MetricName: name,
      Dimensions: [{ Name: "FunctionName", Value: "CreateOrder" }],
    });
    const out = await cw.send(
      new GetMetricDataCommand({
        StartTime: new Date(T0),
        EndTime: new Date(T0 + 10_000),
        ScanBy: "TimestampAscending",
        MetricDataQueries: [
          { Id: "inv", MetricStat: { Metric: metric("Invocations"), Period: 5, Stat: "Sum" } },
          { Id: "p99", MetricStat: { Metric: metric("Duration"), Period: 10, Stat: "p99" } },
        ],
      }),
    );
    assert.deepEqual(out.MetricDataResults?.[0]?.Values, [5, 5]);
    assert.deepEqual(out.MetricDataResults?.[0]?.Timestamps, [new Date(T0), new Date(T0 + 5000)]);
    assert.deepEqual(out.MetricDataResults?.[1]?.Values, [100]);
    const stats = await cw.send(
      new GetMetricStatisticsCommand({
        ...metric("Duration"),
        StartTime: new Date(T0),
        EndTime: new Date(T0 + 60_000),
        Period: 60,
        Statistics: ["Average", "Maximum", "SampleCount"],
        ExtendedStatistics: ["p90"],
      }),
    );
    assert.equal(stats.Datapoints?.length, 1);
    const dp = stats.Datapoints![0]!;
    assert.deepEqual(
      [dp.Timestamp, dp.Average, dp.Maximum, dp.SampleCount, dp.ExtendedStatistics, dp.Unit],
      [new Date(T0), 55, 100, 10, { p90: 90 }, "Milliseconds"],
    );
    const listed = await cw.send(
      new ListMetricsCommand({
        Namespace: "AWS/Lambda",
        Dimensions: [{ Name: "FunctionName", Value: "CreateOrder" }],
      }),
    );
    assert.deepEqual(listed.Metrics?.map((m) => m.MetricName).sort(), [
      "ConcurrentExecutions",
      "Duration",
      "Errors",
      "Invocations",
      "Throttles",
    ]);
  });

  test("an alarm goes INSUFFICIENT_DATA → ALARM → OK as data arrives and the clock moves", async () => {
    await cw.send(
      new PutMetricAlarmCommand({
        AlarmName: "orders-errors",
        Namespace: "AWS/Lambda",
        MetricName: "Errors",
        Dimensions: [{ Name: "FunctionName", Value: "GetOrder" }],
        Statistic: "Sum",
        Period: 10,
        EvaluationPeriods: 2,
        DatapointsToAlarm: 1,
        Threshold: 1,
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
      }),
    );
    const state = async () => {
      const out = await cw.send(new DescribeAlarmsCommand({ AlarmNames: ["orders-errors"] }));
      return out.MetricAlarms?.[0];
    };
    clock.t = T0 + 200_000;
    const first = await state();
    assert.equal(first?.StateValue, "INSUFFICIENT_DATA");
    assert.equal(first?.AlarmArn, "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:orders-errors");
    const fn = { functionName: "GetOrder", durationMs: 5, throttled: false, concurrent: 1 };
    recordInvocation(store, { ...fn, startMs: T0 + 201_000, error: false });
    recordInvocation(store, { ...fn, startMs: T0 + 202_000, error: true });
    // The period holding the error is not complete yet: not evaluated.
    clock.t = T0 + 205_000;
    assert.equal((await state())?.StateValue, "INSUFFICIENT_DATA");
    clock.t = T0 + 210_000;
    const alarmed = await state();
    assert.equal(alarmed?.StateValue, "ALARM");
    assert.match(alarmed?.StateReason ?? "", /Threshold Crossed/);
    recordInvocation(store, { ...fn, startMs: T0 + 215_000, error: false });
    // [200,210) still breaches within 2 evaluation periods.
    clock.t = T0 + 220_000;
    assert.equal((await state())?.StateValue, "ALARM");
    clock.t = T0 + 230_000; // periods [210,220) ok, [220,230) missing → OK
    assert.equal((await state())?.StateValue, "OK");
    clock.t = T0 + 260_000; // both periods missing, TreatMissingData missing
    assert.equal((await state())?.StateValue, "INSUFFICIENT_DATA");
    assert.deepEqual(
      changes.filter((c) => c.alarmName === "orders-errors").map((c) => c.to),
      ["ALARM", "OK", "INSUFFICIENT_DATA"],
    );
  });

  test("TreatMissingData breaching, notBreaching and ignore", async () => {
    const base = {
      Namespace: "AWS/Lambda",
      MetricName: "Errors",
      Dimensions: [{ Name: "FunctionName", Value: "nobody" }],
      Statistic: "Sum" as const,
      Period: 10,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold" as const,
    };
    await cw.send(
      new PutMetricAlarmCommand({ ...base, AlarmName: "m-breaching", TreatMissingData: "breaching" }),
    );
    await cw.send(
      new PutMetricAlarmCommand({ ...base, AlarmName: "m-not", TreatMissingData: "notBreaching" }),
    );
    await cw.send(new PutMetricAlarmCommand({ ...base, AlarmName: "m-ignore", TreatMissingData: "ignore" }));
    const out = await cw.send(new DescribeAlarmsCommand({ AlarmNamePrefix: "m-" }));
    assert.deepEqual(
      out.MetricAlarms?.map((a) => [a.AlarmName, a.StateValue]),
      [
        ["m-breaching", "ALARM"],
        ["m-ignore", "INSUFFICIENT_DATA"],
        ["m-not", "OK"],
      ],
    );
    const alarmed = await cw.send(new DescribeAlarmsCommand({ AlarmNamePrefix: "m-", StateValue: "ALARM" }));
    assert.deepEqual(
      alarmed.MetricAlarms?.map((a) => a.AlarmName),
      ["m-breaching"],
    );
    await cw.send(new DeleteAlarmsCommand({ AlarmNames: ["m-breaching", "m-not", "m-ignore"] }));
    assert.deepEqual((await cw.send(new DescribeAlarmsCommand({ AlarmNamePrefix: "m-" }))).MetricAlarms, []);
  });

  test("SetAlarmState holds until one period later, then evaluation takes over (the engine's stop-condition read)", async () => {
    await cw.send(
      new PutMetricAlarmCommand({
        AlarmName: "manual",
        Namespace: "x",
        MetricName: "y",
        Statistic: "Sum",
        Period: 10,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: "GreaterThanThreshold",
        TreatMissingData: "notBreaching",
      }),
    );
    await cw.send(
      new SetAlarmStateCommand({ AlarmName: "manual", StateValue: "ALARM", StateReason: "testing" }),
    );
    const read = async () =>
      (await cw.send(new DescribeAlarmsCommand({ AlarmNames: ["manual"] }))).MetricAlarms?.[0];
    const held = await read();
    assert.deepEqual([held?.StateValue, held?.StateReason], ["ALARM", "testing"]);
    clock.t += 10_000;
    assert.equal((await read())?.StateValue, "OK");
    await assert.rejects(
      cw.send(new SetAlarmStateCommand({ AlarmName: "nope", StateValue: "ALARM", StateReason: "x" })),
      (e: Error) => e.name === "ResourceNotFound",
    );
  });

  test("dashboards: put, get, list, delete; bad body and missing dashboard are CloudWatch errors", async () => {
    const body = {
      widgets: [
        {
          type: "metric",
          properties: {
            metrics: [["AWS/Lambda", "Invocations", "FunctionName", "CreateOrder"]],
            stat: "Sum",
            period: 60,
            title: "Invocations",
          },
        },
      ],
    };
    const put = await cw.send(
      new PutDashboardCommand({ DashboardName: "orders", DashboardBody: JSON.stringify(body) }),
    );
    assert.deepEqual(put.DashboardValidationMessages, []);
    service.putDashboard("orders-2", body);
    const got = await cw.send(new GetDashboardCommand({ DashboardName: "orders" }));
    assert.deepEqual(JSON.parse(got.DashboardBody ?? ""), body);
    assert.equal(got.DashboardArn, "arn:aws:cloudwatch::111122223333:dashboard/orders");
    const listed = await cw.send(new ListDashboardsCommand({ DashboardNamePrefix: "orders" }));
    assert.deepEqual(
      listed.DashboardEntries?.map((d) => d.DashboardName),
      ["orders", "orders-2"],
    );
    await assert.rejects(
      cw.send(new PutDashboardCommand({ DashboardName: "bad", DashboardBody: '{"widget":[]}' })),
      (e: Error) => e.name === "DashboardInvalidInputError" && /widgets/.test(e.message),
    );
    await cw.send(new DeleteDashboardsCommand({ DashboardNames: ["orders-2"] }));
    await assert.rejects(
      cw.send(new GetDashboardCommand({ DashboardName: "orders-2" })),
      (e: Error & { $metadata?: { httpStatusCode?: number } }) =>
        e.name === "ResourceNotFound" && e.$metadata?.httpStatusCode === 404,
    );
  });

  test("bad requests are CloudWatch's modelled errors (InvalidParameterValue, MissingParameter) naming the field", async () => {
    const metric = { Namespace: "orders", MetricName: "Latency" };
    const cases: [() => Promise<unknown>, string, RegExp][] = [
      [
        () =>
          cw.send(
            new GetMetricDataCommand({
              StartTime: new Date(T0),
              EndTime: new Date(T0 + 1000),
              MetricDataQueries: [{ Id: "a", MetricStat: { Metric: metric, Period: 60, Stat: "Median" } }],
            }),
          ),
        "InvalidParameterValueException",
        /MetricDataQueries\[0\]\.MetricStat\.Stat/,
      ],
      [
        () =>
          cw.send(
            new GetMetricDataCommand({
              StartTime: new Date(T0),
              EndTime: new Date(T0 + 1000),
              MetricDataQueries: [{ Id: "e", Expression: "SUM(METRICS())" }],
            }),
          ),
        "InvalidParameterValueException",
        /Expression: metric math is not supported|Expression metric math/,
      ],
      [
        () =>
          cw.send(
            new PutMetricDataCommand({
              Namespace: "AWS/Lambda",
              MetricData: [{ MetricName: "m", Value: 1 }],
            }),
          ),
        "InvalidParameterValueException",
        /Namespace/,
      ],
      [
        () => cw.send(new PutMetricDataCommand({ Namespace: "ok", MetricData: [{ MetricName: "m" }] })),
        "MissingRequiredParameterException",
        /MetricData\[0\]/,
      ],
      [
        () =>
          cw.send(
            new PutMetricAlarmCommand({
              AlarmName: "bad",
              ...metric,
              Statistic: "Sum",
              Period: 60,
              EvaluationPeriods: 1,
              DatapointsToAlarm: 2,
              Threshold: 1,
              ComparisonOperator: "GreaterThanThreshold",
            }),
          ),
        "InvalidParameterValueException",
        /DatapointsToAlarm/,
      ],
    ];
    for (const [p, name, message] of cases) {
      await assert.rejects(p(), (e: Error) => {
        assert.equal(e.name, name);
        assert.match(e.message, message);
        return true;
      });
    }
  });

  test("in-process call and evaluateAlarms without HTTP", () => {
    service.putAlarm({
      AlarmName: "inproc",
      Namespace: "AWS/Lambda",
      MetricName: "Throttles",
      Statistic: "Sum",
      Period: 1,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
    });
    recordInvocation(store, {
      functionName: "t",
      startMs: clock.t,
      durationMs: 0,
      error: false,
      throttled: true,
      concurrent: 0,
    });
    clock.t += 1000;
    const evaluated = service.evaluateAlarms().filter((c) => c.alarmName === "inproc");
    assert.deepEqual(
      evaluated.map((c) => c.to),
      ["ALARM"],
    );
    const out = service.call("DescribeAlarms", { AlarmNames: ["inproc"] }) as {
      MetricAlarms: { StateValue: string }[];
    };
    assert.equal(out.MetricAlarms[0]?.StateValue, "ALARM");
  });
});

describe("startCloudWatchServer", () => {
  test("serves on a loopback ephemeral port, evaluates alarms on its timer, closes cleanly", async () => {
    const store = new MetricStore();
    const server = await startCloudWatchServer(store, { now: () => Date.now() }, { evaluateEveryMs: 20 });
    try {
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      server.service.putAlarm({
        AlarmName: "always",
        Namespace: "x",
        MetricName: "y",
        Statistic: "Sum",
        Period: 1,
        EvaluationPeriods: 1,
        Threshold: 0,
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
        TreatMissingData: "breaching",
      });
      // Wait on the state-change event, not on time.
      const changed = await new Promise<AlarmStateChange>((resolve) => {
        const off = server.service.onAlarmStateChange((c) => {
          off();
          resolve(c);
        });
      });
      assert.deepEqual([changed.alarmName, changed.to], ["always", "ALARM"]);
      const cw = new CloudWatchClient({
        region: "us-east-1",
        endpoint: server.url,
        credentials: { accessKeyId: "a", secretAccessKey: "b" },
        maxAttempts: 1,
      });
      const out = await cw.send(new DescribeAlarmsCommand({ StateValue: "ALARM" }));
      assert.deepEqual(
        out.MetricAlarms?.map((a) => a.AlarmName),
        ["always"],
      );
      cw.destroy();
    } finally {
      await server.close();
    }
  });
});
