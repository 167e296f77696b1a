/**
 * A lab running the BUILT LAYER ZIP unmodified on Node functions (official aws-lambda-ric behind the exec
 * wrapper), with fault objects written by @aws-sdk/client-s3 and invocations made by @aws-sdk/client-lambda:
 * the shared setup of the extension's lab acceptance suites (external proxy and in-process mode).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  InvokeCommand,
  type InvokeCommandOutput,
  InvokeWithResponseStreamCommand,
  LambdaClient,
} from "@aws-sdk/client-lambda";
import { DeleteObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { serializeFaultConfig } from "@faultline/protocol";
import { type Lab, type StartLabOptions, startLab } from "../../../lab/src/index.ts";
import type { BuildLayerOptions } from "../../src/layer.ts";
import { faultConfig } from "./faults.ts";
import { FIXTURE_DIR } from "./harness.ts";
import { testLayer } from "./layer.ts";
import { CREDENTIALS } from "./s3.ts";

export interface FaultLabFunction {
  name: string;
  handler?: string;
  /** Added to (and overriding) the suite's environment. */
  env?: Record<string, string>;
  timeout?: number;
  /** Default nodejs20.x with the Node fixture; an OS-only runtime needs its own `code` (a bootstrap). */
  runtime?: "nodejs20.x" | "provided.al2023" | "provided.al2";
  code?: string;
}

export interface FaultLabOptions {
  functions: FaultLabFunction[];
  /** Added to every function's environment, after the faultline defaults. */
  env?: Record<string, string>;
  labOptions?: StartLabOptions;
  /** Build the layer with node inside (`faultline layer build --standalone`). */
  standalone?: BuildLayerOptions["standalone"];
}

export interface FaultLab {
  readonly lab: Lab;
  readonly lambda: LambdaClient;
  readonly s3: S3Client;
  invoke(fn: string, payload: unknown): Promise<InvokeCommandOutput>;
  /** Writes one fault object for `fn` under the configuration location, active from a second ago for 10 min. */
  putFault(fn: string, shape: Parameters<typeof faultConfig>[0]): Promise<unknown>;
  deleteFault(fn: string, actionName?: string): Promise<unknown>;
  /**
   * Invokes until `done` holds, for at most 5 s: the extension picks a new object up on the first
   * invocation after its 1 s poll interval (holding that invocation for the poll), so no sleep is needed.
   */
  invokeUntil(
    fn: string,
    payload: () => unknown,
    done: (out: InvokeCommandOutput, ms: number) => boolean,
  ): Promise<InvokeCommandOutput>;
  /** A URL a handler calls to report a side effect (environments get a private /tmp, so over HTTP). */
  sideEffect(): string;
  happened(url: string): boolean;
  /** When the side effect at `url` happened (performance.now()), if it did. */
  happenedAt(url: string): number | undefined;
  stream(fn: string, n: number): Promise<{ text: string; errorCode: string | undefined }>;
  stop(): Promise<void>;
}

/**
 * Waits until `fn`'s invocation-error fault is live, then invokes once with a side-effect probe: FunctionError
 * "Unhandled", and the handler ran exactly when the fault lets it (preventExecution "false").
 */
export async function assertInvocationError(
  t: FaultLab,
  fn: string,
  handlerRan: boolean,
): Promise<InvokeCommandOutput> {
  await t.invokeUntil(
    fn,
    () => ({}),
    (o) => o.FunctionError !== undefined,
  );
  const probe = t.sideEffect();
  const out = await t.invoke(fn, { sideEffect: probe });
  assert.equal(out.FunctionError, "Unhandled");
  assert.equal(
    t.happened(probe),
    handlerRan,
    handlerRan ? "the handler ran" : "the handler must not have run",
  );
  return out;
}

/** Waits until `fn`'s add-delay of `ms` is live, then times one invocation: the caller waits at least `ms`. */
export async function assertDelayed(
  t: FaultLab,
  fn: string,
  ms: number,
  payload: unknown,
): Promise<InvokeCommandOutput> {
  await t.invokeUntil(
    fn,
    () => ({}),
    (_, took) => took >= ms,
  );
  const started = performance.now();
  const out = await t.invoke(fn, payload);
  const took = performance.now() - started;
  assert.ok(took >= ms, `took ${took} ms`);
  return out;
}

export async function startFaultLab(o: FaultLabOptions): Promise<FaultLab> {
  const dir = mkdtempSync(join(tmpdir(), "faultline-lab-"));
  const effects = new Map<string, number>();
  const probe = http.createServer((req, res) => {
    effects.set(req.url ?? "", performance.now());
    res.end();
  });
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const lab = await startLabWithLayer(dir, o).catch((error) => {
    probe.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  });
  const lambda = new LambdaClient({
    endpoint: lab.endpoints.lambda,
    region: "us-east-1",
    credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "secret" },
    maxAttempts: 1,
  });
  const s3 = new S3Client({
    endpoint: lab.endpoints.s3,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: CREDENTIALS,
    requestChecksumCalculation: "WHEN_REQUIRED",
  });
  let n = 0;

  const invoke = (FunctionName: string, payload: unknown) =>
    lambda.send(new InvokeCommand({ FunctionName, Payload: JSON.stringify(payload) }));
  return {
    lab,
    lambda,
    s3,
    invoke,
    putFault: (fn, shape) =>
      s3.send(
        new PutObjectCommand({
          Bucket: "faults",
          Key: `fis/${fn}/EXP1/${shape.actionName ?? "act"}.json`,
          Body: serializeFaultConfig(faultConfig(shape, Date.now() - 1000, 600_000)),
        }),
      ),
    deleteFault: (fn, actionName = "act") =>
      s3.send(new DeleteObjectCommand({ Bucket: "faults", Key: `fis/${fn}/EXP1/${actionName}.json` })),
    async invokeUntil(fn, payload, done) {
      const deadline = performance.now() + 5000;
      while (performance.now() < deadline) {
        const started = performance.now();
        const out = await invoke(fn, payload());
        if (done(out, performance.now() - started)) return out;
      }
      assert.fail(`${fn}: the fault never applied`);
    },
    sideEffect: () => `http://127.0.0.1:${(probe.address() as AddressInfo).port}/effect-${++n}`,
    happened: (url) => effects.has(new URL(url).pathname),
    happenedAt: (url) => effects.get(new URL(url).pathname),
    async stream(fn, n) {
      const out = await lambda.send(
        new InvokeWithResponseStreamCommand({ FunctionName: fn, Payload: JSON.stringify({ n }) }),
      );
      let text = "";
      let errorCode: string | undefined;
      for await (const event of out.EventStream ?? []) {
        if (event.PayloadChunk?.Payload) text += Buffer.from(event.PayloadChunk.Payload).toString();
        if (event.InvokeComplete?.ErrorCode) errorCode = event.InvokeComplete.ErrorCode;
      }
      return { text, errorCode };
    },
    async stop() {
      lambda.destroy();
      s3.destroy();
      await lab.stop();
      rmSync(dir, { recursive: true, force: true });
      probe.close();
    },
  };
}

async function startLabWithLayer(dir: string, o: FaultLabOptions): Promise<Lab> {
  const layer = await testLayer(join(dir, "faultline-layer.zip"), { standalone: o.standalone });
  return startLab(
    {
      buckets: ["faults"],
      functions: o.functions.map((f) => ({
        name: f.name,
        runtime: f.runtime ?? ("nodejs20.x" as const),
        handler: f.handler ?? "index.handler",
        code: f.code ?? FIXTURE_DIR,
        layers: [layer.zipPath],
        timeout: f.timeout ?? 10,
        environment: {
          AWS_LAMBDA_EXEC_WRAPPER: "/opt/faultline/bootstrap",
          AWS_FIS_CONFIGURATION_LOCATION: "arn:aws:s3:::faults/fis/",
          AWS_FIS_SLOW_POLL_INTERVAL_SECONDS: "1",
          FAULTLINE_HOT_POLL_INTERVAL_SECONDS: "1",
          ...o.env,
          ...f.env,
        },
      })),
    },
    o.labOptions,
  );
}
