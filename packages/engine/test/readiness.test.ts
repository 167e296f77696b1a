/** Readiness by content: which extension a function runs, from its wrapper and what its layers contain. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { FunctionConfiguration } from "@aws-sdk/client-lambda";
import { FAULTLINE_VERSION } from "@faultline/protocol";
import {
  AWS_FIS_WRAPPER,
  compareVersions,
  DEFAULT_READINESS,
  type LayerFinding,
  resolveTarget,
} from "../src/index.ts";

const ACCOUNT = "arn:aws:lambda:us-east-1:123456789012";
const FIS_LAYER = "arn:aws:lambda:us-east-1:211125607513:layer:aws-fis-extension-x86_64:9";
const LOCATION = "arn:aws:s3:::faults/FisConfigs/";

/** A probe over fixed findings (a unit-test fake: the lab and moto tests read real layers). */
const probeOf = (findings: Record<string, LayerFinding>) => ({
  probed: [] as string[],
  async probe(arn: string): Promise<LayerFinding> {
    this.probed.push(arn);
    return findings[arn] ?? { kind: "unknown", reason: `no such layer ${arn}` };
  },
});

/** Resolves one ARN target whose GetFunction returns `config` (a fake Lambda client). */
async function resolveOne(config: FunctionConfiguration, probe?: ReturnType<typeof probeOf>) {
  const lambda = { send: async () => ({ Configuration: config }) };
  const [fn] = await resolveTarget(
    { resourceType: "aws:lambda:function", resourceArns: [config.FunctionArn!], selectionMode: "ALL" },
    {
      lambda: lambda as never,
      random: Math.random,
      readiness: DEFAULT_READINESS,
      concurrency: 1,
      log: () => {},
      ...(probe ? { versions: probe as never } : {}),
    },
  );
  return fn!;
}

const fn = (layers: string[], wrapper: string, name = "f"): FunctionConfiguration => ({
  FunctionName: name,
  FunctionArn: `${ACCOUNT}:function:${name}`,
  Layers: layers.map((Arn) => ({ Arn })),
  Environment: { Variables: { AWS_LAMBDA_EXEC_WRAPPER: wrapper, AWS_FIS_CONFIGURATION_LOCATION: LOCATION } },
});

describe("readiness by content", () => {
  test("a faultline layer published under any name (here `layer`) is ready: found by faultline/VERSION", async () => {
    const arn = `${ACCOUNT}:layer:layer:1`;
    const probe = probeOf({ [arn]: { kind: "version", version: FAULTLINE_VERSION } });
    const got = await resolveOne(fn([arn], "/opt/faultline/bootstrap"), probe);
    assert.deepEqual(got.readiness, { ready: true, problems: [] });
    assert.equal(got.extension, `faultline ${FAULTLINE_VERSION}`);
  });

  test("the faultline layer is found among other layers, whatever their order", async () => {
    const other = `${ACCOUNT}:layer:deps:3`;
    const ours = `${ACCOUNT}:layer:chaos-tools:2`;
    const probe = probeOf({
      [other]: { kind: "no-version-file" },
      [ours]: { kind: "version", version: FAULTLINE_VERSION },
    });
    const got = await resolveOne(fn([other, ours], "/opt/faultline/bootstrap"), probe);
    assert.equal(got.readiness.ready, true);
    assert.equal(got.extensionVersion, FAULTLINE_VERSION);
  });

  test("a layer *named* faultline without faultline/VERSION is not taken for it", async () => {
    const arn = `${ACCOUNT}:layer:faultline:1`;
    const got = await resolveOne(
      fn([arn], "/opt/faultline/bootstrap"),
      probeOf({ [arn]: { kind: "no-version-file" } }),
    );
    assert.equal(got.readiness.ready, false);
    assert.match(got.readiness.problems.join(), /none of its layers .* contains faultline\/VERSION/);
  });

  test("AWS's FIS extension layer (documented ARN pattern) with its wrapper is ready, and named", async () => {
    const probe = probeOf({});
    const got = await resolveOne(fn([FIS_LAYER], AWS_FIS_WRAPPER), probe);
    assert.deepEqual(got.readiness, { ready: true, problems: [] });
    assert.equal(got.extension, "aws-fis-extension-x86_64:9");
    assert.deepEqual(probe.probed, [], "AWS's layer is recognised by its ARN, not downloaded");
    const arm = await resolveOne(
      fn(["arn:aws:lambda:eu-west-2:637423427737:layer:aws-fis-extension-arm64:12"], AWS_FIS_WRAPPER),
    );
    assert.equal(arm.readiness.ready, true);
  });

  test("AWS FIS's wrapper without its layer, or its layer without a wrapper, is not ready, in words", async () => {
    const noLayer = await resolveOne(fn([], AWS_FIS_WRAPPER));
    assert.match(noLayer.readiness.problems.join(), /no AWS FIS extension layer/);
    const impostor = await resolveOne(fn([`${ACCOUNT}:layer:aws-fis-extension-x86_64:1`], "/opt/other"));
    assert.equal(impostor.readiness.ready, false);
    assert.match(impostor.readiness.problems.join(), /AWS_LAMBDA_EXEC_WRAPPER=\/opt\/other/);
  });

  test("a layer that cannot be read is reported as unknown, not guessed", async () => {
    const arn = `${ACCOUNT}:layer:shared:4`;
    const got = await resolveOne(fn([arn], "/opt/faultline/bootstrap"), probeOf({}));
    assert.equal(got.readiness.ready, true);
    assert.match(got.extensionVersion ?? "", /^unknown \(no such layer/);
  });
});

describe("extension versions", () => {
  test("semver precedence: rc.2 < rc.10 < release; build metadata ignored; non-semver sorts first", () => {
    assert.equal(compareVersions("1.0.0-rc.2", "1.0.0-rc.10"), -1);
    assert.equal(compareVersions("1.0.0-rc.10", "1.0.0-rc.2"), 1);
    assert.equal(compareVersions("1.0.0-rc.10", "1.0.0"), -1);
    assert.equal(compareVersions("1.0.0-alpha", "1.0.0-alpha.1"), -1);
    assert.equal(compareVersions("1.0.0+build.5", "1.0.0"), 0);
    assert.equal(compareVersions("0.10.0", "0.9.0"), 1);
    assert.equal(compareVersions("garbage", "0.0.1"), -1);
  });
});
