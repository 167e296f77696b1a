import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { after, afterEach, before, describe, it } from "node:test";
import { serializeFaultConfig } from "@faultline/protocol";
import { seededRandom } from "../src/index.ts";
import { delay, error, faultConfig, integration, manualClock } from "./helpers/faults.ts";
import { type Harness, startHarness } from "./helpers/harness.ts";
import { startS3 } from "./helpers/s3.ts";

type S3 = Awaited<ReturnType<typeof startS3>>;

describe("extension proxy with the official runtime client, the lab Runtime API and s3rver", () => {
  let s3: S3;
  let h: Harness | undefined;
  let n = 0;
  before(async () => {
    s3 = await startS3();
  });
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });
  after(async () => {
    await s3.close();
  });

  async function setup(
    extra: { handler?: string; env?: Record<string, string>; seed?: number; s3?: S3 } = {},
  ) {
    const clock = manualClock(Date.now());
    const functionName = `fn${++n}`;
    h = await startHarness({
      functionName,
      handler: extra.handler,
      s3Endpoint: (extra.s3 ?? s3).endpoint,
      clock,
      random: seededRandom(extra.seed ?? 1),
      env: extra.env,
    });
    const harness = h;
    /** Writes a fault object with the real AWS SDK, then lets the extension poll (an event, not a sleep). */
    async function putFault(
      name: string,
      shape: Parameters<typeof faultConfig>[0],
      durationMs = 60_000,
      startOffsetMs = 0,
    ) {
      const config = faultConfig({ ...shape, actionName: name }, clock.now() + startOffsetMs, durationMs);
      await (extra.s3 ?? s3).put(`fis/${functionName}/EXP1/${name}.json`, serializeFaultConfig(config));
      await harness.extension.poller?.poll();
    }
    return { h: harness, clock, functionName, putFault, sideEffect: join(harness.dir, "side-effect") };
  }

  // Not a Lambda behaviour (on Lambda nothing else shares the sandbox's network): in the lab, environments share
  // the host's loopback, so a web page must not reach the proxy (docs/security.md, Network exposure).
  it("refuses browser-shaped requests and foreign Host names; the runtime's own calls still pass", async () => {
    const { h } = await setup();
    const base = `http://127.0.0.1:${h.extension.port}/2018-06-01/runtime/invocation/next`;
    const hostile: Record<string, string>[] = [
      { origin: "http://evil.example" },
      { host: "rebound.attacker.example" },
    ];
    for (const headers of hostile) {
      const refused = await rawGet(base, headers);
      assert.equal(refused.status, 403, JSON.stringify(headers));
      assert.match(refused.body, /Faultline\.Forbidden/);
    }
    const out = await h.invoke({ n: 2 });
    assert.equal(out.kind, "response");
  });

  it("passes an invocation through untouched when no fault applies", async () => {
    const { h } = await setup();
    const out = await h.invoke({ n: 1 });
    assert.equal(out.kind, "response");
    if (out.kind === "response") assert.deepEqual(JSON.parse(out.payload.toString()), { ok: true, n: 1 });
    const fail = await h.invoke({ fail: true });
    assert.equal(fail.kind, "function-error", "the handler's own error passes through");
    if (fail.kind === "function-error") assert.match(fail.payload.toString(), /handler failed/);
  });

  // Lambda's shutdown (Extensions API › Shutdown phase): SIGTERM to the runtime, parked in /next, before the
  // extension gets SHUTDOWN. A runtime hanging up on the proxy is not an error to log.
  it("a runtime that goes away while parked in /next is not logged as an error", async () => {
    const { h } = await setup();
    assert.equal((await h.invoke({ n: 1 })).kind, "response");
    await h.api.whenReady(); // parked in /next, through the proxy
    const runtime = h.runtime()!;
    const gone = new Promise((resolve) => runtime.once("exit", resolve));
    runtime.kill("SIGTERM");
    await gone;
    await h.startRuntime(); // a barrier: the proxy has handled the hang-up by the time a new /next parks
    assert.equal((await h.invoke({ n: 2 })).kind, "response");
    assert.deepEqual(
      h.lines.filter((l) => l.includes("runtime API proxy")),
      [],
    );
  });

  it("add-delay: the event reaches the handler that much later", async () => {
    const { h, putFault } = await setup();
    await putFault("lat", delay(400));
    const started = performance.now();
    const out = await h.invoke({ n: 2 });
    const took = performance.now() - started;
    assert.equal(out.kind, "response");
    assert.ok(took >= 400, `took ${took} ms`);
    assert.ok(h.lines.some((l) => l.includes("adding 400 milliseconds of latency to function invocation")));
  });

  it("invocation-error with preventExecution: a function error, the handler never ran, the next event flows", async () => {
    const { h, putFault, clock, sideEffect } = await setup();
    await putFault("err", error(true), 10_000);
    const out = await h.invoke({ sideEffect });
    assert.equal(out.kind, "function-error");
    if (out.kind !== "function-error") return;
    assert.equal(out.errorType, "FaultInjectionError");
    assert.equal(JSON.parse(out.payload.toString()).errorType, "FaultInjectionError");
    assert.equal(existsSync(sideEffect), false, "the handler must not have run");
    // The runtime's pending next is served with the following event once the fault has ended.
    clock.advance(10_000);
    const later = await h.invoke({ sideEffect, n: 3 });
    assert.equal(later.kind, "response");
    assert.equal(existsSync(sideEffect), true);
  });

  it("invocation-error without preventExecution: the handler runs, its response is replaced", async () => {
    const { h, putFault, sideEffect } = await setup();
    await putFault("err", error(false));
    const out = await h.invoke({ sideEffect });
    assert.equal(out.kind, "function-error");
    assert.equal(existsSync(sideEffect), true, "the handler ran");
    assert.ok(h.lines.some((l) => l.includes("modifying the function response")));
  });

  it("http-integration-response: the documented proxy response, before or after execution", async () => {
    const { h, putFault, sideEffect } = await setup();
    await putFault("http", integration(503, true));
    const out = await h.invoke({ sideEffect });
    assert.equal(out.kind, "response");
    if (out.kind !== "response") return;
    const body = JSON.parse(out.payload.toString());
    assert.equal(body.statusCode, 503);
    assert.deepEqual(body.headers, { "Content-Type": "application/json" });
    assert.equal(body.isBase64Encoded, false);
    assert.equal(existsSync(sideEffect), false);
  });

  it("stacks a delay and an error; the earliest of two conflicting faults wins, then the later takes over", async () => {
    const { h, putFault, clock } = await setup();
    await putFault("lat", delay(150));
    await putFault("err", error(true), 5000);
    await putFault("http", integration(418, true), 20_000, 1000);
    clock.advance(1000);
    const started = performance.now();
    const first = await h.invoke({});
    assert.ok(performance.now() - started >= 150);
    assert.equal(first.kind, "function-error", "error started first");
    clock.advance(4000);
    const second = await h.invoke({});
    assert.equal(second.kind, "response");
    if (second.kind === "response") assert.equal(JSON.parse(second.payload.toString()).statusCode, 418);
  });

  it("invocationPercentage 30 over 1000 invocations lands within statistical bounds", async () => {
    const { h, putFault } = await setup({ seed: 7 });
    await putFault("err", { ...error(true, 30) });
    let errors = 0;
    for (let i = 0; i < 1000; i++) if ((await h.invoke({ n: i })).kind === "function-error") errors++;
    // mean 300, sd 14.5: ±4 sd.
    assert.ok(errors > 242 && errors < 358, `errors ${errors}`);
  });

  it("a fault stops at its endTime even with the S3 server stopped; the poll failure is logged once", async () => {
    const own = await startS3();
    try {
      const { h, putFault, clock } = await setup({
        s3: own,
        env: { FAULTLINE_HOT_POLL_INTERVAL_SECONDS: "1" },
      });
      await putFault("err", error(true), 3000);
      assert.equal((await h.invoke({})).kind, "function-error");
      await own.stop();
      clock.advance(1500);
      assert.equal((await h.invoke({})).kind, "function-error", "S3 down: the known fault still applies");
      clock.advance(1500);
      assert.equal((await h.invoke({ n: 9 })).kind, "response", "ended on time");
      clock.advance(1500);
      await h.invoke({});
      const failures = h.lines.filter((l) => l.includes("failed to retrieve active fault configurations"));
      assert.equal(failures.length, 1, h.lines.join("\n"));
    } finally {
      await own.close();
    }
  });

  it("S3 unreachable from the start: pass-through and one log line", async () => {
    const dead = await startS3();
    await dead.stop();
    try {
      const { h, clock } = await setup({ s3: dead, env: { AWS_FIS_SLOW_POLL_INTERVAL_SECONDS: "1" } });
      for (let i = 0; i < 3; i++) {
        clock.advance(1000);
        assert.equal((await h.invoke({ n: i })).kind, "response");
      }
      const failures = h.lines.filter((l) => l.includes("failed to retrieve active fault configurations"));
      assert.equal(failures.length, 1, h.lines.join("\n"));
    } finally {
      await dead.close();
    }
  });

  it("a short function invoked rarely gets its fault on the first invocation after the poll interval", async () => {
    const { h, clock, functionName } = await setup();
    assert.equal((await h.invoke({})).kind, "response");
    // Written behind the extension's back: no poll is triggered by the test.
    const config = faultConfig({ ...error(true), actionName: "rare" }, clock.now(), 600_000);
    await s3.put(`fis/${functionName}/EXP1/rare.json`, serializeFaultConfig(config));
    clock.advance(61_000);
    assert.equal((await h.invoke({})).kind, "function-error");
  });

  it("functionQualifier: only invocations of that qualifier are affected", async () => {
    const { h, putFault } = await setup();
    await putFault("err", { ...error(true), qualifier: "prod" });
    assert.equal((await h.invoke({})).kind, "response");
    assert.equal((await h.invoke({}, { qualifier: "prod" })).kind, "function-error");
  });

  it("response streaming passes through when no fault applies", async () => {
    const { h } = await setup({ handler: "index.stream" });
    const out = await h.invoke({ n: 5 }, { acceptStreaming: true });
    assert.equal(out.kind, "stream");
    if (out.kind !== "stream") return;
    assert.equal(out.contentType, "text/plain");
    const chunks: Buffer[] = [];
    for await (const chunk of out.body as Readable) chunks.push(chunk as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), "first chunk;second chunk n=5");
  });

  it("6 MB binary-derived payloads cross the proxy byte-exact both ways", async () => {
    const { h } = await setup();
    const raw = Buffer.from(JSON.stringify({ data: randomBytes(4_500_000).toString("base64") }));
    assert.ok(raw.length > 5_900_000);
    const out = await h.invoke(undefined, { raw });
    assert.equal(out.kind, "response");
    if (out.kind === "response") assert.ok(out.payload.equals(raw), "byte-exact");
  });

  it("a runtime crash mid-invocation leaves the proxy serving a new runtime", async () => {
    const { h } = await setup();
    const crashed = await h.invoke({ crash: true }).then(
      (outcome) => outcome.kind,
      (error: Error) => error.name,
    );
    assert.notEqual(crashed, "response");
    assert.deepEqual(h.exits, [3]);
    await h.startRuntime();
    assert.equal((await h.invoke({ n: 1 })).kind, "response");
  });
});

/** A GET with exactly these headers (fetch would not let a test set Host). */
function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let body = "";
      res.on("data", (c) => {
        body += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}
