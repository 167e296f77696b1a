/**
 * Acceptance under the lab: real environments (official aws-lambda-ric behind the exec wrapper), the BUILT
 * LAYER ZIP unmodified as the function's layer, s3rver, fault objects written with @aws-sdk/client-s3 and
 * every invocation made with @aws-sdk/client-lambda.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { assertDelayed, assertInvocationError, type FaultLab, startFaultLab } from "./helpers/fault-lab.ts";
import { delay, error, faultConfig, integration } from "./helpers/faults.ts";

describe("extension acceptance under the lab (built layer zip, client-lambda)", () => {
  let t: FaultLab;

  before(async () => {
    t = await startFaultLab({
      // The proxy, which every non-Node runtime uses (Node's in-process mode: lab.in-process.acceptance).
      env: { FAULTLINE_MODE: "external" },
      functions: [
        { name: "delayed", env: { AWS_FIS_EXTENSION_METRICS: "all" } },
        { name: "timing-out", timeout: 1 },
        { name: "failing" },
        { name: "failing-late" },
        { name: "http" },
        { name: "sampled" },
        { name: "crashing" },
        { name: "malformed" },
        { name: "streaming", handler: "index.stream" },
      ],
    });
  });
  after(async () => {
    await t?.stop();
  });

  it("passes through without faults, and the extension announces itself in the function's logs", async () => {
    const out = await t.invoke("delayed", { n: 1 });
    assert.equal(out.FunctionError, undefined);
    assert.deepEqual(JSON.parse(Buffer.from(out.Payload ?? []).toString()), { ok: true, n: 1 });
    assert.ok(
      t.lab.logs
        .events("delayed")
        .some((e) => e.message.includes("FAULTLINE EXTENSION - extension enabled 0.1.0")),
    );
  });

  it("add-delay is observed by the caller", async () => {
    await t.putFault("delayed", { ...delay(700), actionName: "lat" });
    const out = await assertDelayed(t, "delayed", 700, { n: 2 });
    assert.equal(out.FunctionError, undefined);
    assert.ok(
      t.lab.logs.events("delayed").some((e) => e.message.includes("adding 700 milliseconds of latency")),
    );
    const emf = t.lab.logs
      .events("delayed")
      .filter((e) => e.message.includes('"FaultInjected"'))
      .map((e) => JSON.parse(e.message));
    assert.ok(emf.length > 0, "an EMF FaultInjected line");
    assert.equal(emf[0]._aws.CloudWatchMetrics[0].Namespace, "aws-fis-extension");
    assert.equal(emf[0].FaultId, "aws:lambda:invocation-add-delay");
    assert.equal(emf[0].Invocation, "delayed");
  });

  it("a delay longer than the function's timeout is a real timeout", async () => {
    await t.putFault("timing-out", { ...delay(1500), actionName: "lat" });
    const out = await t.invokeUntil(
      "timing-out",
      () => ({}),
      (o) => o.FunctionError !== undefined,
    );
    assert.equal(out.FunctionError, "Unhandled");
    assert.match(Buffer.from(out.Payload ?? []).toString(), /timed out/i);
  });

  it("invocationPercentage 30: 1000 invocations land within statistical bounds", async () => {
    await t.putFault("sampled", { ...error(true, 30), actionName: "err" });
    await t.invokeUntil(
      "sampled",
      () => ({}),
      (o) => o.FunctionError !== undefined,
    );
    let errors = 0;
    for (let i = 0; i < 1000; i++)
      if ((await t.invoke("sampled", { n: i })).FunctionError !== undefined) errors++;
    // mean 300, standard deviation 14.5: ±4 sd.
    assert.ok(errors > 242 && errors < 358, `errors ${errors}`);
  });

  it("invocation-error with preventExecution: FunctionError, and the handler provably did not run", async () => {
    await t.putFault("failing", { ...error(true), actionName: "err" });
    const out = await assertInvocationError(t, "failing", false);
    assert.equal(JSON.parse(Buffer.from(out.Payload ?? []).toString()).errorType, "FaultInjectionError");
  });

  it("invocation-error without preventExecution: FunctionError after the handler ran", async () => {
    await t.putFault("failing-late", { ...error(false), actionName: "err" });
    await assertInvocationError(t, "failing-late", true);
  });

  it("http-integration-response: the caller gets the proxy-integration response", async () => {
    await t.putFault("http", { ...integration(503, true), actionName: "http" });
    const out = await t.invokeUntil(
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
      t.s3.send(new PutObjectCommand({ Bucket: "faults", Key: `fis/malformed/EXP1/${key}`, Body: body }));
    await put("broken.json", "{not json");
    await put("future.json", JSON.stringify({ ...faultConfig(error(true), Date.now() - 1000), version: 2 }));
    // Invoke until both objects were read and judged (at the first poll after the 1 s interval).
    const judged = () =>
      t.lab.logs.events("malformed").filter((e) => e.message.includes("ignoring fault configuration")).length;
    const deadline = performance.now() + 5000;
    while (judged() < 2 && performance.now() < deadline) {
      assert.equal((await t.invoke("malformed", {})).FunctionError, undefined);
    }
    for (let i = 0; i < 5; i++) assert.equal((await t.invoke("malformed", {})).FunctionError, undefined);
    const lines = t.lab.logs
      .events("malformed")
      .filter((e) => e.message.includes("ignoring fault configuration"));
    assert.equal(lines.length, 2, lines.map((e) => e.message).join("\n"));
    assert.match(lines.map((e) => e.message).join("\n"), /future\.json: version: unsupported version 2/);
  });

  it("a runtime crash mid-invocation is a function error, and the next invocation works", async () => {
    const crashed = await t.invoke("crashing", { crash: true });
    assert.equal(crashed.FunctionError, "Unhandled");
    const out = await t.invoke("crashing", { n: 7 });
    assert.equal(out.FunctionError, undefined);
    assert.deepEqual(JSON.parse(Buffer.from(out.Payload ?? []).toString()), { ok: true, n: 7 });
  });

  it("response streaming passes through InvokeWithResponseStream", async () => {
    assert.deepEqual(await t.stream("streaming", 4), {
      text: "first chunk;second chunk n=4",
      errorCode: undefined,
    });
  });
});
