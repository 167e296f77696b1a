/**
 * The in-process mode under the lab: the BUILT LAYER ZIP unmodified, the official aws-lambda-ric as the runtime
 * (the lab mounts it at /var/runtime as Lambda does, so the launcher's auto mode recognises it), faults written
 * with @aws-sdk/client-s3, every invocation made with @aws-sdk/client-lambda.
 * FAULTLINE_TEST_RIC_ENTRY=<client root>/bin/index.mjs runs the same suite against another runtime client build
 * (how aws-lambda-ric 4.x was checked: docs/extension.md).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
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

const IN_PROCESS = "FAULTLINE EXTENSION - extension enabled 0.1.0 (in-process)";
const EXTERNAL = /FAULTLINE EXTENSION - extension enabled 0\.1\.0$/;

describe(`in-process mode under the lab (built layer zip, ${process.env.FAULTLINE_TEST_RIC_ENTRY ?? "aws-lambda-ric 3.x"}, client-lambda)`, () => {
  const dir = mkdtempSync(join(tmpdir(), "faultline-inproc-"));
  // Environments get a private /tmp: handlers report side effects over HTTP.
  const effects = new Set<string>();
  const probe = http.createServer((req, res) => {
    effects.add(req.url ?? "");
    res.end();
  });
  // An S3 that accepts connections and never answers: every poll hangs until its own timeout (5 s).
  const silentS3 = net.createServer(() => {});
  let lab: Lab;
  let lambda: LambdaClient;
  let s3: S3Client;
  let n = 0;

  before(async () => {
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    await new Promise<void>((resolve) => silentS3.listen(0, "127.0.0.1", resolve));
    const layer = await buildLayer({ out: join(dir, "faultline-layer.zip") });
    const fn = (name: string, handler = "index.handler", env: Record<string, string> = {}, timeout = 10) => ({
      name,
      runtime: "nodejs20.x" as const,
      handler,
      code: FIXTURE_DIR,
      layers: [layer.zipPath],
      timeout,
      environment: {
        AWS_LAMBDA_EXEC_WRAPPER: "/opt/faultline/bootstrap",
        AWS_FIS_CONFIGURATION_LOCATION: "arn:aws:s3:::faults/fis/",
        AWS_FIS_SLOW_POLL_INTERVAL_SECONDS: "1",
        FAULTLINE_HOT_POLL_INTERVAL_SECONDS: "1",
        ...env,
      },
    });
    const ricEntry = process.env.FAULTLINE_TEST_RIC_ENTRY;
    lab = await startLab(
      {
        buckets: ["faults"],
        functions: [
          fn("delayed", "index.handler", { AWS_FIS_EXTENSION_METRICS: "all" }),
          fn("timing-out", "index.handler", {}, 1),
          fn("crashing"),
          fn("failing"),
          fn("failing-late"),
          fn("http"),
          fn("streaming", "index.stream"),
          fn("streaming-failing", "index.stream"),
          fn("broken", "broken.handler"),
          // In-process forced, but the runtime client fetches events over HTTP: pass-through, said once.
          fn("alternative-client", "index.handler", {
            FAULTLINE_MODE: "in-process",
            AWS_LAMBDA_NODEJS_USE_ALTERNATIVE_CLIENT_1: "true",
          }),
          fn("forced-external", "index.handler", { FAULTLINE_MODE: "external" }),
          fn(
            "callback-hanging-s3",
            "index.callback",
            {
              AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${(silentS3.address() as AddressInfo).port}`,
              AWS_FIS_POLL_MAX_WAIT_MILLISECONDS: "0",
            },
            3,
          ),
        ],
      },
      ricEntry ? { environmentOptions: { ricEntry } } : {},
    );
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
    silentS3.close();
  });

  const invoke = (FunctionName: string, payload: unknown) =>
    lambda.send(new InvokeCommand({ FunctionName, Payload: JSON.stringify(payload) }));
  const payloadOf = (out: { Payload?: Uint8Array }) => Buffer.from(out.Payload ?? []).toString();
  const putFault = (fn: string, shape: Parameters<typeof faultConfig>[0]) =>
    s3.send(
      new PutObjectCommand({
        Bucket: "faults",
        Key: `fis/${fn}/EXP1/${shape.actionName ?? "act"}.json`,
        Body: serializeFaultConfig(faultConfig(shape, Date.now() - 1000, 600_000)),
      }),
    );
  /** Invokes until `done` holds, for at most 5 s (a new object is picked up by the first poll after 1 s). */
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
  const messages = (fn: string) => lab.logs.events(fn).map((e) => e.message);
  async function stream(fn: string, n: number) {
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
  }

  it("a Node function with a known runtime client runs in-process: announced once, no proxy", async () => {
    const out = await invoke("delayed", { n: 1 });
    assert.deepEqual(JSON.parse(payloadOf(out)), { ok: true, n: 1 });
    assert.equal(messages("delayed").filter((m) => m.includes(IN_PROCESS)).length, 1);
    assert.ok(!messages("delayed").some((m) => EXTERNAL.test(m)), "the external proxy did not start");
  });

  it("add-delay is observed by the caller, logged and counted (EMF) as in the external mode", async () => {
    await putFault("delayed", { ...delay(700), actionName: "lat" });
    await invokeUntil(
      "delayed",
      () => ({}),
      (_, ms) => ms >= 700,
    );
    assert.ok(messages("delayed").some((m) => m.includes("adding 700 milliseconds of latency")));
    const emf = messages("delayed")
      .filter((m) => m.includes('"FaultInjected"'))
      .map((m) => JSON.parse(m));
    assert.equal(emf[0]?.FaultId, "aws:lambda:invocation-add-delay");
  });

  it("a delay longer than the function's timeout is a real timeout", async () => {
    await putFault("timing-out", { ...delay(1500), actionName: "lat" });
    const out = await invokeUntil(
      "timing-out",
      () => ({}),
      (o) => o.FunctionError !== undefined,
    );
    assert.match(payloadOf(out), /timed out/i);
  });

  it("a runtime crash mid-invocation is a function error, and the next invocation works", async () => {
    assert.equal((await invoke("crashing", { crash: true })).FunctionError, "Unhandled");
    const out = await invoke("crashing", { n: 7 });
    assert.deepEqual(JSON.parse(payloadOf(out)), { ok: true, n: 7 });
    assert.equal(
      messages("crashing").filter((m) => m.includes(IN_PROCESS)).length,
      2,
      "hooked again after the reset",
    );
  });

  it("invocation-error with preventExecution: FunctionError, and the handler provably did not run", async () => {
    await putFault("failing", { ...error(true), actionName: "err" });
    await invokeUntil(
      "failing",
      () => ({}),
      (o) => o.FunctionError !== undefined,
    );
    const effect = sideEffect();
    const out = await invoke("failing", { sideEffect: effect });
    assert.equal(out.FunctionError, "Unhandled");
    assert.equal(JSON.parse(payloadOf(out)).errorType, "FaultInjectionError");
    assert.equal(happened(effect), false, "the handler must not have run");
  });

  it("invocation-error without preventExecution: FunctionError after the handler ran", async () => {
    await putFault("failing-late", { ...error(false), actionName: "err" });
    await invokeUntil(
      "failing-late",
      () => ({}),
      (o) => o.FunctionError !== undefined,
    );
    const effect = sideEffect();
    const out = await invoke("failing-late", { sideEffect: effect });
    assert.equal(out.FunctionError, "Unhandled");
    assert.equal(JSON.parse(payloadOf(out)).errorType, "FaultInjectionError");
    assert.equal(happened(effect), true, "the handler ran");
  });

  it("http-integration-response: the caller gets the proxy-integration response", async () => {
    await putFault("http", { ...integration(503, true), actionName: "http" });
    const out = await invokeUntil(
      "http",
      () => ({}),
      (o) => payloadOf(o).includes("statusCode"),
    );
    assert.equal(out.FunctionError, undefined);
    const body = JSON.parse(payloadOf(out));
    assert.equal(body.statusCode, 503);
    assert.deepEqual(body.headers, { "Content-Type": "application/json" });
  });

  it("a streamed response passes through untouched, chunk for chunk", async () => {
    assert.deepEqual(await stream("streaming", 4), {
      text: "first chunk;second chunk n=4",
      errorCode: undefined,
    });
  });

  it("a streamed response replaced by invocation-error (preventExecution false): the caller gets the error", async () => {
    await putFault("streaming-failing", { ...error(false), actionName: "err" });
    const deadline = performance.now() + 5000;
    let last = await stream("streaming-failing", 1);
    while (last.errorCode === undefined && performance.now() < deadline)
      last = await stream("streaming-failing", 1);
    assert.equal(last.errorCode, "FaultInjectionError");
    assert.ok(!last.text.includes("second chunk"), `the handler's stream was not delivered: ${last.text}`);
    // The environment is still healthy afterwards: the next streamed invocation completes (same fault).
    assert.equal((await stream("streaming-failing", 2)).errorCode, "FaultInjectionError");
  });

  it("a poll in flight never holds a callback handler's answer (it waits for an empty event loop)", async (t) => {
    // The poll started at init hangs for 5 s; the function's timeout is 3 s. Were the poll's socket holding the
    // event loop, the runtime would answer only after it: a timeout.
    for (let i = 0; i < 2; i++) {
      const out = await invoke("callback-hanging-s3", { n: i });
      if (payloadOf(out).includes("Runtime.CallbackHandlerDeprecated")) {
        return t.skip("this runtime client has no callback handlers (aws-lambda-ric 4.x)");
      }
      assert.equal(out.FunctionError, undefined, payloadOf(out));
      assert.deepEqual(JSON.parse(payloadOf(out)), { ok: true, n: i });
    }
  });

  it("an init error reaches the caller as without the layer (the preload never masks it)", async () => {
    const out = await invoke("broken", {});
    assert.equal(out.FunctionError, "Unhandled");
    const body = JSON.parse(payloadOf(out));
    assert.match(`${body.errorType} ${body.errorMessage}`, /broken at import/);
  });

  it("FAULTLINE_MODE=external forces the proxy on a Node function", async () => {
    await invoke("forced-external", {});
    assert.ok(messages("forced-external").some((m) => EXTERNAL.test(m)));
    assert.ok(!messages("forced-external").some((m) => m.includes(IN_PROCESS)));
  });

  it("a runtime client the hook cannot serve: every invocation passes through, said once", async () => {
    await putFault("alternative-client", { ...error(true), actionName: "err" });
    for (let i = 0; i < 4; i++) {
      const out = await invoke("alternative-client", { n: i });
      assert.equal(out.FunctionError, undefined);
      assert.deepEqual(JSON.parse(payloadOf(out)), { ok: true, n: i });
    }
    const off = messages("alternative-client").filter((m) => m.includes("in-process mode off"));
    assert.equal(off.length, 1, off.join("\n"));
  });
});
