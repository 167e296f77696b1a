import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { CloudWatchClient, PutMetricAlarmCommand, SetAlarmStateCommand } from "@aws-sdk/client-cloudwatch";
import { CreateFunctionCommand, LambdaClient, PublishLayerVersionCommand } from "@aws-sdk/client-lambda";
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { motoServer } from "../../testing/src/index.ts";

/** A minimal zip holding index.js; moto stores code but never runs it. */
const ZIP = Buffer.from(
  "UEsDBBQAAAAAABZ8el2lBlDiGwAAABsAAAAIAAAAaW5kZXguanNleHBvcnRzLmhhbmRsZXI9YXN5bmMoKT0+MTtQSwECFAMUAAAAAAAWfHpdpQZQ4hsAAAAbAAAACAAAAAAAAAAAAAAAgAEAAAAAaW5kZXguanNQSwUGAAAAAAEAAQA2AAAAQQAAAAAA",
  "base64",
);

export const credentials = { accessKeyId: "testing", secretAccessKey: "testing" };

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

/** moto_server (preinstalled) as the Lambda control plane, S3 and CloudWatch, on a loopback port. */
export class Moto {
  private constructor(
    private readonly child: ChildProcess | undefined,
    readonly endpoint: string,
  ) {}

  /** A handle on a moto_server someone else started (no process of ours). */
  static attach(endpoint: string): Moto {
    return new Moto(undefined, endpoint);
  }

  static async start(): Promise<Moto> {
    const port = await freePort();
    const child = spawn(motoServer.require(), ["-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
    const endpoint = `http://127.0.0.1:${port}`;
    const exited = new Promise<never>((_, reject) =>
      child.once("exit", (code) => reject(new Error(`moto_server exited with ${code}`))),
    );
    // Wait for the server to answer, not for a fixed time.
    const ready = (async () => {
      for (;;) {
        try {
          const res = await fetch(`${endpoint}/moto-api/`);
          if (res.status < 500) return;
        } catch {}
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    await Promise.race([ready, exited]);
    const moto = new Moto(child, endpoint);
    await moto.resetIam();
    return moto;
  }

  lambda = () =>
    new LambdaClient({ region: "us-east-1", endpoint: this.endpoint, credentials, maxAttempts: 1 });
  s3 = () =>
    new S3Client({
      region: "us-east-1",
      endpoint: this.endpoint,
      credentials,
      forcePathStyle: true,
      maxAttempts: 1,
    });
  cloudwatch = () =>
    new CloudWatchClient({ region: "us-east-1", endpoint: this.endpoint, credentials, maxAttempts: 1 });

  private async resetIam(): Promise<void> {
    const body = new URLSearchParams({
      Action: "CreateRole",
      Version: "2010-05-08",
      RoleName: "lambda",
      AssumeRolePolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" },
        ],
      }),
    });
    // moto ignores signatures; a plain form POST is enough to create the role CreateFunction checks.
    const res = await fetch(`${this.endpoint}/`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization:
          "AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=x",
      },
      body,
    });
    if (res.status !== 200) throw new Error(`CreateRole: ${res.status} ${await res.text()}`);
  }

  /**
   * A metric alarm on Errors, put in `state` by hand (moto never evaluates alarms); returns its ARN and a setter
   * for later states.
   */
  async alarm(name: string, state: "OK" | "ALARM") {
    const cw = this.cloudwatch();
    await cw.send(
      new PutMetricAlarmCommand({
        AlarmName: name,
        Namespace: "AWS/Lambda",
        MetricName: "Errors",
        Statistic: "Sum",
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
      }),
    );
    const set = (StateValue: "OK" | "ALARM") =>
      cw.send(new SetAlarmStateCommand({ AlarmName: name, StateValue, StateReason: "test" }));
    await set(state);
    return { arn: `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${name}`, set };
  }

  async bucket(name: string): Promise<void> {
    await this.s3().send(new CreateBucketCommand({ Bucket: name }));
  }

  async layer(): Promise<string> {
    const out = await this.lambda().send(
      new PublishLayerVersionCommand({ LayerName: "faultline", Content: { ZipFile: ZIP } }),
    );
    return out.LayerVersionArn!;
  }

  /** Declares a function; `ready` attaches the layer, the wrapper and the configuration location. */
  async fn(
    name: string,
    opts: {
      tags?: Record<string, string>;
      layer?: string;
      env?: Record<string, string>;
      runtime?: string;
    } = {},
  ): Promise<string> {
    const out = await this.lambda().send(
      new CreateFunctionCommand({
        FunctionName: name,
        Runtime: (opts.runtime ?? "nodejs20.x") as "nodejs20.x",
        Role: "arn:aws:iam::123456789012:role/lambda",
        Handler: "index.handler",
        Code: { ZipFile: ZIP },
        Tags: opts.tags,
        Layers: opts.layer ? [opts.layer] : undefined,
        Environment: opts.env ? { Variables: opts.env } : undefined,
      }),
    );
    return out.FunctionArn!;
  }

  /** The bucket's keys but the engine's change markers (`<prefix>.faultline/markers/<function>`). */
  async keys(bucket: string): Promise<string[]> {
    const out = await this.s3().send(new ListObjectsV2Command({ Bucket: bucket }));
    return (out.Contents ?? [])
      .map((o) => o.Key!)
      .filter((k) => !/(^|\/)\.faultline\/markers\//.test(k))
      .sort();
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const gone = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await gone;
  }
}

export const readyEnv = (bucket: string, prefix = "FisConfigs/") => ({
  AWS_FIS_CONFIGURATION_LOCATION: `arn:aws:s3:::${bucket}/${prefix}`,
  AWS_LAMBDA_EXEC_WRAPPER: "/opt/faultline/bootstrap",
});
