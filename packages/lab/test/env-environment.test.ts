/**
 * Execution environments of real processes: the official aws-lambda-ric, a provided.al2023 shell bootstrap,
 * external extensions and an exec wrapper from layers (a directory and a zip), freeze, timeout, exits.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, afterEach, describe, it } from "node:test";
import { CollectingLogSink, labOwnedProcesses, makeInput } from "../../testing/src/index.ts";
import type { ExecutionEnvironment, FunctionSpec, InvocationReport } from "../src/contract.ts";
import { createEnvironmentFactory } from "../src/environment/index.ts";

const fixtures = join(import.meta.dirname, "fixtures");
const layerDir = join(fixtures, "env-layers", "a");
const layerZip = join(fixtures, "env-layers", "b.zip");

function spec(overrides: Partial<FunctionSpec> = {}): FunctionSpec {
  const name = overrides.name ?? "envtest";
  return {
    name,
    arn: `arn:aws:lambda:us-east-1:123456789012:function:${name}`,
    region: "us-east-1",
    accountId: "123456789012",
    runtime: "nodejs20.x",
    handler: "index.echo",
    codeDir: join(fixtures, "env-node"),
    layers: [],
    environment: {},
    tags: {},
    timeoutSeconds: 3,
    memorySizeMb: 128,
    ...overrides,
  };
}

const services = { s3Endpoint: "http://127.0.0.1:4569", extraEnvironment: { FAULTLINE_EXTRA: "yes" } };
const factory = createEnvironmentFactory({ shutdownGraceMs: 2000 });
const live: ExecutionEnvironment[] = [];

function create(s: FunctionSpec, sink = new CollectingLogSink(), f = factory) {
  const env = f.create(s, services, sink);
  live.push(env);
  return { env, sink };
}

const invoke = (env: ExecutionEnvironment, payload: unknown, extra = {}) =>
  env.invoke(makeInput({ payload: Buffer.from(JSON.stringify(payload)), ...extra }));

/** The report once the invoke phase is over (END/REPORT written): the caller's may come before (extensions). */
const whole = async (r: InvocationReport) => (r.phaseEnd ? await r.phaseEnd : r);

function json(r: InvocationReport): Record<string, unknown> {
  assert.equal(r.outcome.kind === "stream" ? "stream" : "buffered", "buffered");
  if (r.outcome.kind === "stream") throw new Error("unexpected stream");
  return JSON.parse(r.outcome.payload.toString()) as Record<string, unknown>;
}

afterEach(async () => {
  await Promise.all(live.splice(0).map((e) => e.shutdown("spindown")));
  assert.deepEqual(labOwnedProcesses(), [], "no process outlives its environment");
});
after(() => assert.deepEqual(labOwnedProcesses(), []));

describe(`execution environments (sandbox: ${factory.sandbox})`, () => {
  it("node function under aws-lambda-ric: payload round trip, Lambda's variables, START/END/REPORT", async () => {
    const { env, sink } = create(spec({ handler: "index.env", environment: { FN_OWN: "mine" } }));
    const input = makeInput({ payload: Buffer.from("{}") });
    const cold = await env.invoke(input);
    const body = json(cold) as { env: Record<string, string>; cwd: string };
    const e = body.env;
    assert.equal(e.AWS_LAMBDA_FUNCTION_NAME, "envtest");
    assert.equal(e.AWS_LAMBDA_FUNCTION_VERSION, "$LATEST");
    assert.equal(e.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, "128");
    assert.match(e.AWS_LAMBDA_RUNTIME_API ?? "", /^127\.0\.0\.1:\d+$/);
    assert.equal(e._HANDLER, "index.env");
    assert.equal(e.AWS_REGION, "us-east-1");
    assert.equal(e.AWS_DEFAULT_REGION, "us-east-1");
    assert.equal(e.AWS_EXECUTION_ENV, "AWS_Lambda_nodejs20.x");
    assert.equal(e.AWS_LAMBDA_LOG_GROUP_NAME, "/aws/lambda/envtest");
    assert.match(e.AWS_LAMBDA_LOG_STREAM_NAME ?? "", /^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    assert.equal(e.AWS_LAMBDA_INITIALIZATION_TYPE, "on-demand");
    assert.equal(e.TZ, ":UTC");
    assert.ok(e.AWS_ACCESS_KEY_ID && e.AWS_SECRET_ACCESS_KEY && e.AWS_SESSION_TOKEN);
    assert.equal(e.AWS_ENDPOINT_URL_S3, "http://127.0.0.1:4569");
    assert.equal(e.FAULTLINE_EXTRA, "yes");
    assert.equal(e.FN_OWN, "mine");
    assert.equal(e.FAULTLINE_LAB_OWNER, String(process.pid));
    assert.match(e.NODE_PATH ?? "", /nodejs\/node_modules/);
    assert.match(e.PATH ?? "", /bin$/);
    if (factory.sandbox === "namespace") {
      assert.equal(e.LAMBDA_TASK_ROOT, "/var/task");
      assert.equal(body.cwd, "/var/task");
    }
    assert.ok(cold.initDurationMs !== undefined && cold.initDurationMs > 0, "cold start pays the init");
    const coldLog = (await whole(cold)).log;
    assert.match(coldLog, new RegExp(`START RequestId: ${input.requestId} Version: \\$LATEST`));
    assert.match(coldLog, new RegExp(`END RequestId: ${input.requestId}`));
    assert.match(
      coldLog,
      /REPORT RequestId: \S+\tDuration: \d+\.\d{2} ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB\tInit Duration: \d+\.\d{2} ms\t/,
    );
    assert.ok(
      cold.maxMemoryUsedMb > 10,
      `Max Memory Used ${cold.maxMemoryUsedMb} MB is the processes' peak RSS`,
    );
    const warm = await invoke(env, { again: true });
    assert.equal(warm.initDurationMs, undefined, "warm invoke pays no init");
    assert.doesNotMatch((await whole(warm)).log, /Init Duration/);
    assert.ok(
      sink.text().some((l) => l.includes("RUNTIME module loaded")),
      "runtime output reaches the LogSink",
    );
    assert.ok(
      sink.lines.every((l) => l.functionName === "envtest" && l.stream === e.AWS_LAMBDA_LOG_STREAM_NAME),
    );
  });

  it("payload round trip is byte-exact and handler logs land in the invocation's log", async () => {
    const { env } = create(spec({ handler: "index.echo" }));
    const payload = { text: "héllo ✓", n: [1, 2, 3], nested: { deep: "x".repeat(100_000) } };
    const r = await invoke(env, payload);
    assert.deepEqual(json(r), payload);
    const { env: env2 } = create(spec({ handler: "index.log" }));
    const r2 = await invoke(env2, { word: "pineapple" });
    assert.match((await whole(r2)).log, /handler says pineapple/);
  });

  it("response over 6 MB from a real handler → Function.ResponseSizeTooLarge, environment still usable", async () => {
    const { env } = create(spec({ handler: "index.big" }));
    const r = await invoke(env, { bytes: 7_000_000 });
    assert.equal(r.outcome.kind, "function-error");
    if (r.outcome.kind !== "function-error") return;
    assert.equal(r.outcome.errorType, "Function.ResponseSizeTooLarge");
    assert.match((await whole(r)).log, /Failed to post handler success response\. Http response code: 413/);
    const ok = await invoke(env, { bytes: 3 });
    assert.equal(json(ok) as unknown, "xxx");
  });

  it("handler exception → function error with the runtime's payload", async () => {
    const { env } = create(spec({ handler: "index.fail" }));
    const r = await invoke(env, {});
    assert.equal(r.outcome.kind, "function-error");
    if (r.outcome.kind !== "function-error") return;
    assert.equal(r.outcome.errorType, "TypeError");
    const body = JSON.parse(r.outcome.payload.toString());
    assert.equal(body.errorMessage, "boom: x");
    assert.ok(Array.isArray(body.trace));
    await whole(r);
    assert.equal(env.state, "ready", "a handler error does not end the environment");
    assert.equal(json(await invoke(env, {})).errorType, "TypeError");
  });

  it("init error (handler not found) → Runtime.HandlerNotFound to the caller, environment dead", async () => {
    const { env } = create(spec({ handler: "index.nope" }));
    let dead = false;
    env.onDead(() => {
      dead = true;
    });
    const r = await invoke(env, {});
    assert.equal(r.outcome.kind, "function-error");
    if (r.outcome.kind !== "function-error") return;
    assert.equal(r.outcome.errorType, "Runtime.HandlerNotFound");
    assert.match(
      JSON.parse(r.outcome.payload.toString()).errorMessage,
      /index\.nope is undefined or not exported/,
    );
    assert.match(r.log, /INIT_REPORT Init Duration: \d+\.\d+ ms\tPhase: init\tStatus: error/);
    assert.ok(dead, "onDead fired");
    assert.equal(env.state, "dead");
  });

  it("timeout → Sandbox.Timedout with Lambda's text, environment reset, next invoke re-inits", async () => {
    const { env } = create(spec({ handler: "index.sleep", timeoutSeconds: 1 }));
    const input = makeInput({ payload: Buffer.from('{"ms":30000}') });
    const r = await env.invoke(input);
    assert.equal(r.outcome.kind, "function-error");
    if (r.outcome.kind !== "function-error") return;
    assert.deepEqual(JSON.parse(r.outcome.payload.toString()), {
      errorType: "Sandbox.Timedout",
      errorMessage: `RequestId: ${input.requestId} Error: Task timed out after 1.00 seconds`,
    });
    assert.match(
      r.log,
      new RegExp(`\\d{4}-\\d{2}-\\d{2}T\\S+Z ${input.requestId} Task timed out after 1.00 seconds`),
    );
    assert.match(r.log, /Status: timeout/);
    assert.equal(env.state, "ready");
    const again = await invoke(env, { ms: 1 });
    assert.ok(again.initDurationMs !== undefined, "the invoke after a timeout starts a fresh init");
    assert.equal(json(again) as unknown, "woke");
  });

  // Lambda docs (lambda-runtime-environment › Failures during the invoke phase): a crash resets the environment.
  it("runtime exit mid-invoke → Runtime.ExitError, environment reset (the next invoke re-inits)", async () => {
    const { env } = create(spec({ handler: "index.exit" }));
    const input = makeInput();
    const r = await env.invoke(input);
    assert.equal(r.outcome.kind, "function-error");
    if (r.outcome.kind !== "function-error") return;
    assert.deepEqual(JSON.parse(r.outcome.payload.toString()), {
      errorType: "Runtime.ExitError",
      errorMessage: `RequestId: ${input.requestId} Error: Runtime exited with error: exit status 3`,
    });
    assert.equal(env.state, "ready");
    const again = await env.invoke(makeInput());
    assert.ok(again.initDurationMs !== undefined, "a fresh init");
  });

  it("freeze: module-level timers do not tick while the environment sits idle", async () => {
    const { env } = create(spec({ handler: "index.ticks" }));
    const t1 = json(await invoke(env, { busyMs: 300 })).ticks as number;
    assert.ok(t1 >= 3, `the timer ticks while invoking (${t1})`);
    // The idle gap itself is the one deliberate wait: 2 s = ~40 ticks if the process were running.
    await new Promise((r) => setTimeout(r, 2000));
    const t2 = json(await invoke(env, {})).ticks as number;
    assert.ok(t2 - t1 <= 2, `ticks accrued while idle: ${t2 - t1}`);
  });

  it("extensions from a layer dir and a layer zip register before the runtime starts, get INVOKE and SHUTDOWN; the layer's exec wrapper runs", async () => {
    const { env, sink } = create(
      spec({
        handler: "index.env",
        layers: [layerDir, layerZip],
        environment: { AWS_LAMBDA_EXEC_WRAPPER: "/opt/wrapper.sh" },
      }),
    );
    const input = makeInput({ payload: Buffer.from("{}") });
    const r = await env.invoke(input);
    const body = json(r) as { env: Record<string, string>; optLayerFile: string; extMarkersAtLoad: string[] };
    assert.equal(body.env.WRAPPED_BY, "layer-a-wrapper", "the exec wrapper ran the runtime");
    assert.match(r.log, /WRAPPER ran with 3 args/);
    if (factory.sandbox === "namespace") {
      assert.deepEqual(
        body.extMarkersAtLoad,
        ["a", "b"],
        "both extensions registered before the runtime loaded",
      );
      assert.equal(body.optLayerFile, "from layer b (overrides)", "layers merge in order into /opt");
    }
    const text = sink.text();
    const at = (needle: string) => text.findIndex((l) => l.includes(needle));
    const loaded = at("RUNTIME module loaded");
    assert.ok(loaded > 0, "the runtime loaded");
    assert.ok(at("EXT a registered for envtest") >= 0 && at("EXT a registered for envtest") < loaded);
    assert.ok(at("EXT b registered for envtest") >= 0 && at("EXT b registered for envtest") < loaded);
    const full = await whole(r);
    assert.match(full.log, new RegExp(`EXT a INVOKE ${input.requestId}`));
    assert.match(full.log, new RegExp(`EXT b INVOKE ${input.requestId}`));
    assert.ok(
      full.durationMs >= 200,
      `the invoke phase lasts until every extension is done (${full.durationMs} ms)`,
    );
    await env.shutdown("spindown");
    assert.ok(text.length <= sink.text().length);
    assert.ok(sink.text().includes("EXT a SHUTDOWN spindown"));
    assert.ok(sink.text().includes("EXT b SHUTDOWN spindown"));
    assert.equal(env.state, "dead");
  });

  it("provided.al2023: a shell bootstrap from the code dir answers and reports errors", async () => {
    const { env, sink } = create(
      spec({ runtime: "provided.al2023", handler: "my.handler", codeDir: join(fixtures, "env-provided") }),
    );
    const r = await invoke(env, { k: 1 });
    assert.deepEqual(json(r), { echo: { k: 1 }, handler: "my.handler" });
    const f = await invoke(env, "fail");
    assert.equal(f.outcome.kind, "function-error");
    if (f.outcome.kind === "function-error") assert.equal(f.outcome.errorType, "Shell.Failure");
    const want = factory.sandbox === "namespace" ? "/var/task" : join(fixtures, "env-provided");
    assert.ok(sink.text().includes(`bootstrap started handler=my.handler task=${want}`));
  });

  it("response streaming: the runtime's stream reaches the caller as a Readable, errors as trailers", async () => {
    const { env } = create(spec({ handler: "index.stream" }));
    const r = await env.invoke(makeInput({ payload: Buffer.from("{}"), acceptStreaming: true }));
    assert.equal(r.outcome.kind, "stream");
    if (r.outcome.kind !== "stream") return;
    assert.equal(r.outcome.contentType, "text/plain");
    const chunks: Buffer[] = [];
    for await (const c of r.outcome.body) chunks.push(c as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), "hello world");
    assert.deepEqual(await r.outcome.completion, {});
    const failed = await env.invoke(
      makeInput({ payload: Buffer.from('{"fail":true}'), acceptStreaming: true }),
    );
    assert.equal(failed.outcome.kind, "stream");
    if (failed.outcome.kind !== "stream") return;
    for await (const _ of failed.outcome.body) {
      // drain
    }
    const completion = await failed.outcome.completion;
    assert.equal(completion?.errorType, "Error");
    assert.match(Buffer.from(completion?.errorBody ?? "", "base64").toString(), /mid-stream failure/);
    const buffered = await invoke(env, {});
    assert.equal(
      buffered.outcome.kind,
      "response",
      "a buffered Invoke of a streaming function gets the whole body",
    );
    if (buffered.outcome.kind === "response")
      assert.equal(buffered.outcome.payload.toString(), "hello world");
  });

  it("init limit: an init slower than the limit → Sandbox.Timedout, INIT_REPORT Status: timeout", async () => {
    const quick = createEnvironmentFactory({ initTimeoutMs: 500 });
    const { env } = create(
      spec({ handler: "index.echo", environment: { FN_INIT_SLEEP_MS: "30000" } }),
      undefined,
      quick,
    );
    const input = makeInput();
    const r = await env.invoke(input);
    assert.equal(r.outcome.kind, "function-error");
    if (r.outcome.kind !== "function-error") return;
    assert.equal(r.outcome.errorType, "Sandbox.Timedout");
    assert.match(r.log, /INIT_REPORT Init Duration: \d+\.\d+ ms\tPhase: init\tStatus: timeout/);
    assert.equal(env.state, "dead");
  });

  it("extension init error → the extension's error type to the caller, environment dead", async () => {
    const { env, sink } = create(spec({ layers: [join(fixtures, "env-layers", "bad")] }));
    const r = await invoke(env, {});
    assert.equal(r.outcome.kind, "function-error");
    if (r.outcome.kind === "function-error") assert.equal(r.outcome.errorType, "Extension.ConfigInvalid");
    assert.equal(env.state, "dead");
    // Whether the runtime got to load its module is a race, as on Lambda (Extensions API › Init phase: runtime
    // init starts once every extension registered; an extension's init error, reported after, fails the init).
    assert.ok(
      sink.text().some((l) => /Status: error/.test(l)),
      "the init is reported failed",
    );
  });

  it("SIGKILL of the lab process kills every process of its environments", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", join(fixtures, "env-orphan", "run.mts")], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once("line", resolve);
      child.once("exit", (code) => reject(new Error(`orphan runner exited early (${code})`)));
    });
    assert.deepEqual(JSON.parse(line), { ready: "response" });
    const owned = labOwnedProcesses(child.pid);
    assert.ok(owned.length >= 2, `runtime and extension run (${owned.join("; ")})`);
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
    // The kernel delivers the death signals asynchronously: wait for the condition, bounded.
    const deadline = Date.now() + 5000;
    while (labOwnedProcesses(child.pid).length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(labOwnedProcesses(child.pid), []);
    for (const d of readdirSync(tmpdir())) {
      if (d.startsWith(`faultline-lab-${child.pid}-`))
        rmSync(join(tmpdir(), d), { recursive: true, force: true });
    }
  });

  it("shutdown in the middle of an init or an invocation settles the invocation and leaves nothing", async () => {
    const slowInit = create(spec({ environment: { FN_INIT_SLEEP_MS: "30000" } }));
    const during = invoke(slowInit.env, {});
    await slowInit.sink.waitFor(/RUNTIME|INIT_START/);
    await slowInit.env.shutdown("spindown");
    assert.equal((await during).outcome.kind, "function-error");
    assert.equal(slowInit.env.state, "dead");

    const busy = create(spec({ handler: "index.sleep", timeoutSeconds: 30 }));
    const running = invoke(busy.env, { ms: 30000 });
    await busy.sink.waitFor(/^START RequestId/);
    await busy.env.shutdown("spindown");
    const r = await running;
    assert.equal(r.outcome.kind, "function-error");
    assert.equal(busy.env.state, "dead");
    assert.deepEqual(labOwnedProcesses(), []);
  });

  it("shutdown is idempotent and leaves no process behind", async () => {
    const { env } = create(spec());
    await invoke(env, {});
    assert.notDeepEqual(labOwnedProcesses(), [], "the environment's processes exist while it lives");
    await Promise.all([env.shutdown("spindown"), env.shutdown("spindown")]);
    assert.deepEqual(labOwnedProcesses(), []);
    const after = await invoke(env, {});
    assert.equal(after.outcome.kind, "function-error");
  });
});

describe("plain sandbox fallback (no namespaces)", () => {
  const plain = createEnvironmentFactory({ sandbox: "plain" });
  it("runs on host paths: variables point at the real dirs, layer extension and wrapper still run", async () => {
    const { env, sink } = create(
      spec({
        name: `plain-${randomUUID().slice(0, 4)}`,
        handler: "index.env",
        layers: [layerDir],
        environment: { AWS_LAMBDA_EXEC_WRAPPER: "/opt/wrapper.sh" },
      }),
      new CollectingLogSink(),
      plain,
    );
    const r = await invoke(env, {});
    const body = json(r) as { env: Record<string, string>; cwd: string };
    assert.equal(body.env.LAMBDA_TASK_ROOT, join(fixtures, "env-node"));
    assert.equal(body.cwd, join(fixtures, "env-node"));
    assert.equal(
      body.env.WRAPPED_BY,
      "layer-a-wrapper",
      "/opt/wrapper.sh was mapped to the merged layer dir",
    );
    assert.ok(sink.text().some((l) => l.startsWith("EXT a registered")));
    await env.shutdown("spindown");
    rmSync("/tmp/ext-a-registered", { force: true }); // no private /tmp in this mode: the probe wrote the host's
  });
});
