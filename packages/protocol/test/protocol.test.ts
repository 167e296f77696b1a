import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  FaultConfigError,
  faultActionFromFisParameters,
  faultObjectKey,
  parseConfigurationLocation,
  parseFaultConfig,
  serializeFaultConfig,
} from "../src/index.ts";

const base = {
  version: 1 as const,
  experimentId: "EXP123",
  actionName: "lat",
  startTime: "2026-01-01T00:00:00.000Z",
  endTime: "2026-01-01T00:05:00.000Z",
};

describe("configuration location", () => {
  it("accepts the ARN form and the s3:// form", () => {
    assert.deepEqual(parseConfigurationLocation("arn:aws:s3:::my-bucket/FisConfigs/"), {
      bucket: "my-bucket",
      prefix: "FisConfigs/",
    });
    assert.deepEqual(parseConfigurationLocation("s3://my-bucket/a/b"), {
      bucket: "my-bucket",
      prefix: "a/b/",
    });
    assert.deepEqual(parseConfigurationLocation("arn:aws:s3:::my-bucket/FisConfigs/*"), {
      bucket: "my-bucket",
      prefix: "FisConfigs/",
    });
    assert.deepEqual(parseConfigurationLocation("s3://my-bucket"), { bucket: "my-bucket", prefix: "" });
  });
  it("rejects anything else with a message naming the value", () => {
    assert.throws(() => parseConfigurationLocation("my-bucket/x"), /"my-bucket\/x" is not an S3 location/);
    assert.throws(() => parseConfigurationLocation("s3://UPPER/x"), /not a valid S3 bucket name/);
  });
  it("lays out keys per function, experiment and action", () => {
    const loc = parseConfigurationLocation("s3://b-1/p/");
    assert.equal(faultObjectKey(loc, "fn", "EXP1", "lat"), "p/fn/EXP1/lat.json");
  });
});

describe("fault config", () => {
  it("round-trips each action", () => {
    const delay = {
      ...base,
      actionId: "aws:lambda:invocation-add-delay" as const,
      parameters: { startupDelayMilliseconds: 2000, invocationPercentage: 100 },
    };
    const parsed = parseFaultConfig(serializeFaultConfig(delay));
    assert.equal(parsed.startMs, Date.parse(base.startTime));
    assert.equal(parsed.actionId, "aws:lambda:invocation-add-delay");
    if (parsed.actionId === "aws:lambda:invocation-add-delay") {
      assert.equal(parsed.parameters.startupDelayMilliseconds, 2000);
    }
    const http = parseFaultConfig(
      JSON.stringify({
        ...base,
        qualifier: "live",
        actionId: "aws:lambda:invocation-http-integration-response",
        parameters: {
          statusCode: 503,
          contentTypeHeader: "text/plain",
          preventExecution: true,
          invocationPercentage: 5,
        },
      }),
    );
    assert.equal(http.qualifier, "live");
  });
  it("names the bad field", () => {
    const cases: [unknown, RegExp][] = [
      [{ ...base, version: 2 }, /version: unsupported version 2/],
      [{ ...base, actionId: "aws:ec2:stop", parameters: {} }, /actionId:/],
      [
        { ...base, actionId: "aws:lambda:invocation-error", parameters: { invocationPercentage: 100 } },
        /parameters.preventExecution/,
      ],
      [
        {
          ...base,
          actionId: "aws:lambda:invocation-add-delay",
          parameters: { startupDelayMilliseconds: 900001, invocationPercentage: 100 },
        },
        /parameters.startupDelayMilliseconds/,
      ],
      [
        {
          ...base,
          endTime: base.startTime,
          actionId: "aws:lambda:invocation-error",
          parameters: { preventExecution: true, invocationPercentage: 100 },
        },
        /endTime: must be after startTime/,
      ],
      [
        {
          ...base,
          startTime: "yesterday",
          actionId: "aws:lambda:invocation-error",
          parameters: { preventExecution: true, invocationPercentage: 100 },
        },
        /startTime:/,
      ],
    ];
    for (const [doc, pattern] of cases) {
      assert.throws(() => parseFaultConfig(JSON.stringify(doc)), pattern);
    }
    assert.throws(() => parseFaultConfig("{nope"), FaultConfigError);
  });
});

describe("FIS wire parameters", () => {
  it("applies FIS defaults", () => {
    assert.deepEqual(faultActionFromFisParameters("aws:lambda:invocation-add-delay", { duration: "PT1M" }), {
      actionId: "aws:lambda:invocation-add-delay",
      parameters: { startupDelayMilliseconds: 1000, invocationPercentage: 100 },
    });
  });
  it("rejects out-of-range, non-numeric, unknown and missing parameters by name", () => {
    assert.throws(
      () => faultActionFromFisParameters("aws:lambda:invocation-add-delay", { invocationPercentage: "0" }),
      /parameters.invocationPercentage: must be from 1 to 100/,
    );
    assert.throws(
      () =>
        faultActionFromFisParameters("aws:lambda:invocation-add-delay", { startupDelayMilliseconds: "1.5" }),
      /parameters.startupDelayMilliseconds: must be a whole number/,
    );
    assert.throws(
      () => faultActionFromFisParameters("aws:lambda:invocation-error", { preventExecution: "yes" }),
      /parameters.preventExecution: must be "true" or "false"/,
    );
    assert.throws(
      () =>
        faultActionFromFisParameters("aws:lambda:invocation-error", {
          statusCode: "500",
          preventExecution: "true",
        }),
      /parameters.statusCode: is not a parameter of aws:lambda:invocation-error/,
    );
    assert.throws(
      () =>
        faultActionFromFisParameters("aws:lambda:invocation-http-integration-response", {
          statusCode: "500",
          preventExecution: "true",
        }),
      /parameters.contentTypeHeader: is required/,
    );
  });
});
