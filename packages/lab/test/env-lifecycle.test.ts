/**
 * The invoke phase and the reset path with a real external extension (a layer) and the official aws-lambda-ric:
 * the caller's response does not wait for extensions, the next invocation does, and a timeout or a crash sends
 * SHUTDOWN with its reason before the environment is reset. The extension and the function report to a recorder
 * (an HTTP server here), so the tests assert on the order of events, not on wall-clock time.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import { CollectingLogSink, labOwnedProcesses, makeInput } from "../../testing/src/index.ts";
import type { ExecutionEnvironment, FunctionSpec, InvocationReport } from "../src/contract.ts";
import { createEnvironmentFactory } from "../src/environment/index.ts";

const fixtures = join(import.meta.dirname, "fixtures", "env-lifecycle");

/** What the extension and the function tell the test, in arrival order. `/invoke` can be held. */
class Recorder {
  readonly events: string[] = [];
  readonly shutdowns: Array<{ eventType: string; shutdownReason: string; deadlineMs: number }> = [];
  hold = false;
  private held: ServerResponse[] = [];
  private readonly waiters: Array<() => void> = [];
  readonly server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const what = url.pathname.slice(1);
      this.events.push(`${what}:${url.searchParams.get("id") ?? ""}`);
      if (what === "shutdown") this.shutdowns.push(JSON.parse(Buffer.concat(chunks).toString()));
      for (const w of this.waiters.splice(0)) w();
      if (what === "invoke" && this.hold) this.held.push(res);
      else res.end("ok");
    });
  });
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  /** Resolves once `event` has arrived. */
  async seen(event: string): Promise<void> {
    while (!this.events.includes(event)) await new Promise<void>((r) => this.waiters.push(r));
  }
  release(): void {
    this.hold = false;
    for (const res of this.held.splice(0)) res.end("ok");
  }
  reset(): void {
    this.release();
    this.events.length = 0;
    this.shutdowns.length = 0;
  }
}

const recorder = new Recorder();
const factory = createEnvironmentFactory({ shutdownGraceMs: 2000 });
const live: ExecutionEnvironment[] = [];

function create(timeoutSeconds: number) {
  const spec: FunctionSpec = {
    name: "lifecycle",
    arn: "arn:aws:lambda:us-east-1:123456789012:function:lifecycle",
    region: "us-east-1",
    accountId: "123456789012",
    runtime: "nodejs20.x",
    handler: "index.handler",
    codeDir: join(fixtures, "code"),
    layers: [join(fixtures, "layer")],
    environment: { RECORDER_URL: recorder.url },
    tags: {},
    timeoutSeconds,
    memorySizeMb: 128,
  };
  const sink = new CollectingLogSink();
  const env = factory.create(spec, { extraEnvironment: {} }, sink);
  live.push(env);
  return { env, sink };
}

const call = (env: ExecutionEnvironment, event: unknown) =>
  env.invoke(makeInput({ payload: Buffer.from(JSON.stringify(event)) }));

function errorText(r: InvocationReport): string {
  return r.outcome.kind === "function-error" ? r.outcome.payload.toString() : "";
}

function errorType(r: InvocationReport): string | undefined {
  return r.outcome.kind === "function-error" ? r.outcome.errorType : undefined;
}

before(async () => {
  recorder.server.listen(0, "127.0.0.1");
  await once(recorder.server, "listening");
});
afterEach(async () => {
  recorder.release();
  await Promise.all(live.splice(0).map((e) => e.shutdown("spindown")));
  recorder.reset();
  assert.deepEqual(labOwnedProcesses(), [], "no process outlives its environment");
});
after(() => new Promise<void>((r) => recorder.server.close(() => r())));

describe(`invoke phase and reset with a real extension (sandbox: ${factory.sandbox})`, () => {
  it("Extensions API › Invoke phase: the caller's response does not wait for an extension's post-invoke work; the next invoke does", async () => {
    const { env, sink } = create(3);
    await call(env, {}); // cold start, unheld
    recorder.reset();
    recorder.hold = true;
    const first = makeInput({ payload: Buffer.from("{}") });
    const r1 = await env.invoke(first);
    // The response is here while the extension is still in its post-invoke work (held by the recorder).
    assert.equal(r1.outcome.kind, "response", errorText(r1));
    await recorder.seen(`invoke:${first.requestId}`);
    assert.ok(!recorder.events.includes(`done:${first.requestId}`));
    const second = makeInput({ payload: Buffer.from("{}") });
    const r2 = env.invoke(second);
    recorder.release();
    const r2done = await r2;
    assert.equal(r2done.outcome.kind, "response", errorText(r2done));
    const order = recorder.events;
    assert.ok(
      order.indexOf(`done:${first.requestId}`) < order.indexOf(`handler:${second.requestId}`),
      `the next invocation starts after the extension finished: ${order.join(" ")}`,
    );
    // The phase's report: END/REPORT once the extension is done, with the post-runtime time accounted.
    assert.ok(r1.phaseEnd, "an early report carries the invoke phase's end");
    const whole = await r1.phaseEnd;
    assert.match(whole.log, new RegExp(`END RequestId: ${first.requestId}`));
    assert.match(whole.log, new RegExp(`REPORT RequestId: ${first.requestId}\\tDuration`));
    assert.ok(whole.durationMs >= r1.durationMs);
    assert.ok((whole.postRuntimeExtensionsDurationMs ?? 0) > 0);
    const lines = sink.text();
    const at = (needle: string) => lines.findIndex((l) => l.includes(needle));
    assert.ok(at(`END RequestId: ${first.requestId}`) < at(`START RequestId: ${second.requestId}`));
  });

  it("Extensions API › Failure handling: a timeout sends SHUTDOWN (shutdownReason timeout) before the reset", async () => {
    const { env } = create(2); // not 1 s: the call after the reset must fit its own cold handler on a busy machine
    const before = Date.now();
    const r = await call(env, { sleepMs: 5000 });
    assert.equal(errorType(r), "Sandbox.Timedout");
    assert.equal(recorder.shutdowns.length, 1, recorder.events.join(" "));
    const [shutdown] = recorder.shutdowns;
    assert.equal(shutdown?.eventType, "SHUTDOWN");
    assert.equal(shutdown?.shutdownReason, "timeout");
    assert.ok((shutdown?.deadlineMs ?? 0) > before, "deadlineMs is an epoch ms in the future");
    // The runtime was stopped first: its handler never got past the sleep, and the environment re-inits.
    const again = await call(env, {});
    assert.equal(again.outcome.kind, "response", errorText(again));
    assert.ok(again.initDurationMs !== undefined, "a fresh init after the reset");
  });

  it("Extensions API › Failure handling: a runtime crash sends SHUTDOWN (shutdownReason failure)", async () => {
    const { env } = create(3);
    const r = await call(env, { exit: 7 });
    assert.equal(errorType(r), "Runtime.ExitError");
    assert.deepEqual(
      recorder.shutdowns.map((s) => s.shutdownReason),
      ["failure"],
      recorder.events.join(" "),
    );
  });
});
