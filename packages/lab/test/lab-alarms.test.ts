import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { LabConfigError, parseLabConfig } from "../src/index.ts";

const dir = mkdtempSync(join(tmpdir(), "faultline-lab-alarms-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const source = { file: "lab.json", baseDir: dir };

const alarm = {
  name: "orders-errors",
  namespace: "AWS/Lambda",
  metricName: "Errors",
  dimensions: { FunctionName: "orders" },
  statistic: "Sum",
  period: 60,
  evaluationPeriods: 1,
  threshold: 1,
  comparisonOperator: "GreaterThanOrEqualToThreshold",
};
const widgets = { widgets: [{ type: "text", properties: { markdown: "hi" } }] };

function fails(extra: Record<string, unknown>, field: string, fragment: RegExp) {
  assert.throws(
    () => parseLabConfig({ functions: [], ...extra }, source),
    (e: unknown) =>
      e instanceof LabConfigError && e.issues.some((i) => i.field === field && fragment.test(i.message)),
  );
}

describe("lab config: alarms and dashboards", () => {
  test("alarms become PutMetricAlarm definitions; dashboards come from body or file", () => {
    writeFileSync(join(dir, "dash.json"), JSON.stringify(widgets));
    const cfg = parseLabConfig(
      {
        functions: [],
        alarms: [
          alarm,
          { ...alarm, name: "p99", metricName: "Duration", statistic: "p99", treatMissingData: "ignore" },
        ],
        dashboards: [
          { name: "inline", body: widgets },
          { name: "from-file", file: "dash.json" },
        ],
      },
      source,
    );
    assert.deepEqual(cfg.alarms?.[0], {
      AlarmName: "orders-errors",
      Namespace: "AWS/Lambda",
      MetricName: "Errors",
      Dimensions: [{ Name: "FunctionName", Value: "orders" }],
      Statistic: "Sum",
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
    });
    assert.equal(cfg.alarms?.[1]?.ExtendedStatistic, "p99");
    assert.equal(cfg.alarms?.[1]?.TreatMissingData, "ignore");
    assert.deepEqual(
      cfg.dashboards?.map((d) => [d.name, JSON.parse(d.body)]),
      [
        ["inline", widgets],
        ["from-file", widgets],
      ],
    );
    const none = parseLabConfig({ functions: [] }, source);
    assert.deepEqual([none.alarms, none.dashboards], [[], []]);
  });

  test("bad alarms and dashboards name the field", () => {
    fails({ alarms: [{ ...alarm, statistic: "Median" }] }, "alarms[0].statistic", /percentile/);
    fails(
      { alarms: [{ ...alarm, comparisonOperator: ">" }] },
      "alarms[0].comparisonOperator",
      /must be one of/,
    );
    fails({ alarms: [{ ...alarm, period: 0 }] }, "alarms[0].period", /between 1 and 86400/);
    fails({ alarms: [{ ...alarm, threshold: "1" }] }, "alarms[0].threshold", /must be a number/);
    fails({ alarms: [alarm, alarm] }, "alarms[1].name", /duplicate alarm name/);
    fails({ alarms: [{ ...alarm, colour: 1 }] }, "alarms[0]", /colour/);
    fails({ dashboards: [{ name: "d" }] }, "dashboards[0]", /exactly one of body and file/);
    fails({ dashboards: [{ name: "d", body: { rows: [] } }] }, "dashboards[0].body", /widgets array/);
    fails({ dashboards: [{ name: "d", file: "missing.json" }] }, "dashboards[0].file", /cannot read/);
    fails({ dashboards: [{ name: "no spaces", body: widgets }] }, "dashboards[0].name", /letters, digits/);
  });
});
