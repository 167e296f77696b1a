/**
 * The lab end to end with real components: the real environment factory (official aws-lambda-ric, a shell
 * bootstrap), real HTTP, the lab's S3, @aws-sdk/client-lambda, @aws-sdk/client-s3 and the AWS CLI v2
 * (/usr/bin/aws).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { InvokeCommand, InvokeWithResponseStreamCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { awsCliV2 } from "../../testing/src/index.ts";
import { type InvocationRecord, type Lab, LabConfigError, startLab, type Timers } from "../src/index.ts";

const run = promisify(execFile);
const labJson = join(import.meta.dirname, "fixtures", "lab-acceptance", "lab.json");

const text = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? []).toString("utf8");
const json = (bytes: Uint8Array | undefined) => JSON.parse(text(bytes));

/** Idle expiry fired by the test, not by the clock. */
class ManualTimers implements Timers {
  readonly pending = new Map<number, () => void>();
  #next = 0;
  setTimeout(fn: () => void): unknown {
    this.#next += 1;
    this.pending.set(this.#next, fn);
    return this.#next;
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
const idleTimers = new ManualTimers();

describe("lab acceptance (real environments)", () => {
  let lab: Lab;
  let lambda: LambdaClient;
  before(async () => {
    lab = await startLab(labJson, { timers: idleTimers });
    lambda = new LambdaClient({
      endpoint: lab.endpoints.lambda,
      region: "us-east-1",
      credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "secret" },
      maxAttempts: 1,
    });
  });
  after(async () => {
    lambda?.destroy();
    await lab?.stop();
  });

  const invoke = (FunctionName: string, payload: unknown, extra: Partial<{ LogType: "Tail" }> = {}) =>
    lambda.send(new InvokeCommand({ FunctionName, Payload: JSON.stringify(payload), ...extra }));

  for (const fn of ["node-echo", "shell-echo"]) {
    it(`${fn}: payload round trip through the SDK`, async () => {
      const out = await invoke(fn, { echo: "round trip ✓" });
      assert.equal(out.StatusCode, 200);
      assert.equal(out.FunctionError, undefined);
      assert.equal(out.ExecutedVersion, "$LATEST");
      assert.equal(json(out.Payload).echo, "round trip ✓");
    });
  }

  it("node: the function sees Lambda's variables, its own, and the lab's S3 endpoint", async () => {
    const out = await invoke("node-echo", {});
    const body = json(out.Payload);
    assert.deepEqual(body.env, {
      GREETING: "hi",
      AWS_ENDPOINT_URL_S3: lab.endpoints.s3,
      AWS_REGION: "us-east-1",
    });
    assert.equal(body.functionArn, "arn:aws:lambda:us-east-1:123456789012:function:node-echo");
  });

  it("handler exception → FunctionError Unhandled (node and shell)", async () => {
    const node = await invoke("node-echo", { throw: "kaboom" });
    assert.equal(node.FunctionError, "Unhandled");
    assert.equal(json(node.Payload).errorMessage, "kaboom");
    const shell = await invoke("shell-echo", { throw: 1 });
    assert.equal(shell.FunctionError, "Unhandled");
    assert.equal(json(shell.Payload).errorType, "Shell.Error");
  });

  it("timeout → FunctionError with Lambda's message, then the function works again", async () => {
    for (const [fn, payload] of [
      ["node-echo", { sleepMs: 3000 }],
      ["shell-echo", { sleep: 3 }],
    ] as const) {
      const out = await invoke(fn, payload);
      assert.equal(out.FunctionError, "Unhandled", fn);
      assert.match(text(out.Payload), /Task timed out after 1(\.00)? seconds/, fn);
      const again = await invoke(fn, { echo: "after timeout" });
      assert.equal(json(again.Payload).echo, "after timeout", fn);
    }
  });

  it("init error → FunctionError with the init failure", async () => {
    const out = await invoke("node-init-error", {});
    assert.equal(out.FunctionError, "Unhandled");
    assert.match(text(out.Payload), /init failed on purpose/);
  });

  // API_Invoke: ClientContext is up to 3,583 bytes of base64 JSON; the function gets it decoded in its context.
  it("client context: decoded JSON in context.clientContext (SDK); bad base64/JSON and over 3583 bytes refused", async () => {
    const clientContext = { custom: { tenant: "t-1", city: "Zürich" }, env: { locale: "de_CH" } };
    const out = await lambda.send(
      new InvokeCommand({
        FunctionName: "node-echo",
        Payload: JSON.stringify({ echo: "cc" }),
        ClientContext: Buffer.from(JSON.stringify(clientContext)).toString("base64"),
      }),
    );
    assert.equal(out.FunctionError, undefined, text(out.Payload));
    assert.deepEqual(json(out.Payload).clientContext, clientContext);
    const refusal = {
      name: "InvalidRequestContentException",
      message: "Client context must be a valid Base64-encoded JSON object.",
    };
    for (const bad of [
      "not base64!",
      Buffer.from("not json").toString("base64"),
      Buffer.from("[1]").toString("base64"),
    ]) {
      await assert.rejects(
        lambda.send(new InvokeCommand({ FunctionName: "node-echo", Payload: "{}", ClientContext: bad })),
        refusal,
        bad,
      );
    }
    const big = Buffer.from(JSON.stringify({ custom: { pad: "x".repeat(2700) } })).toString("base64");
    assert.ok(big.length > 3583);
    await assert.rejects(
      lambda.send(new InvokeCommand({ FunctionName: "node-echo", Payload: "{}", ClientContext: big })),
      { name: "InvalidRequestContentException", message: /3583/ },
    );
    const limit = Buffer.from(JSON.stringify({ custom: { pad: "y".repeat(2660) } })).toString("base64");
    assert.ok(limit.length <= 3583, `${limit.length}`);
    const atLimit = await lambda.send(
      new InvokeCommand({ FunctionName: "node-echo", Payload: "{}", ClientContext: limit }),
    );
    assert.equal(json(atLimit.Payload).clientContext.custom.pad.length, 2660);
  });

  it("6 MB request limit → RequestEntityTooLargeException", async () => {
    await assert.rejects(invoke("node-echo", { pad: "x".repeat(6 * 1024 * 1024) }), {
      name: "RequestEntityTooLargeException",
    });
  });

  it("log tail: the invocation's own log lines, base64, at most 4 KB", async () => {
    const out = await invoke("node-echo", { log: "a line from the handler" }, { LogType: "Tail" });
    const log = Buffer.from(out.LogResult ?? "", "base64").toString("utf8");
    assert.ok(Buffer.byteLength(log) <= 4096);
    assert.match(log, /a line from the handler/);
    assert.match(log, /END RequestId: [0-9a-f-]{36}/);
    assert.match(log, /REPORT RequestId: [0-9a-f-]{36}\tDuration: [\d.]+ ms/);
    // The same lines are in the log store, under the function's group.
    const stored = lab.logs.events("node-echo").map((e) => e.message);
    assert.ok(stored.some((m) => m.includes("a line from the handler")));
  });

  it("Event invocation → 202 at once, the function runs in the background", async () => {
    const marker = `event-${Date.now()}`;
    const ran = new Promise<void>((resolve) => {
      const off = lab.logs.subscribe((e) => {
        if (e.functionName === "node-echo" && e.message.includes(marker)) {
          off();
          resolve();
        }
      });
    });
    const out = await lambda.send(
      new InvokeCommand({
        FunctionName: "node-echo",
        InvocationType: "Event",
        Payload: JSON.stringify({ log: marker }),
      }),
    );
    assert.equal(out.StatusCode, 202);
    await ran;
  });

  it("InvokeWithResponseStream: chunks as the handler writes them, then InvokeComplete (errors too)", async () => {
    const read = async (payload: unknown) => {
      const out = await lambda.send(
        new InvokeWithResponseStreamCommand({
          FunctionName: "node-stream",
          Payload: JSON.stringify(payload),
        }),
      );
      assert.equal(out.StatusCode, 200);
      const chunks: string[] = [];
      let complete: { ErrorCode?: string; ErrorDetails?: string } | undefined;
      for await (const event of out.EventStream ?? []) {
        if (event.PayloadChunk?.Payload) chunks.push(text(event.PayloadChunk.Payload));
        if (event.InvokeComplete) complete = event.InvokeComplete;
      }
      return { body: chunks.join(""), complete };
    };
    const ok = await read({ parts: ["x", "y", "z"] });
    assert.equal(ok.body, "xyz");
    assert.deepEqual(ok.complete, {});
    const failed = await read({ parts: ["a"], fail: true });
    assert.equal(failed.body, "a");
    assert.equal(failed.complete?.ErrorCode, "Error");
    assert.match(failed.complete?.ErrorDetails ?? "", /stream failed on purpose/);
    // A plain Invoke of a streaming function gets the whole body.
    const buffered = await invoke("node-stream", { parts: ["1", "2"] });
    assert.equal(text(buffered.Payload), "12");
  });

  it("10 concurrent invocations → at most 10 environments, then warm reuse", async () => {
    const pool = lab.pool("node-echo")!;
    const before = pool.stats().created;
    const batch = () =>
      Promise.all(Array.from({ length: 10 }, (_, i) => invoke("node-echo", { sleepMs: 200, echo: i })));
    const first = await batch();
    assert.ok(first.every((o) => o.FunctionError === undefined));
    const afterFirst = pool.stats().created;
    assert.ok(afterFirst - before <= 10, `created ${afterFirst - before} environments`);
    assert.ok(pool.stats().environments <= 10 + before);
    assert.equal(new Set(first.map((o) => json(o.Payload).requestId)).size, 10);
    await batch();
    // Warm reuse: both batches together need at most 10 environments. (Not "none new in the second": a call of
    // the first batch that arrives late may reuse an environment already answered, leaving the second one short.)
    const created = pool.stats().created - before;
    assert.ok(created <= 10, `second batch reused warm environments (${created} created in all)`);
  });

  it("reserved concurrency 1 → 429 for the second concurrent call", async () => {
    const records: InvocationRecord[] = [];
    const off = lab.onInvocation((r) => {
      if (r.functionName === "single") records.push(r);
    });
    const first = invoke("single", { sleepMs: 1500 });
    const pool = lab.pool("single")!;
    while (pool.stats().busy === 0) await new Promise((r) => setImmediate(r));
    await assert.rejects(invoke("single", {}), (error: Error & { Reason?: string }) => {
      assert.equal(error.name, "TooManyRequestsException");
      assert.equal(error.Reason, "ReservedFunctionConcurrentInvocationLimitExceeded");
      return true;
    });
    assert.equal((await first).StatusCode, 200);
    off();
    assert.deepEqual(
      records.map((r) => [r.throttled, r.error]),
      [
        [true, false],
        [false, false],
      ],
      "the throttle and the run are both recorded (for Throttles / Invocations metrics)",
    );
    assert.ok((records[1]?.durationMs ?? 0) >= 1500);
  });

  it("S3: configured buckets exist, objects round trip, truncated listings page", async () => {
    const s3 = new S3Client({
      endpoint: lab.endpoints.s3,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
      requestChecksumCalculation: "WHEN_REQUIRED",
    });
    try {
      await s3.send(new PutObjectCommand({ Bucket: "faults", Key: "a/b.json", Body: '{"ok":true}' }));
      const got = await s3.send(new GetObjectCommand({ Bucket: "faults", Key: "a/b.json" }));
      assert.equal(await got.Body?.transformToString(), '{"ok":true}');
      // Truncated listings page through continuation tokens.
      for (const key of ["p/1", "p/2", "p/3"])
        await s3.send(new PutObjectCommand({ Bucket: "data", Key: key, Body: "x" }));
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await s3.send(
          new ListObjectsV2Command({ Bucket: "data", MaxKeys: 2, ContinuationToken: token }),
        );
        keys.push(...(page.Contents ?? []).map((o) => o.Key ?? ""));
        token = page.NextContinuationToken;
      } while (token);
      assert.deepEqual(keys, ["p/1", "p/2", "p/3"]);
    } finally {
      s3.destroy();
    }
  });

  it("idle environments are shut down when their idle time expires; the next call starts a new one", async () => {
    const pool = lab.pool("shell-echo")!;
    await invoke("shell-echo", { warm: 1 });
    const created = pool.stats().created;
    assert.ok(pool.stats().idle >= 1);
    idleTimers.fireAll();
    while (pool.stats().environments > 0) await new Promise((r) => setImmediate(r));
    assert.equal(json((await invoke("shell-echo", { echo: "cold again" })).Payload).echo, "cold again");
    assert.equal(pool.stats().created, created + 1);
  });

  describe("AWS CLI v2", { skip: awsCliV2.skip }, () => {
    const env = {
      ...process.env,
      AWS_ACCESS_KEY_ID: "AKIDTEST",
      AWS_SECRET_ACCESS_KEY: "secret",
      AWS_DEFAULT_REGION: "us-east-1",
      AWS_PAGER: "",
    };
    const aws = (...args: string[]) =>
      run(awsCliV2.require(), ["--endpoint-url", lab.endpoints.lambda, "--output", "json", ...args], { env });

    it("lambda invoke: round trip, log tail, function error (node and shell)", async (t) => {
      const dir = t.name.replace(/\W/g, "");
      const outFile = join("/tmp", `faultline-lab-cli-${process.pid}-${dir}.json`);
      t.after(() => rmSync(outFile, { force: true }));
      const ok = await aws(
        "lambda",
        "invoke",
        "--function-name",
        "node-echo",
        "--cli-binary-format",
        "raw-in-base64-out",
        "--payload",
        '{"echo":"cli","log":"cli log line"}',
        "--log-type",
        "Tail",
        outFile,
      );
      const meta = JSON.parse(ok.stdout);
      assert.equal(meta.StatusCode, 200);
      assert.equal(meta.ExecutedVersion, "$LATEST");
      assert.match(Buffer.from(meta.LogResult, "base64").toString(), /cli log line/);
      assert.equal(JSON.parse(readFileSync(outFile, "utf8")).echo, "cli");
      const failed = await aws(
        "lambda",
        "invoke",
        "--function-name",
        "arn:aws:lambda:us-east-1:123456789012:function:shell-echo",
        "--cli-binary-format",
        "raw-in-base64-out",
        "--payload",
        '{"throw":1}',
        outFile,
      );
      assert.equal(JSON.parse(failed.stdout).FunctionError, "Unhandled");
      assert.equal(JSON.parse(readFileSync(outFile, "utf8")).errorType, "Shell.Error");
    });

    it("lambda invoke --client-context: the node function reads context.clientContext", async (t) => {
      const outFile = join("/tmp", `faultline-lab-cli-${process.pid}-client-context.json`);
      t.after(() => rmSync(outFile, { force: true }));
      const clientContext = { custom: { from: "aws cli v2" } };
      const meta = await aws(
        "lambda",
        "invoke",
        "--function-name",
        "node-echo",
        "--cli-binary-format",
        "raw-in-base64-out",
        "--payload",
        '{"echo":"cli"}',
        "--client-context",
        Buffer.from(JSON.stringify(clientContext)).toString("base64"),
        outFile,
      );
      assert.equal(JSON.parse(meta.stdout).FunctionError, undefined, readFileSync(outFile, "utf8"));
      assert.deepEqual(JSON.parse(readFileSync(outFile, "utf8")).clientContext, clientContext);
    });

    it("lambda get-function / list-functions / unknown function", async () => {
      const fn = JSON.parse((await aws("lambda", "get-function", "--function-name", "node-echo")).stdout);
      assert.deepEqual(fn.Configuration.Environment.Variables, { GREETING: "hi" });
      const list = JSON.parse((await aws("lambda", "list-functions", "--max-items", "10")).stdout);
      assert.deepEqual(
        list.Functions.map((f: { FunctionName: string }) => f.FunctionName),
        ["node-echo", "node-init-error", "node-stream", "shell-echo", "single"],
      );
      await assert.rejects(
        aws("lambda", "get-function", "--function-name", "nope"),
        (error: { stderr: string }) => {
          assert.match(
            error.stderr,
            /ResourceNotFoundException.*Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope/,
          );
          return true;
        },
      );
    });
  });
});

describe("lab startup", () => {
  it("bad config → LabConfigError naming the field, nothing started", async () => {
    await assert.rejects(
      startLab({ functions: [{ name: "x", runtime: "nodejs20.x", handler: "i.h", code: "/nonexistent" }] }),
      (error: unknown) => {
        assert.ok(error instanceof LabConfigError);
        assert.match(
          error.message,
          /^<inline config>: functions\[0\]\.code: not a directory: \/nonexistent$/,
        );
        return true;
      },
    );
  });
});
