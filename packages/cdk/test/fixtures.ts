/** A stack with the pieces every construct test needs: a config bucket, a function, a tiny layer zip. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, Stack } from "aws-cdk-lib";
import { Code, Function as LambdaFunction, Runtime } from "aws-cdk-lib/aws-lambda";
import { BlockPublicAccess, Bucket, BucketEncryption } from "aws-cdk-lib/aws-s3";

const dir = mkdtempSync(join(tmpdir(), "faultline-cdk-test-"));
/** An empty zip archive (just the end-of-central-directory record): enough for an asset. */
export const LAYER_ZIP = join(dir, "faultline-layer.zip");
writeFileSync(LAYER_ZIP, Buffer.from([0x50, 0x4b, 0x05, 0x06, ...new Array(18).fill(0)]));

export function testStack(): { app: App; stack: Stack; bucket: Bucket } {
  // CDK's built-in CloudFormation validation costs ~30 s per synth on a loaded machine; the orders example test
  // runs it once over a whole stack (examples/orders/test/cdk.test.ts).
  const app = new App({ outdir: mkdtempSync(join(dir, "out-")), builtinCloudFormationValidation: false });
  const stack = new Stack(app, "Test", { env: { account: "123456789012", region: "eu-west-1" } });
  const bucket = new Bucket(stack, "Config", {
    encryption: BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
  });
  return { app, stack, bucket };
}

export function testFunction(stack: Stack, id: string): LambdaFunction {
  return new LambdaFunction(stack, id, {
    runtime: Runtime.NODEJS_20_X,
    handler: "index.handler",
    code: Code.fromInline("exports.handler = async () => 'ok';"),
  });
}
