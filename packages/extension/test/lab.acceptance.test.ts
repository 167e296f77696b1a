/**
 * Acceptance under the lab: real environments (official aws-lambda-ric behind the exec wrapper), the BUILT
 * LAYER ZIP unmodified as the function's layer, s3rver, fault objects written with @aws-sdk/client-s3 and
 * every invocation made with @aws-sdk/client-lambda.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { InvokeCommand, InvokeWithResponseStreamCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { serializeFaultConfig } from "@faultline/protocol";
import { type Lab, startLab } from "../../lab/src/index.ts";
import { buildLayer } from "../src/layer.ts";
import { delay, error, faultConfig, integration } from "./helpers/faults.ts";
import { FIXTURE_DIR } from "./helpers/harness.ts";
import { CREDENTIALS } from "./helpers/s3.ts";

describe("extension acceptance under the lab (built layer zip, client-lambda)", () => {
  const dir = mkdtempSync(join(tmpdir(), "faultline-accept-"));
  // Environments get a private /tmp, which may hide the checkout: handlers report side effects over HTTP.
  const effects = new Set<string>();
  const probe = http.createServer((req, res) => {
    effects.add(req.url ?? "");
    res.end();
  });
  let lab: Lab;
  let lambda: LambdaClient;
  let s3: S3Client;
  let n = 0;

  before(async () => {
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const layer = await buildLayer({ out: join(dir, "faultline-layer.zip") });
    const fn = (
      name: string,
      handler = "index.handler",
      extra: { timeout?: number; env?: Record<string, string> } = {},
    ) => ({
      name,
      runtime: "nodejs20.x" as const,
      handler,
      code: FIXTURE_DIR,
      layers: [layer.zipPath],
      timeout: extra.timeout ?? 10,
      environment: {
        ...extra.env,
        AWS_LAMBDA_EXEC_WRAPPER: "/opt/faultline/bootstrap",
        // The proxy, which every non-Node runtime uses (Node's in-process mode: lab.in-process.acceptance).
        FAULTLINE_MODE: "external",
        AWS_FIS_CONFIGURATION_LOCATION: "arn:aws:s3:::faults/fis/",
        AWS_FIS_SLOW_POLL_INTERVAL_SECONDS: "1",
        FAULTLINE_HOT_POLL_INTERVAL_SECONDS: "1",
      },
    });
    lab = await startLab({
      buckets: ["faults"],
      functions: [
        fn("delayed", "index.handler", { env: { AWS_FIS_EXTENSION_METRICS: "all" } }),
        fn("timing-out", "index.handler", { timeout: 1 }),
        fn("failing"),
        fn("failing-late"),
        fn("http"),
        fn("sampled"),
        fn("crashing"),
        fn("malformed"),
        fn("streaming", "index.stream"),
      ],
    });
    lambda = new LambdaClient({
      endpoint: lab.endpoints.lambda,
      region: "us-east-1",
      credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "secret" },
      maxAttempts: 1,
    });
    s3 = new S3Client({
      endpoint: lab.endpoints.s3,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: CREDENTIALS,
      requestChecksumCalculation: "WHEN_REQUIRED",
    });
  });
  after(async () => {
    lambda?.destroy();
    s3?.destroy();
    await lab?.stop();
    rmSync(dir, { recursive: true, force: true });
    probe.close();
  });

  const invoke = (FunctionName: string, payload: unknown) =>
    lambda.send(new InvokeCommand({ FunctionName, Payload: JSON.stringify(payload) }));
  const putFault = (fn: string, shape: Parameters<typeof faultConfig>[0]) =>
    s3.send(
      new PutObjectCommand({
        Bucket: "faults",
        Key: `fis/${fn}/EXP1/${shape.actionName ?? "act"}.json`,
        Body: serializeFaultConfig(faultConfig(shape, Date.now() - 1000, 600_000)),
      }),
    );
  /**
   * Invokes until `done` holds, for at most 5 s: the extension picks a new object up on the first
   * invocation after its 1 s poll interval (holding that invocation for the poll), so no sleep is needed.
   */
  async function invokeUntil(
    fn: string,
    payload: () => unknown,
    done: (out: Awaited<ReturnType<typeof invoke>>, ms: number) => boolean,
  ) {
    const deadline = performance.now() + 5000;
    while (performance.now() < deadline) {
      const started = performance.now();
      const out = await invoke(fn, payload());
      if (done(out, performance.now() - started)) return out;
    }
    assert.fail(`${fn}: the fault never applied`);
  }
  const sideEffect = () => `http://127.0.0.1:${(probe.address() as AddressInfo).port}/effect-${++n}`;
  const happened = (url: string) => effects.has(new URL(url).pathname);

  it("passes through without faults, and the extension announces itself in the function's logs", async () => {
    const out = await invoke("delayed", { n: 1 });
    assert.equal(out.FunctionError, undefined);
    assert.deepEqual(JSON.parse(Buffer.from(out.Payload ?? []).toString()), { ok: true, n: 1 });
    assert.ok(
      lab.logs
        .events("delayed")
        .some((e) => e.message.includes("FAULTLINE EXTENSION - extension enabled 0.1.0")),
    );
  });

  it("add-delay is observed by the caller", async () => {
    await putFault("delayed", { ...delay(700), actionName: "lat" });
    await invokeUntil(
      "delayed",
      () => ({}),
      (_, ms) => ms >= 700,
    );
    const started = performance.now();
    const out = await invoke("delayed", { n: 2 });
    const took = performance.now() - started;
    assert.equal(out.FunctionError, undefined);
    assert.ok(took >= 700, `took ${took} ms`);
    assert.ok(
      lab.logs.events("delayed").some((e) => e.message.includes("adding 700 milliseconds of latency")),
    );
    const emf = lab.logs
      .events("delayed")
      .filter((e) => e.message.includes('"FaultInjected"'))
      .map((e) => JSON.parse(e.message));
    assert.ok(emf.length > 0, "an EMF FaultInjected line");
    assert.equal(emf[0]._aws.CloudWatchMetrics[0].Namespace, "aws-fis-extension");
    assert.equal(emf[0].FaultId, "aws:lambda:invocation-add-delay");
    assert.equal(emf[0].Invocation, "delayed");
  });

  it("a delay longer than the function's timeout is a real timeout", async () => {
    await putFault("timing-out", { ...delay(1500), actionName: "lat" });
    const out = await invokeUntil(
      "timing-out",
      () => ({}),
      (o) => o.FunctionError !== undefined,
    );
    assert.equal(out.FunctionError, "Unhandled");
    assert.match(Buffer.from(out.Payload ?? []).toString(), /timed out/i);
  });

  it("invocationPercentage 30: 1000 invocations land within statistical bounds", async () => {
    await putFault("sampled", { ...error(true, 30), actionName: "err" });
    await invokeUntil(
      "sampled",
      () => ({}),
      (o) => o.FunctionError !== undefined,
    );
    let errors = 0;
    for (let i = 0; i < 1000; i++)
      if ((await invoke("sampled", { n: i })).FunctionError !== undefined) errors++;
    // mean 300, standard deviation 14.5: ±4 sd.
    assert.ok(errors > 242 && errors < 358, `errors ${errors}`);
  });

  it("invocation-error with preventExecution: FunctionError, and the handler provably did not run", async () => {
    await putFault("failing", { ...error(true), actionName: "err" });
    const effect = sideEffect();
    const out = await invokeUntil(
      "failing",
      () => ({ sideEffect: effect }),
      (o) => o.FunctionError !== undefined,
    );
    assert.equal(out.FunctionError, "Unhandled");
    assert.equal(JSON.parse(Buffer.from(out.Payload ?? []).toString()).errorType, "FaultInjectionError");
    const probe = sideEffect();
    const again = await invoke("failing", { sideEffect: probe });
    assert.equal(again.FunctionError, "Unhandled");
    assert.equal(happened(probe), false, "the handler must not have run");
  });

  it("invocation-error without preventExecution: FunctionError after the handler ran", async () => {
    await putFault("failing-late", { ...error(false), actionName: "err" });
    await invokeUntil(
      "failing-late",
      () => ({}),
      (o) => o.FunctionError !== undefined,
    );
    const probe = sideEffect();
    const out = await invoke("failing-late", { sideEffect: probe });
    assert.equal(out.FunctionError, "Unhandled");
    assert.equal(happened(probe), true, "the handler ran");
  });

  it("http-integration-response: the caller gets the proxy-integration response", async () => {
    await putFault("http", { ...integration(503, true), actionName: "http" });
    const out = await invokeUntil(
      "http",
      () => ({}),
      (o) =>
        Buffer.from(o.Payload ?? [])
          .toString()
          .includes("statusCode"),
    );
    assert.equal(out.FunctionError, undefined);
    const body = JSON.parse(Buffer.from(out.Payload ?? []).toString());
    assert.equal(body.statusCode, 503);
    assert.deepEqual(body.headers, { "Content-Type": "application/json" });
  });

  it("malformed and unknown-version objects are ignored, logged once each", async () => {
    const put = (key: string, body: string) =>
      s3.send(new PutObjectCommand({ Bucket: "faults", Key: `fis/malformed/EXP1/${key}`, Body: body }));
    await put("broken.json", "{not json");
    await put("future.json", JSON.stringify({ ...faultConfig(error(true), Date.now() - 1000), version: 2 }));
    // Invoke until both objects were read and judged (at the first poll after the 1 s interval).
    const judged = () =>
      lab.logs.events("malformed").filter((e) => e.message.includes("ignoring fault configuration")).length;
    const deadline = performance.now() + 5000;
    while (judged() < 2 && performance.now() < deadline) {
      assert.equal((await invoke("malformed", {})).FunctionError, undefined);
    }
    for (let i = 0; i < 5; i++) assert.equal((await invoke("malformed", {})).FunctionError, undefined);
    const lines = lab.logs
      .events("malformed")
      .filter((e) => e.message.includes("ignoring fault configuration"));
    assert.equal(lines.length, 2, lines.map((e) => e.message).join("\n"));
    assert.match(lines.map((e) => e.message).join("\n"), /future\.json: version: unsupported version 2/);
  });

  it("a runtime crash mid-invocation is a function error, and the next invocation works", async () => {
    const crashed = await invoke("crashing", { crash: true });
    assert.equal(crashed.FunctionError, "Unhandled");
    const out = await invoke("crashing", { n: 7 });
    assert.equal(out.FunctionError, undefined);
    assert.deepEqual(JSON.parse(Buffer.from(out.Payload ?? []).toString()), { ok: true, n: 7 });
  });

  it("response streaming passes through InvokeWithResponseStream", async () => {
    const out = await lambda.send(
      new InvokeWithResponseStreamCommand({ FunctionName: "streaming", Payload: JSON.stringify({ n: 4 }) }),
    );
    let text = "";
    for await (const event of out.EventStream ?? []) {
      if (event.PayloadChunk?.Payload) text += Buffer.from(event.PayloadChunk.Payload).toString();
      if (event.InvokeComplete?.ErrorCode) assert.fail(`stream error ${event.InvokeComplete.ErrorCode}`);
    }
    assert.equal(text, "first chunk;second chunk n=4");
  });
});
