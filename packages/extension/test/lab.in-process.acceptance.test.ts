/**
 * The in-process mode under the lab: the BUILT LAYER ZIP unmodified, the official aws-lambda-ric as the runtime
 * (the lab mounts it at /var/runtime as Lambda does, so the launcher's auto mode recognises it), faults written
 * with @aws-sdk/client-s3, every invocation made with @aws-sdk/client-lambda.
 * FAULTLINE_TEST_RIC_ENTRY=<client root>/bin/index.mjs runs the same suite against another runtime client build
 * (how aws-lambda-ric 4.x was checked: docs/extension.md).
 */
import assert from "node:assert/strict";
import net, { type AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { assertInvocationError, type FaultLab, startFaultLab } from "./helpers/fault-lab.ts";
import { delay, error, integration } from "./helpers/faults.ts";

const IN_PROCESS = "FAULTLINE EXTENSION - extension enabled 0.1.0 (in-process)";
const EXTERNAL = /FAULTLINE EXTENSION - extension enabled 0\.1\.0$/;

describe(`in-process mode under the lab (built layer zip, ${process.env.FAULTLINE_TEST_RIC_ENTRY ?? "aws-lambda-ric 3.x"}, client-lambda)`, () => {
  // An S3 that accepts connections and never answers: every poll hangs until its own timeout (5 s).
  const silentS3 = net.createServer(() => {});
  let t: FaultLab;

  before(async () => {
    await new Promise<void>((resolve) => silentS3.listen(0, "127.0.0.1", resolve));
    const ricEntry = process.env.FAULTLINE_TEST_RIC_ENTRY;
    t = await startFaultLab({
      functions: [
        { name: "delayed", env: { AWS_FIS_EXTENSION_METRICS: "all" } },
        { name: "timing-out", timeout: 1 },
        { name: "crashing" },
        { name: "failing" },
        { name: "failing-late" },
        { name: "http" },
        { name: "streaming", handler: "index.stream" },
        { name: "streaming-failing", handler: "index.stream" },
        { name: "broken", handler: "broken.handler" },
        // In-process forced, but the runtime client fetches events over HTTP: pass-through, said once.
        {
          name: "alternative-client",
          env: { FAULTLINE_MODE: "in-process", AWS_LAMBDA_NODEJS_USE_ALTERNATIVE_CLIENT_1: "true" },
        },
        { name: "forced-external", env: { FAULTLINE_MODE: "external" } },
        {
          name: "callback-hanging-s3",
          handler: "index.callback",
          env: {
            AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${(silentS3.address() as AddressInfo).port}`,
            AWS_FIS_POLL_MAX_WAIT_MILLISECONDS: "0",
          },
          timeout: 3,
        },
      ],
      labOptions: ricEntry ? { environmentOptions: { ricEntry } } : {},
    });
  });
  after(async () => {
    await t?.stop();
    silentS3.close();
  });

  const payloadOf = (out: { Payload?: Uint8Array }) => Buffer.from(out.Payload ?? []).toString();
  const messages = (fn: string) => t.lab.logs.events(fn).map((e) => e.message);

  it("a Node function with a known runtime client runs in-process: announced once, no proxy", async () => {
    const out = await t.invoke("delayed", { n: 1 });
    assert.deepEqual(JSON.parse(payloadOf(out)), { ok: true, n: 1 });
    assert.equal(messages("delayed").filter((m) => m.includes(IN_PROCESS)).length, 1);
    assert.ok(!messages("delayed").some((m) => EXTERNAL.test(m)), "the external proxy did not start");
  });

  it("add-delay is observed by the caller, logged and counted (EMF) as in the external mode", async () => {
    await t.putFault("delayed", { ...delay(700), actionName: "lat" });
    await t.invokeUntil(
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
    await t.putFault("timing-out", { ...delay(1500), actionName: "lat" });
    const out = await t.invokeUntil(
      "timing-out",
      () => ({}),
      (o) => o.FunctionError !== undefined,
    );
    assert.match(payloadOf(out), /timed out/i);
  });

  it("a runtime crash mid-invocation is a function error, and the next invocation works", async () => {
    assert.equal((await t.invoke("crashing", { crash: true })).FunctionError, "Unhandled");
    const out = await t.invoke("crashing", { n: 7 });
    assert.deepEqual(JSON.parse(payloadOf(out)), { ok: true, n: 7 });
    assert.equal(
      messages("crashing").filter((m) => m.includes(IN_PROCESS)).length,
      2,
      "hooked again after the reset",
    );
  });

  it("invocation-error with preventExecution: FunctionError, and the handler provably did not run", async () => {
    await t.putFault("failing", { ...error(true), actionName: "err" });
    const out = await assertInvocationError(t, "failing", false);
    assert.equal(JSON.parse(payloadOf(out)).errorType, "FaultInjectionError");
  });

  it("invocation-error without preventExecution: FunctionError after the handler ran", async () => {
    await t.putFault("failing-late", { ...error(false), actionName: "err" });
    const out = await assertInvocationError(t, "failing-late", true);
    assert.equal(JSON.parse(payloadOf(out)).errorType, "FaultInjectionError");
  });

  it("http-integration-response: the caller gets the proxy-integration response", async () => {
    await t.putFault("http", { ...integration(503, true), actionName: "http" });
    const out = await t.invokeUntil(
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
    assert.deepEqual(await t.stream("streaming", 4), {
      text: "first chunk;second chunk n=4",
      errorCode: undefined,
    });
  });

  it("a streamed response replaced by invocation-error (preventExecution false): the caller gets the error", async () => {
    await t.putFault("streaming-failing", { ...error(false), actionName: "err" });
    const deadline = performance.now() + 5000;
    let last = await t.stream("streaming-failing", 1);
    while (last.errorCode === undefined && performance.now() < deadline)
      last = await t.stream("streaming-failing", 1);
    assert.equal(last.errorCode, "FaultInjectionError");
    assert.ok(!last.text.includes("second chunk"), `the handler's stream was not delivered: ${last.text}`);
    // The environment is still healthy afterwards: the next streamed invocation completes (same fault).
    assert.equal((await t.stream("streaming-failing", 2)).errorCode, "FaultInjectionError");
  });

  it("a poll in flight never holds a callback handler's answer (it waits for an empty event loop)", async (ctx) => {
    // The poll started at init hangs for 5 s; the function's timeout is 3 s. Were the poll's socket holding the
    // event loop, the runtime would answer only after it: a timeout.
    for (let i = 0; i < 2; i++) {
      const out = await t.invoke("callback-hanging-s3", { n: i });
      if (payloadOf(out).includes("Runtime.CallbackHandlerDeprecated")) {
        return ctx.skip("this runtime client has no callback handlers (aws-lambda-ric 4.x)");
      }
      assert.equal(out.FunctionError, undefined, payloadOf(out));
      assert.deepEqual(JSON.parse(payloadOf(out)), { ok: true, n: i });
    }
  });

  it("an init error reaches the caller as without the layer (the preload never masks it)", async () => {
    const out = await t.invoke("broken", {});
    assert.equal(out.FunctionError, "Unhandled");
    const body = JSON.parse(payloadOf(out));
    assert.match(`${body.errorType} ${body.errorMessage}`, /broken at import/);
  });

  it("FAULTLINE_MODE=external forces the proxy on a Node function", async () => {
    await t.invoke("forced-external", {});
    assert.ok(messages("forced-external").some((m) => EXTERNAL.test(m)));
    assert.ok(!messages("forced-external").some((m) => m.includes(IN_PROCESS)));
  });

  it("a runtime client the hook cannot serve: every invocation passes through, said once", async () => {
    await t.putFault("alternative-client", { ...error(true), actionName: "err" });
    for (let i = 0; i < 4; i++) {
      const out = await t.invoke("alternative-client", { n: i });
      assert.equal(out.FunctionError, undefined);
      assert.deepEqual(JSON.parse(payloadOf(out)), { ok: true, n: i });
    }
    const off = messages("alternative-client").filter((m) => m.includes("in-process mode off"));
    assert.equal(off.length, 1, off.join("\n"));
  });
});
