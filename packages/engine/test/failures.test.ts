/**
 * Failed experiments carry `state.error` {code, location} as FIS does (codes from the FIS troubleshooting
 * guide), reasons fit the model's 512 characters, and faultline: actions are refused at target resolution when a
 * target runs AWS's FIS extension. The end-to-end cases (moto) are in experiments.test.ts, sharing its moto_server.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { faultlineActionOnAwsExtension } from "../src/extension-support.ts";
import { awsFailure, experimentState, fitReason } from "../src/failures.ts";
import type { ResolvedFunction } from "../src/index.ts";
import { seedTemplate } from "./seed.ts";

const fn = (name: string, expects?: "faultline" | "aws-fis"): ResolvedFunction => ({
  arn: `arn:aws:lambda:us-east-1:123456789012:function:${name}`,
  name,
  readiness: { ready: true, problems: [] },
  ...(expects ? { expects } : {}),
});
const slow = {
  actionId: "faultline:lambda:response-delay",
  parameters: { duration: "PT1M", delayMilliseconds: "300" },
  targets: { Functions: "fns" },
};

describe("faultline: actions on AWS's FIS extension (pure)", () => {
  test("refused, naming the action, the functions and what to do", () => {
    const found = faultlineActionOnAwsExtension(
      { lat: seedTemplate().actions.lat, slow },
      new Map([["fns", [fn("orders", "faultline"), fn("legacy", "aws-fis")]]]),
    );
    assert.deepEqual(found?.error, { code: "ConfigurationFailure", location: "actions.slow" });
    assert.match(
      found!.reason,
      /^Action slow \(faultline:lambda:response-delay\) needs faultline's extension, but legacy in target fns runs AWS's FIS extension/,
    );
  });
  test("a function with AWS's layer and no known wrapper counts as AWS's", () => {
    const layered = {
      ...fn("legacy"),
      layerArns: ["arn:aws:lambda:us-east-1:211125607513:layer:aws-fis-extension-x86_64:9"],
    };
    assert.ok(faultlineActionOnAwsExtension({ slow }, new Map([["fns", [layered]]])));
  });
  test("aws: actions on AWS's extension and faultline: actions on faultline's pass", () => {
    const lat = seedTemplate().actions.lat;
    assert.equal(
      faultlineActionOnAwsExtension({ lat }, new Map([["fns", [fn("legacy", "aws-fis")]]])),
      undefined,
    );
    assert.equal(
      faultlineActionOnAwsExtension({ slow }, new Map([["fns", [fn("orders", "faultline")]]])),
      undefined,
    );
  });
});

describe("failure reasons and codes (pure)", () => {
  test("reasons are cut to the model's 512 characters", () => {
    assert.equal(fitReason("x".repeat(600)).length, 512);
    assert.equal(fitReason("short"), "short");
    assert.equal(experimentState("failed", "y".repeat(1000)).reason.length, 512);
  });
  test("a failed state always has an error; others never", () => {
    assert.deepEqual(experimentState("failed", "r").error, { code: "InternalFailure" });
    assert.equal(experimentState("stopped", "r", { code: "InternalFailure" }).error, undefined);
  });
  test("AWS errors map to FIS's codes", () => {
    const err = (name: string, status: number) =>
      Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
    assert.deepEqual(awsFailure(err("AccessDeniedException", 403), "targets.fns"), {
      code: "AuthorizationFailure",
      location: "targets.fns",
    });
    assert.equal(awsFailure(err("ResourceNotFoundException", 404), "targets.fns").code, "InvalidTarget");
    assert.equal(awsFailure(new Error("alarm not found: x"), "stopConditions").code, "ConfigurationFailure");
    assert.equal(awsFailure(err("ServiceException", 500), "actions.lat").code, "DependentServiceFailure");
  });
});
