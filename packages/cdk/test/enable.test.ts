import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { Tags } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { Architecture } from "aws-cdk-lib/aws-lambda";
import { Faultline, FaultlineAspect, FaultlineLayer, FaultlinePropsError } from "../src/index.ts";
import { defaultLayerZip } from "../src/layer.ts";
import { LAYER_ZIP, testFunction, testStack } from "./fixtures.ts";

describe("FaultlineLayer", () => {
  it("is a layer version from the zip, for Node runtimes on both architectures", () => {
    const { stack } = testStack();
    new FaultlineLayer(stack, "Layer", { zipPath: LAYER_ZIP });
    Template.fromStack(stack).hasResourceProperties("AWS::Lambda::LayerVersion", {
      CompatibleRuntimes: ["nodejs18.x", "nodejs20.x", "nodejs22.x", "nodejs24.x"],
      CompatibleArchitectures: ["x86_64", "arm64"],
      Content: { S3Bucket: Match.anyValue(), S3Key: Match.stringLikeRegexp("\\.zip$") },
    });
  });

  it("a standalone layer also serves other wrapper runtimes, on this machine's architecture only", () => {
    const { stack } = testStack();
    new FaultlineLayer(stack, "Layer", { zipPath: LAYER_ZIP, standalone: true });
    const layer = Object.values(Template.fromStack(stack).findResources("AWS::Lambda::LayerVersion"))[0]!;
    assert.ok(layer.Properties.CompatibleRuntimes.includes("python3.12"));
    assert.deepEqual(layer.Properties.CompatibleArchitectures, [
      process.arch === "arm64" ? "arm64" : "x86_64",
    ]);
  });

  it("a missing zip fails synth naming zipPath and how to build one", () => {
    const { stack } = testStack();
    assert.throws(
      () => new FaultlineLayer(stack, "Layer", { zipPath: "/nonexistent/layer.zip" }),
      (e: unknown) =>
        e instanceof FaultlinePropsError && e.field === "zipPath" && /faultline layer build/.test(e.message),
    );
  });

  it("by default uses ./faultline-layer.zip, where `faultline layer build` writes, before the extension's", () => {
    const app = dirname(LAYER_ZIP);
    assert.equal(defaultLayerZip(app), LAYER_ZIP);
    assert.match(defaultLayerZip(join(app, "elsewhere")), /extension\/dist\/faultline-layer\.zip$/);
  });
});

describe("Faultline.enable", () => {
  it("adds the layer, the wrapper and location variables, the poll settings and the prefix-only read grant", () => {
    const { stack, bucket } = testStack();
    const layer = new FaultlineLayer(stack, "Layer", { zipPath: LAYER_ZIP });
    const fn = testFunction(stack, "Fn");
    Faultline.enable(fn, {
      configBucket: bucket,
      prefix: "FisConfigs",
      layer,
      slowPollSeconds: 30,
      hotPollSeconds: 2,
      pollMaxWaitMilliseconds: 500,
      metrics: true,
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties("AWS::Lambda::Function", {
      Layers: [{ Ref: Match.stringLikeRegexp("^Layer") }],
      Environment: {
        Variables: {
          AWS_LAMBDA_EXEC_WRAPPER: "/opt/faultline/bootstrap",
          AWS_FIS_CONFIGURATION_LOCATION: {
            "Fn::Join": ["", [{ "Fn::GetAtt": [Match.stringLikeRegexp("^Config"), "Arn"] }, "/FisConfigs/"]],
          },
          AWS_FIS_SLOW_POLL_INTERVAL_SECONDS: "30",
          FAULTLINE_HOT_POLL_INTERVAL_SECONDS: "2",
          AWS_FIS_POLL_MAX_WAIT_MILLISECONDS: "500",
          AWS_FIS_EXTENSION_METRICS: "all",
        },
      },
    });
    const statements = template.findResources("AWS::IAM::Policy");
    const doc = Object.values(statements)[0]!.Properties.PolicyDocument.Statement;
    assert.deepEqual(
      doc.map((s: { Sid: string }) => s.Sid),
      ["ListFaultObjects", "ReadFaultObjects"],
    );
    assert.equal(doc[0].Action, "s3:ListBucket");
    assert.deepEqual(doc[0].Condition, { StringLike: { "s3:prefix": ["FisConfigs/*"] } });
    assert.equal(doc[1].Action, "s3:GetObject");
    assert.match(JSON.stringify(doc[1].Resource), /FisConfigs\/\*/);
  });

  it("without a layer, one FaultlineLayer per stack is shared by every enabled function", () => {
    const { stack, bucket } = testStack();
    const a = testFunction(stack, "A");
    const b = testFunction(stack, "B");
    // The default zip is the checkout's build: point at the test zip through an explicit layer of the same id.
    new FaultlineLayer(stack, "FaultlineLayer", { zipPath: LAYER_ZIP });
    Faultline.enable(a, { configBucket: bucket });
    Faultline.enable(b, { configBucket: bucket });
    const template = Template.fromStack(stack);
    template.resourceCountIs("AWS::Lambda::LayerVersion", 1);
  });

  it("useAwsFisExtension: AWS's wrapper, and AWS's layer for the function's architecture from FIS's SSM parameter", () => {
    const { stack, bucket } = testStack();
    const fn = testFunction(stack, "Fn");
    Faultline.enable(fn, { configBucket: bucket, useAwsFisExtension: true });
    const template = Template.fromStack(stack);
    template.hasResourceProperties("AWS::Lambda::Function", {
      Environment: { Variables: Match.objectLike({ AWS_LAMBDA_EXEC_WRAPPER: "/opt/aws-fis/bootstrap" }) },
      Layers: [
        { Ref: Match.stringLikeRegexp("^SsmParameterValueawsservicefislambdaextensionAWSFISextensionx8664") },
      ],
    });
    template.hasParameter("*", {
      Type: "AWS::SSM::Parameter::Value<String>",
      Default: "/aws/service/fis/lambda-extension/AWS-FIS-extension-x86_64/1.x.x",
    });
    assert.equal(fn.architecture, Architecture.X86_64);
  });

  it("refuses faultline-only and malformed poll settings, naming the option", () => {
    const { stack, bucket } = testStack();
    const fn = testFunction(stack, "Fn");
    assert.throws(
      () => Faultline.enable(fn, { configBucket: bucket, useAwsFisExtension: true, hotPollSeconds: 5 }),
      /hotPollSeconds: is faultline's setting/,
    );
    assert.throws(
      () => Faultline.enable(fn, { configBucket: bucket, layer: undefined, slowPollSeconds: 2.5 }),
      /slowPollSeconds: must be a whole number of at least 1, got 2.5/,
    );
  });
});

describe("FaultlineAspect", () => {
  it("enables exactly the functions carrying the tag", () => {
    const { stack, bucket } = testStack();
    const layer = new FaultlineLayer(stack, "Layer", { zipPath: LAYER_ZIP });
    const tagged = testFunction(stack, "Tagged");
    testFunction(stack, "Untagged");
    Tags.of(tagged).add("FISExperimentReady", "Yes");
    FaultlineAspect.applyTo(stack, {
      tag: { key: "FISExperimentReady", value: "Yes" },
      configBucket: bucket,
      layer,
    });
    const functions = Template.fromStack(stack).findResources("AWS::Lambda::Function");
    const wrapper = (id: string) =>
      Object.entries(functions).find(([k]) => k.startsWith(id))?.[1].Properties.Environment?.Variables
        ?.AWS_LAMBDA_EXEC_WRAPPER;
    assert.equal(wrapper("Tagged"), "/opt/faultline/bootstrap");
    assert.equal(wrapper("Untagged"), undefined);
  });
});
