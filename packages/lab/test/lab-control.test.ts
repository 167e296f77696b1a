/**
 * The lab's control side against a fake environment factory (unit level): config validation, the function pool,
 * and the Lambda API through the real @aws-sdk/client-lambda. The real environments are covered by lab-acceptance.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  InvokeWithResponseStreamCommand,
  LambdaClient,
  ListAliasesCommand,
  ListFunctionsCommand,
  ListTagsCommand,
} from "@aws-sdk/client-lambda";
import type {
  EnvironmentFactory,
  EnvironmentState,
  ExecutionEnvironment,
  FunctionSpec,
  InvocationInput,
  InvocationReport,
  LabServices,
} from "../src/contract.ts";
import {
  FunctionPool,
  type InvocationRecord,
  type Lab,
  LabConfigError,
  LogStore,
  loadLabConfig,
  parseLabConfig,
  startLab,
  type Timers,
  TooManyRequestsError,
} from "../src/index.ts";

const fixtures = join(import.meta.dirname, "fixtures", "lab-basic");
const labJson = join(fixtures, "lab.json");

/** A gate a test opens when it wants an invocation to finish: no sleeps. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}

/**
 * Fake environments: echo the payload; `{"throw":…}` → function error; `{"hold":"name"}` waits on a named gate;
 * `{"die":true}` → the runtime "exits" (function error, then dead).
 */
class FakeFactory implements EnvironmentFactory {
  readonly created: FakeEnvironment[] = [];
  readonly gates = new Map<string, ReturnType<typeof gate>>();
  lastServices?: LabServices;
  create(spec: FunctionSpec, services: LabServices, logSink: LogStore): ExecutionEnvironment {
    this.lastServices = services;
    const env = new FakeEnvironment(`env-${this.created.length}`, spec, this, logSink);
    this.created.push(env);
    return env;
  }
  gate(name: string) {
    let g = this.gates.get(name);
    if (!g) {
      g = gate();
      this.gates.set(name, g);
    }
    return g;
  }
}

class FakeEnvironment implements ExecutionEnvironment {
  state: EnvironmentState = "initializing";
  shutdowns: string[] = [];
  invocations: InvocationInput[] = [];
  #dead: Array<() => void> = [];
  constructor(
    readonly id: string,
    readonly spec: FunctionSpec,
    readonly factory: FakeFactory,
    readonly logs: LogStore,
  ) {}
  async invoke(input: InvocationInput): Promise<InvocationReport> {
    const cold = this.state === "initializing";
    this.state = "invoking";
    this.invocations.push(input);
    const stream = `2026/11/26/[$LATEST]${this.id}`;
    const log = (line: string) => this.logs.write(this.spec.name, stream, line, Date.now());
    log(`START RequestId: ${input.requestId} Version: $LATEST`);
    const event = JSON.parse(input.payload.toString("utf8"));
    if (event.hold) await this.factory.gate(event.hold).opened;
    let report: InvocationReport;
    if (event.throw || event.die) {
      const payload = Buffer.from(
        JSON.stringify({ errorType: "Error", errorMessage: event.throw ?? "exit" }),
      );
      report = { outcome: { kind: "function-error", payload, errorType: "Error" }, ...times(cold) };
    } else if (event.stream) {
      const { Readable } = await import("node:stream");
      const body = Readable.from([Buffer.from("one,"), Buffer.from("two")]);
      report = {
        outcome: { kind: "stream", body, contentType: "text/plain", completion: Promise.resolve({}) },
        ...times(cold),
      };
    } else {
      report = {
        outcome: { kind: "response", payload: input.payload, contentType: "application/json" },
        ...times(cold),
      };
    }
    log(`END RequestId: ${input.requestId}`);
    report.log = `START RequestId: ${input.requestId}\n${"x".repeat(event.logBytes ?? 0)}END RequestId: ${input.requestId}\n`;
    if (event.die) {
      this.state = "dead";
      for (const l of this.#dead) l();
    } else {
      this.state = "ready";
    }
    return report;
  }
  async shutdown(reason: "spindown" | "timeout" | "failure"): Promise<void> {
    this.shutdowns.push(reason);
    if (this.state === "dead") return;
    this.state = "dead";
    for (const l of this.#dead) l();
  }
  onDead(listener: () => void): void {
    this.#dead.push(listener);
  }
}

function times(cold: boolean) {
  return {
    log: "",
    durationMs: 1,
    billedDurationMs: 1,
    maxMemoryUsedMb: 10,
    ...(cold ? { initDurationMs: 5 } : {}),
  };
}

function input(payload: unknown, requestId = "req"): InvocationInput {
  return {
    requestId,
    payload: Buffer.from(JSON.stringify(payload)),
    invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:f",
    traceId: "Root=1-0-0",
    acceptStreaming: false,
  };
}

/** Manual timers: tests fire idle expiry explicitly. */
class ManualTimers implements Timers {
  pending = new Map<number, () => void>();
  #next = 0;
  setTimeout(fn: () => void): unknown {
    const id = this.#next++;
    this.pending.set(id, fn);
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  fireAll(): void {
    const fns = [...this.pending.values()];
    this.pending.clear();
    for (const fn of fns) fn();
  }
}

describe("lab config", () => {
  it("loads a valid file: defaults applied, paths absolute, ARNs built", () => {
    const config = loadLabConfig(labJson);
    assert.equal(config.functions.length, 3);
    const [echo, shell, single] = config.functions;
    assert.equal(echo?.arn, "arn:aws:lambda:us-east-1:123456789012:function:node-echo");
    assert.equal(echo?.codeDir, join(fixtures, "node-echo"));
    assert.deepEqual(echo?.layers, [join(fixtures, "layer-a")]);
    assert.equal(echo?.timeoutSeconds, 2);
    assert.equal(shell?.memorySizeMb, 128);
    assert.equal(single?.timeoutSeconds, 3);
    assert.equal(single?.reservedConcurrency, 1);
    assert.deepEqual(config.ports, { lambda: 0, s3: 0, fis: 0, cloudwatch: 0 });
  });

  const base = () => JSON.parse(JSON.stringify(loadLabConfigRaw()));
  const parse = (raw: unknown) => parseLabConfig(raw, { file: "lab.json", baseDir: fixtures });
  const fails = (raw: unknown, expected: string) => {
    assert.throws(
      () => parse(raw),
      (error: unknown) => {
        assert.ok(error instanceof LabConfigError, `expected LabConfigError, got ${error}`);
        assert.ok(error.message.includes(expected), `"${error.message}" does not include "${expected}"`);
        return true;
      },
    );
  };

  it("names the file and field path of a bad value", () => {
    const raw = base();
    raw.functions[1].timeout = 901;
    fails(raw, "lab.json: functions[1].timeout: must be a number between 1 and 900");
    raw.functions[1].timeout = "3";
    fails(raw, "lab.json: functions[1].timeout: must be a number between 1 and 900");
  });

  it("refuses unknown runtimes, bad memory, duplicate names, missing paths and unknown fields", () => {
    let raw = base();
    raw.functions[0].runtime = "python3.12";
    fails(raw, "functions[0].runtime: must be one of nodejs18.x");
    raw = base();
    raw.functions[2].memorySize = 64;
    fails(raw, "functions[2].memorySize: must be a number between 128 and 10240");
    raw = base();
    raw.functions[2].name = "node-echo";
    fails(raw, 'functions[2].name: duplicate function name "node-echo" (also functions[0])');
    raw = base();
    raw.functions[0].code = "nope";
    fails(raw, "functions[0].code: not a directory");
    raw = base();
    raw.functions[0].layers = ["missing.zip"];
    fails(raw, "functions[0].layers[0]: not a directory or .zip file");
    raw = base();
    raw.functions[0].timeot = 3;
    fails(raw, "functions[0]: Unrecognized key");
    raw = base();
    raw.functions[0].aliases = ["42"];
    fails(
      raw,
      "functions[0].aliases[0]: must be 1-128 letters, digits, hyphens or underscores, not all digits",
    );
    raw = base();
    raw.ports.lambda = 70000;
    fails(raw, "ports.lambda: must be a number between 0 and 65535");
    raw = base();
    raw.accountId = "12";
    fails(raw, "accountId: must be a 12-digit string");
    fails({}, "functions: must be an array of functions");
  });

  it("reports unreadable and non-JSON files with the file name", (t) => {
    assert.throws(
      () => loadLabConfig("/nonexistent/lab.json"),
      /\/nonexistent\/lab.json: cannot read the file/,
    );
    const dir = t.name.replace(/\W/g, "");
    const file = join(fixtures, "..", `lab-tmp-${dir}.json`);
    writeFileSync(file, "{ not json");
    t.after(() => rmSync(file, { force: true }));
    assert.throws(() => loadLabConfig(file), /lab-tmp-.*\.json: not valid JSON/);
  });
});

function loadLabConfigRaw(): Record<string, unknown> {
  return JSON.parse(readFileSync(labJson, "utf8"));
}

describe("log store", () => {
  it("keeps events per function and stream, filters by time, follows, and stays bounded", () => {
    const store = new LogStore({ maxEventsPerFunction: 10 });
    const seen: string[] = [];
    const off = store.subscribe((e) => seen.push(`${e.logGroupName} ${e.message}`));
    store.write("f", "s1", "one", 1000);
    store.write("f", "s2", "two", 2000);
    store.write("g", "s1", "other", 1500);
    off();
    store.write("f", "s1", "three", 3000);
    assert.deepEqual(seen, ["/aws/lambda/f one", "/aws/lambda/f two", "/aws/lambda/g other"]);
    assert.deepEqual(
      store.events("f", { sinceMs: 2000 }).map((e) => e.message),
      ["two", "three"],
    );
    assert.deepEqual(
      store.events("f", { logStreamName: "s1" }).map((e) => e.message),
      ["one", "three"],
    );
    assert.deepEqual(store.streams("f"), ["s1", "s2"]);
    for (let i = 0; i < 20; i++) store.write("f", "s1", `n${i}`, 4000 + i);
    const kept = store.events("f");
    assert.ok(kept.length <= 10);
    assert.equal(kept.at(-1)?.message, "n19");
  });
});

describe("function pool", () => {
  const spec = () => loadLabConfig(labJson).functions[0]!;
  const services: LabServices = { extraEnvironment: {} };

  it("gives concurrent invocations separate environments, then reuses warm ones", async () => {
    const factory = new FakeFactory();
    const pool = new FunctionPool({
      spec: spec(),
      factory,
      services,
      logSink: new LogStore(),
      idleTimeoutMs: 60_000,
    });
    const g = factory.gate("three");
    const running = [1, 2, 3].map((i) => pool.invoke(input({ hold: "three" }, `r${i}`)));
    assert.equal(pool.stats().busy, 3);
    g.open();
    await Promise.all(running);
    assert.deepEqual(pool.stats(), { environments: 3, idle: 3, busy: 0, created: 3, queued: 0 });
    await pool.invoke(input({}));
    await pool.invoke(input({}));
    assert.equal(pool.stats().created, 3, "warm environments reused");
    await pool.stop();
    assert.equal(pool.stats().environments, 0);
    assert.ok(factory.created.every((e) => e.state === "dead"));
  });

  it("throttles beyond reserved concurrency; Event invocations wait for a slot", async () => {
    const factory = new FakeFactory();
    const pool = new FunctionPool({
      spec: { ...spec(), reservedConcurrency: 1 },
      factory,
      services,
      logSink: new LogStore(),
      idleTimeoutMs: 60_000,
    });
    const g = factory.gate("one");
    const first = pool.invoke(input({ hold: "one" }));
    await assert.rejects(pool.invoke(input({})), TooManyRequestsError);
    const queued = pool.invokeInBackground(input({ echo: "later" }));
    assert.equal(pool.stats().queued, 1);
    g.open();
    await first;
    const report = await queued;
    assert.equal(report?.outcome.kind, "response");
    assert.equal(pool.stats().created, 1);
    await pool.stop();
  });

  it("records every request: cold start, errors, throttles, concurrency", async () => {
    const factory = new FakeFactory();
    const records: InvocationRecord[] = [];
    const pool = new FunctionPool({
      spec: { ...spec(), reservedConcurrency: 2 },
      factory,
      services,
      logSink: new LogStore(),
      idleTimeoutMs: 60_000,
      onInvocation: (r) => records.push(r),
    });
    const g = factory.gate("two");
    const running = [pool.invoke(input({ hold: "two" })), pool.invoke(input({ hold: "two", throw: "x" }))];
    await assert.rejects(pool.invoke(input({})), TooManyRequestsError);
    g.open();
    await Promise.all(running);
    await pool.invoke(input({}));
    await pool.stop();
    const summary = records.map((r) => ({
      throttled: r.throttled,
      error: r.error,
      cold: r.initDurationMs !== undefined,
      concurrent: r.concurrent,
    }));
    assert.deepEqual(summary, [
      { throttled: true, error: false, cold: false, concurrent: 2 },
      { throttled: false, error: false, cold: true, concurrent: 1 },
      { throttled: false, error: true, cold: true, concurrent: 2 },
      { throttled: false, error: false, cold: false, concurrent: 1 },
    ]);
    assert.ok(records.every((r) => r.functionName === "node-echo" && r.startMs > 0));
  });

  it("shuts idle environments down after the idle timeout and discards dead ones", async () => {
    const factory = new FakeFactory();
    const timers = new ManualTimers();
    const pool = new FunctionPool({
      spec: spec(),
      factory,
      services,
      logSink: new LogStore(),
      idleTimeoutMs: 1000,
      timers,
    });
    await pool.invoke(input({}));
    assert.equal(timers.pending.size, 1);
    timers.fireAll();
    assert.deepEqual(factory.created[0]?.shutdowns, ["spindown"]);
    assert.equal(pool.stats().environments, 0);
    await pool.invoke(input({ die: true }));
    assert.equal(pool.stats().environments, 0, "dead environment discarded");
    await pool.invoke(input({}));
    assert.equal(pool.stats().created, 3);
    await pool.stop();
  });
});

describe("Lambda API (fake environments, real SDK client)", () => {
  let lab: Lab;
  let client: LambdaClient;
  const factory = new FakeFactory();
  before(async () => {
    lab = await startLab(labJson, { environmentFactory: factory });
    client = new LambdaClient({
      endpoint: lab.endpoints.lambda,
      region: "us-east-1",
      credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "secret" },
      maxAttempts: 1,
    });
  });
  after(async () => {
    client?.destroy();
    await lab?.stop();
  });

  it("listens on 127.0.0.1 and injects S3 endpoint, credentials and region into environments", async () => {
    assert.match(lab.endpoints.lambda, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(lab.endpoints.s3, /^http:\/\/127\.0\.0\.1:\d+$/);
    await client.send(new InvokeCommand({ FunctionName: "node-echo", Payload: "{}" }));
    const env = factory.lastServices?.extraEnvironment ?? {};
    assert.equal(env.AWS_ENDPOINT_URL_S3, lab.endpoints.s3);
    assert.equal(env.AWS_ENDPOINT_URL_LAMBDA, lab.endpoints.lambda);
    assert.equal(env.AWS_ACCESS_KEY_ID, "S3RVER");
    assert.ok(env.FAULTLINE_LAB_OWNER);
  });

  it("Invoke: payload round trip, executed version, log tail of at most 4 KB", async () => {
    const out = await client.send(
      new InvokeCommand({
        FunctionName: "node-echo",
        Payload: JSON.stringify({ echo: 1, logBytes: 10_000 }),
        LogType: "Tail",
      }),
    );
    assert.equal(out.StatusCode, 200);
    assert.equal(out.ExecutedVersion, "$LATEST");
    assert.equal(out.FunctionError, undefined);
    assert.deepEqual(JSON.parse(Buffer.from(out.Payload!).toString()), { echo: 1, logBytes: 10_000 });
    const tail = Buffer.from(out.LogResult!, "base64");
    assert.equal(tail.length, 4096);
    assert.match(tail.toString(), /END RequestId: [0-9a-f-]{36}\n$/);
  });

  it("Invoke: function error → FunctionError Unhandled with Lambda's payload", async () => {
    const out = await client.send(
      new InvokeCommand({ FunctionName: "node-echo", Payload: '{"throw":"boom"}' }),
    );
    assert.equal(out.StatusCode, 200);
    assert.equal(out.FunctionError, "Unhandled");
    assert.equal(JSON.parse(Buffer.from(out.Payload!).toString()).errorMessage, "boom");
  });

  it("Invoke: names, partial ARNs, ARNs and qualifiers", async () => {
    const arn = "arn:aws:lambda:us-east-1:123456789012:function:node-echo";
    for (const name of [
      "node-echo",
      "123456789012:function:node-echo",
      arn,
      `${arn}:$LATEST`,
      "node-echo:$LATEST",
    ]) {
      const out = await client.send(new InvokeCommand({ FunctionName: name, Payload: "{}" }));
      assert.equal(out.StatusCode, 200, name);
    }
    const env = factory.created.at(-1)!;
    assert.equal(env.invocations.at(-1)?.invokedFunctionArn, `${arn}:$LATEST`);
    const out = await client.send(
      new InvokeCommand({ FunctionName: arn, Qualifier: "$LATEST", Payload: "{}" }),
    );
    assert.equal(out.StatusCode, 200);
    // An alias from the config: same function, the invoked ARN carries the alias.
    const viaAlias = await client.send(new InvokeCommand({ FunctionName: "node-echo:live", Payload: "{}" }));
    assert.equal(viaAlias.ExecutedVersion, "$LATEST");
    assert.equal(factory.created.at(-1)!.invocations.at(-1)?.invokedFunctionArn, `${arn}:live`);
    await assert.rejects(client.send(new InvokeCommand({ FunctionName: "node-echo", Qualifier: "v1" })), {
      name: "ResourceNotFoundException",
      message: "Function not found: arn:aws:lambda:us-east-1:123456789012:function:node-echo:v1",
    });
    await assert.rejects(
      client.send(
        new InvokeCommand({ FunctionName: "arn:aws:lambda:eu-west-1:123456789012:function:node-echo" }),
      ),
      {
        name: "ResourceNotFoundException",
      },
    );
  });

  it("unknown function → ResourceNotFoundException 404 as Lambda returns it", async () => {
    await assert.rejects(
      client.send(new InvokeCommand({ FunctionName: "nope" })),
      (error: Error & Record<string, unknown>) => {
        assert.equal(error.name, "ResourceNotFoundException");
        assert.equal(
          error.message,
          "Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope",
        );
        assert.equal(error.Type, "User");
        assert.equal((error.$metadata as { httpStatusCode: number }).httpStatusCode, 404);
        return true;
      },
    );
    const raw = await rawRequest(lab.endpoints.lambda, "GET", "/2015-03-31/functions/nope");
    assert.equal(raw.status, 404);
    assert.equal(raw.headers["x-amzn-errortype"], "ResourceNotFoundException");
    assert.deepEqual(JSON.parse(raw.body), {
      Type: "User",
      Message: "Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope",
    });
  });

  it("Invoke: 6 MB request limit → RequestEntityTooLargeException 413", async () => {
    const payload = JSON.stringify({ pad: "x".repeat(6 * 1024 * 1024) });
    await assert.rejects(
      client.send(new InvokeCommand({ FunctionName: "node-echo", Payload: payload })),
      (error: Error) => {
        assert.equal(error.name, "RequestEntityTooLargeException");
        assert.match(
          error.message,
          /Request must be smaller than 6291456 bytes for the InvokeFunction operation/,
        );
        assert.equal(
          (error as unknown as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode,
          413,
        );
        return true;
      },
    );
  });

  it("Invoke: Event → 202 and runs in the background; DryRun → 204 and does not run", async () => {
    const before = lab.logs.events("shell-echo").length;
    const dry = await client.send(
      new InvokeCommand({ FunctionName: "shell-echo", InvocationType: "DryRun" }),
    );
    assert.equal(dry.StatusCode, 204);
    assert.equal(lab.logs.events("shell-echo").length, before);
    const seen = new Promise<void>((resolve) => {
      const off = lab.logs.subscribe((e) => {
        if (e.functionName === "shell-echo" && e.message.startsWith("END")) {
          off();
          resolve();
        }
      });
    });
    const out = await client.send(
      new InvokeCommand({ FunctionName: "shell-echo", InvocationType: "Event", Payload: "{}" }),
    );
    assert.equal(out.StatusCode, 202);
    await seen;
    assert.ok(lab.logs.events("shell-echo").length > before);
    assert.equal(lab.logs.streams("shell-echo").length, 1);
  });

  it("reserved concurrency 1 → 429 TooManyRequestsException for the second concurrent call", async () => {
    const g = factory.gate("single");
    const first = client.send(new InvokeCommand({ FunctionName: "single", Payload: '{"hold":"single"}' }));
    while (lab.pool("single")?.stats().busy !== 1) await new Promise((r) => setImmediate(r));
    await assert.rejects(
      client.send(new InvokeCommand({ FunctionName: "single", Payload: "{}" })),
      (error: Error & Record<string, unknown>) => {
        assert.equal(error.name, "TooManyRequestsException");
        assert.equal(error.Reason, "ReservedFunctionConcurrentInvocationLimitExceeded");
        assert.equal((error.$metadata as { httpStatusCode: number }).httpStatusCode, 429);
        return true;
      },
    );
    g.open();
    assert.equal((await first).StatusCode, 200);
  });

  it("InvokeWithResponseStream: PayloadChunk events then InvokeComplete", async () => {
    const out = await client.send(
      new InvokeWithResponseStreamCommand({
        FunctionName: "node-echo",
        Payload: '{"stream":true}',
        LogType: "Tail",
      }),
    );
    assert.equal(out.StatusCode, 200);
    assert.equal(out.ExecutedVersion, "$LATEST");
    let text = "";
    let complete: Record<string, unknown> | undefined;
    for await (const event of out.EventStream!) {
      if (event.PayloadChunk?.Payload) text += Buffer.from(event.PayloadChunk.Payload).toString();
      if (event.InvokeComplete) complete = event.InvokeComplete as Record<string, unknown>;
    }
    assert.equal(text, "one,two");
    assert.ok(complete);
    assert.equal(complete.ErrorCode, undefined);
    assert.ok(typeof complete.LogResult === "string");
  });

  it("bad requests: non-JSON payload, mismatched qualifiers, bad invocation type, unknown operation", async () => {
    await assert.rejects(client.send(new InvokeCommand({ FunctionName: "node-echo", Payload: "{nope" })), {
      name: "InvalidRequestContentException",
    });
    await assert.rejects(
      client.send(new InvokeCommand({ FunctionName: "node-echo:$LATEST", Qualifier: "v2" })),
      {
        name: "InvalidParameterValueException",
        message: "The derived qualifier from the function name does not match the specified qualifier.",
      },
    );
    const badType = await rawRequest(
      lab.endpoints.lambda,
      "POST",
      "/2015-03-31/functions/node-echo/invocations",
      {
        "x-amz-invocation-type": "Sometimes",
      },
    );
    assert.equal(badType.status, 400);
    assert.equal(badType.headers["x-amzn-errortype"], "InvalidParameterValueException");
    const unknown = await rawRequest(lab.endpoints.lambda, "DELETE", "/2015-03-31/functions/node-echo");
    assert.equal(unknown.status, 404);
    assert.equal(unknown.headers["x-amzn-errortype"], "UnknownOperationException");
    assert.equal(JSON.parse(unknown.body).Type, "User");
  });

  it("passes request id, client context and the invoked ARN to the environment", async () => {
    const clientContext = Buffer.from(JSON.stringify({ custom: { a: 1 } })).toString("base64");
    const out = await client.send(
      new InvokeCommand({
        FunctionName: "123456789012:function:shell-echo",
        ClientContext: clientContext,
        Payload: "{}",
      }),
    );
    const sent = factory.created
      .filter((e) => e.spec.name === "shell-echo")
      .at(-1)!
      .invocations.at(-1)!;
    // Lambda decodes the base64: the runtime gets the JSON (API_Invoke ClientContext).
    assert.equal(sent.clientContext, JSON.stringify({ custom: { a: 1 } }));
    assert.equal(sent.invokedFunctionArn, "arn:aws:lambda:us-east-1:123456789012:function:shell-echo");
    assert.match(sent.traceId, /^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/);
    assert.match(sent.requestId, /^[0-9a-f-]{36}$/);
    assert.equal(out.$metadata.requestId, sent.requestId, "x-amzn-RequestId is the invocation's request id");
  });

  it("ListFunctions paginates with Marker/MaxItems", async () => {
    const first = await client.send(new ListFunctionsCommand({ MaxItems: 2 }));
    assert.deepEqual(
      first.Functions?.map((f) => f.FunctionName),
      ["node-echo", "shell-echo"],
    );
    assert.ok(first.NextMarker);
    const second = await client.send(new ListFunctionsCommand({ MaxItems: 2, Marker: first.NextMarker }));
    assert.deepEqual(
      second.Functions?.map((f) => f.FunctionName),
      ["single"],
    );
    assert.equal(second.NextMarker, undefined);
  });

  it("ListAliases / GetAlias: the config's aliases, each on $LATEST", async () => {
    const arn = "arn:aws:lambda:us-east-1:123456789012:function:node-echo";
    const listed = await client.send(new ListAliasesCommand({ FunctionName: "node-echo" }));
    assert.deepEqual(
      listed.Aliases?.map((a) => [a.Name, a.AliasArn, a.FunctionVersion]),
      [["live", `${arn}:live`, "$LATEST"]],
    );
    const one = await client.send(new GetAliasCommand({ FunctionName: arn, Name: "live" }));
    assert.equal(one.AliasArn, `${arn}:live`);
    assert.deepEqual((await client.send(new ListAliasesCommand({ FunctionName: "shell-echo" }))).Aliases, []);
    await assert.rejects(client.send(new GetAliasCommand({ FunctionName: "node-echo", Name: "prod" })), {
      name: "ResourceNotFoundException",
    });
  });

  it("GetFunction / GetFunctionConfiguration / ListTags", async () => {
    const fn = await client.send(new GetFunctionCommand({ FunctionName: "node-echo" }));
    const c = fn.Configuration!;
    assert.equal(c.FunctionArn, "arn:aws:lambda:us-east-1:123456789012:function:node-echo");
    assert.equal(c.Runtime, "nodejs20.x");
    assert.equal(c.Handler, "index.handler");
    assert.equal(c.Timeout, 2);
    assert.equal(c.MemorySize, 128);
    assert.equal(c.Version, "$LATEST");
    assert.deepEqual(c.Environment?.Variables, { GREETING: "hello" });
    assert.equal(c.Layers?.[0]?.Arn, "arn:aws:lambda:us-east-1:123456789012:layer:layer-a:1");
    assert.ok((c.CodeSize ?? 0) > 0);
    assert.match(c.LastModified ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
    assert.deepEqual(fn.Tags, { team: "chaos" });
    const single = await client.send(new GetFunctionCommand({ FunctionName: "single" }));
    assert.equal(single.Concurrency?.ReservedConcurrentExecutions, 1);
    const conf = await client.send(new GetFunctionConfigurationCommand({ FunctionName: "shell-echo" }));
    assert.equal(conf.Runtime, "provided.al2023");
    assert.equal(conf.LoggingConfig?.LogGroup, "/aws/lambda/shell-echo");
    const tags = await client.send(new ListTagsCommand({ Resource: c.FunctionArn }));
    assert.deepEqual(tags.Tags, { team: "chaos" });
    await assert.rejects(
      client.send(new ListTagsCommand({ Resource: "arn:aws:lambda:us-east-1:123456789012:function:zz" })),
      {
        name: "ResourceNotFoundException",
      },
    );
  });

  it("a port in use → startLab rejects and undoes what it started", async () => {
    const { createServer } = await import("node:net");
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const raw = JSON.parse(readFileSync(labJson, "utf8"));
      raw.ports = { lambda: port, s3: 0 };
      const servers = () => process.getActiveResourcesInfo().filter((r) => r === "TCPServerWrap").length;
      const before = servers();
      await assert.rejects(startLab(raw, { environmentFactory: factory, baseDir: fixtures }), {
        code: "EADDRINUSE",
      });
      // Closed handles leave the active list on a later loop turn: give it a few turns, not wall-clock time.
      for (let turn = 0; turn < 10 && servers() !== before; turn++) await new Promise((r) => setImmediate(r));
      assert.equal(servers(), before, "the S3 server started first was closed again");
    } finally {
      blocker.close();
    }
  });

  // Lambda quotas: "Concurrent executions" is per account and Region, shared by every function; beyond it Invoke
  // gets 429 TooManyRequestsException, Reason ConcurrentInvocationLimitExceeded (Lambda API reference, Invoke).
  it("the account concurrency limit is shared by every function: beyond it 429 ConcurrentInvocationLimitExceeded; Event calls wait", async () => {
    const raw = JSON.parse(readFileSync(labJson, "utf8"));
    raw.concurrentExecutions = 2;
    const small = await startLab(raw, { environmentFactory: factory, baseDir: fixtures });
    const sdk = new LambdaClient({
      endpoint: small.endpoints.lambda,
      region: "us-east-1",
      credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "secret" },
      maxAttempts: 1,
    });
    try {
      const g = factory.gate("account");
      const held = ["node-echo", "shell-echo"].map((FunctionName) =>
        sdk.send(new InvokeCommand({ FunctionName, Payload: '{"hold":"account"}' })),
      );
      const busy = () => ["node-echo", "shell-echo"].map((n) => small.pool(n)!.stats().busy);
      while (busy().join() !== "1,1") await new Promise((r) => setImmediate(r));
      await assert.rejects(
        sdk.send(new InvokeCommand({ FunctionName: "node-echo", Payload: "{}" })),
        (error: Error & Record<string, unknown>) => {
          assert.equal(error.name, "TooManyRequestsException");
          assert.equal(error.Reason, "ConcurrentInvocationLimitExceeded");
          assert.equal((error.$metadata as { httpStatusCode: number }).httpStatusCode, 429);
          return true;
        },
      );
      const queued = await sdk.send(
        new InvokeCommand({ FunctionName: "single", InvocationType: "Event", Payload: '{"queued":1}' }),
      );
      assert.equal(queued.StatusCode, 202);
      assert.equal(small.pool("single")!.stats().busy, 0, "the Event call waits for the account");
      g.open();
      for (const r of await Promise.all(held)) assert.equal(r.StatusCode, 200);
      while (!factory.created.some((e) => e.invocations.some((i) => i.payload.toString() === '{"queued":1}')))
        await new Promise((r) => setImmediate(r));
    } finally {
      sdk.destroy();
      await small.stop();
    }
  });

  it("environments alive (idle ones too) stay within the account limit: a new one retires the least recently used idle one", async () => {
    const raw = JSON.parse(readFileSync(labJson, "utf8"));
    raw.concurrentExecutions = 2;
    const small = await startLab(raw, { environmentFactory: factory, baseDir: fixtures });
    try {
      const invoke = (name: string) =>
        fetch(`${small.endpoints.lambda}/2015-03-31/functions/${name}/invocations`, {
          method: "POST",
          body: "{}",
        });
      const first = factory.created.length;
      for (const name of ["node-echo", "shell-echo", "single"])
        assert.equal((await invoke(name)).status, 200);
      const mine = factory.created.slice(first);
      assert.equal(mine.length, 3);
      assert.deepEqual(
        mine.map((e) => e.shutdowns),
        [["spindown"], [], []],
        "the oldest idle environment made room",
      );
      assert.equal(small.pool("node-echo")!.stats().environments, 0);
    } finally {
      await small.stop();
    }
  });

  it("the account concurrency limit defaults to 16 and is validated", () => {
    const raw = JSON.parse(readFileSync(labJson, "utf8"));
    assert.equal(parseLabConfig(raw, { file: "lab.json", baseDir: fixtures }).concurrentExecutions, 16);
    raw.concurrentExecutions = 0;
    assert.throws(
      () => parseLabConfig(raw, { file: "lab.json", baseDir: fixtures }),
      /lab\.json: concurrentExecutions: must be a number between 1 and 1000/,
    );
  });

  it("start-up removes the scratch dirs of labs that were SIGKILLed (dead pid only), before any invocation", async () => {
    const dead = spawnSync(process.execPath, ["-e", ""]).pid;
    assert.ok(dead);
    const abandoned = join(tmpdir(), `faultline-lab-${dead}-test`);
    const alive = join(tmpdir(), "faultline-lab-1-test"); // pid 1 is always alive
    for (const d of [abandoned, alive]) mkdirSync(join(d, "layers"), { recursive: true });
    try {
      const extra = await startLab(labJson, { environmentFactory: factory });
      await extra.stop();
      assert.equal(existsSync(abandoned), false, "a dead lab's scratch dir is swept at start-up");
      assert.equal(existsSync(alive), true, "a live process's dir is left alone");
    } finally {
      for (const d of [abandoned, alive]) rmSync(d, { recursive: true, force: true });
    }
  });

  it("stop() shuts every environment down and closes the servers", async () => {
    const extra = await startLab(labJson, { environmentFactory: factory });
    const created = factory.created.length;
    await fetch(`${extra.endpoints.lambda}/2015-03-31/functions/node-echo/invocations`, {
      method: "POST",
      body: "{}",
    });
    assert.equal(factory.created.length, created + 1);
    await extra.stop();
    assert.equal(factory.created.at(-1)?.state, "dead");
    await assert.rejects(fetch(`${extra.endpoints.lambda}/2015-03-31/functions`));
    await assert.rejects(fetch(extra.endpoints.s3));
  });
});

function rawRequest(base: string, method: string, path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const req = request(`${base}${path}`, { method, headers }, (res) => {
        let body = "";
        res.on("data", (c) => {
          body += c;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on("error", reject);
      req.end();
    },
  );
}
