/**
 * The in-process mode's parts: the native-client hook (fake client: unit), the preload's feature check and
 * NODE_OPTIONS hygiene, and the bash lifecycle against the lab's real Extensions API.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { ExtensionsApi } from "../../lab/src/extensions-api/index.ts";
import { startRuntimeApi } from "../../lab/src/runtime-api/index.ts";
import type { AnswerRule } from "../src/answer.ts";
import * as faultSide from "../src/in-process/fault-side.ts";
import { installInProcess } from "../src/in-process/index.ts";
import { hookNativeClient, type NextEvent } from "../src/in-process/native-client.ts";
import type { Plan } from "../src/injector.ts";
import { Logger } from "../src/log.ts";
import { activeFault, error, manualClock } from "./helpers/faults.ts";

const LIFECYCLE = fileURLToPath(new URL("../layer/lifecycle", import.meta.url));

function fakeClient(ids: string[]) {
  const posted: string[] = [];
  const client = {
    next: async (): Promise<NextEvent> => {
      const id = ids.shift();
      if (id === undefined) throw new Error("no more events");
      return { bodyJson: "{}", headers: { "lambda-runtime-aws-request-id": id } };
    },
    done: (id: string, body: string) => posted.push(`done ${id} ${body}`),
    error: (id: string, body: string) => posted.push(`error ${id} ${JSON.parse(body).errorType}`),
  };
  return { client, posted };
}

function hook(
  client: ReturnType<typeof fakeClient>["client"],
  plans: Array<Plan | Error>,
  beforeNext?: () => Promise<void> | undefined,
) {
  const lines: string[] = [];
  const clock = manualClock();
  const log = new Logger({
    level: "INFO",
    format: "text",
    metrics: false,
    functionName: "f",
    clock,
    write: (l) => lines.push(l),
  });
  hookNativeClient(client, {
    plan: async () => {
      const plan = plans.shift() ?? {};
      if (plan instanceof Error) throw plan;
      return plan;
    },
    onInjected: () => {},
    clock,
    log,
    rules: new Map<string, AnswerRule>(),
    ...(beforeNext ? { beforeNext } : {}),
  });
  return lines;
}

function outcomePlan(preventExecution: boolean): Plan {
  const fault = activeFault(error(preventExecution), Date.now() - 1000);
  const body = Buffer.from(
    JSON.stringify({ errorType: "FaultInjectionError", errorMessage: "x", trace: [] }),
  );
  return {
    outcome: { fault, preventExecution, outcome: { kind: "error", errorType: "FaultInjectionError", body } },
  };
}

describe("in-process hook of the native runtime client (fake client)", () => {
  it("preventExecution: the event is answered in the runtime's place and the next one is delivered", async () => {
    const { client, posted } = fakeClient(["a", "b"]);
    hook(client, [outcomePlan(true), {}]);
    const event = await client.next();
    assert.equal(event.headers["lambda-runtime-aws-request-id"], "b");
    assert.deepEqual(posted, ["error a FaultInjectionError"]);
  });

  it("preventExecution: the check started on arrival settles before the hook's own next (which lets the environment freeze)", async () => {
    const { client, posted } = fakeClient(["a", "b"]);
    const order: string[] = [];
    const next = client.next;
    client.next = () => {
      order.push("next");
      return next();
    };
    let settled!: () => void;
    let calls = 0;
    hook(client, [outcomePlan(true), {}], () => {
      order.push("settle");
      // Nothing in flight before the first event; a's check (started as it arrived) before the second.
      if (calls++ === 0) return undefined;
      return new Promise<void>((resolve) => {
        settled = () => {
          order.push("settled");
          resolve();
        };
      });
    });
    const delivered = client.next();
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(posted, ["error a FaultInjectionError"]);
    assert.deepEqual(order, ["settle", "next", "settle"], "b is not asked for while a's check is in flight");
    settled();
    assert.equal((await delivered).headers["lambda-runtime-aws-request-id"], "b");
    assert.deepEqual(order, ["settle", "next", "settle", "settled", "next"]);
  });

  it("without preventExecution: the handler's result is replaced, once", async () => {
    const { client, posted } = fakeClient(["a", "b"]);
    hook(client, [outcomePlan(false), {}]);
    await client.next();
    client.done("a", '{"ok":true}');
    await client.next();
    client.done("b", '{"ok":true}');
    assert.deepEqual(posted, ["error a FaultInjectionError", 'done b {"ok":true}']);
  });

  it("a failing decision passes the event through, logged once", async () => {
    const { client, posted } = fakeClient(["a", "b"]);
    const lines = hook(client, [new Error("boom"), new Error("boom")]);
    assert.equal((await client.next()).headers["lambda-runtime-aws-request-id"], "a");
    assert.equal((await client.next()).headers["lambda-runtime-aws-request-id"], "b");
    client.done("b", "null");
    assert.deepEqual(posted, ["done b null"]);
    assert.equal(lines.filter((l) => l.includes("passing through: boom")).length, 1);
  });
});

describe("in-process preload", () => {
  it("an unknown native client shape: pass-through, said once; NODE_OPTIONS loses only our preload", () => {
    const lines: string[] = [];
    const env: Record<string, string | undefined> = {
      NODE_OPTIONS: '--require "/opt/faultline/in-process.cjs" --max-old-space-size=100',
      AWS_LAMBDA_FUNCTION_NAME: "f",
      AWS_LAMBDA_RUNTIME_API: "127.0.0.1:9",
    };
    const inProcess = installInProcess({ env, loadFaultSide: () => faultSide, write: (l) => lines.push(l) });
    try {
      assert.equal(env.NODE_OPTIONS, "--max-old-space-size=100");
      assert.equal(inProcess.state(), "waiting");
      inProcess.attach({ next: () => {} });
      inProcess.attach({ next: () => {} });
      assert.equal(inProcess.state(), "unknown-client");
      assert.equal(lines.filter((l) => l.includes("runtime client not recognised")).length, 1);
    } finally {
      inProcess.close();
    }
  });
});

describe("in-process preload: the fault side off the runtime's path, its first poll before Init ends", () => {
  const EMPTY_LIST =
    '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><IsTruncated>false</IsTruncated><KeyCount>0</KeyCount></ListBucketResult>';

  it("the fault side loads and polls in the background once the client is found; the first next waits for that poll", async () => {
    let listed!: () => void;
    const firstList = new Promise<void>((resolve) => (listed = resolve));
    let answerList!: () => void;
    const s3 = http.createServer((req, res) => {
      req.resume();
      answerList = () => res.writeHead(200, { "content-type": "application/xml" }).end(EMPTY_LIST);
      listed();
    });
    await new Promise<void>((resolve) => s3.listen(0, "127.0.0.1", resolve));
    const env: Record<string, string | undefined> = {
      AWS_LAMBDA_FUNCTION_NAME: "f",
      AWS_LAMBDA_RUNTIME_API: "127.0.0.1:9",
      AWS_FIS_CONFIGURATION_LOCATION: "arn:aws:s3:::faults/fis/",
      AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${(s3.address() as AddressInfo).port}`,
      AWS_ACCESS_KEY_ID: "k",
      AWS_SECRET_ACCESS_KEY: "s",
      AWS_REGION: "us-east-1",
    };
    let loads = 0;
    const lines: string[] = [];
    const inProcess = installInProcess({
      env,
      loadFaultSide: () => {
        loads++;
        return faultSide;
      },
      write: (l) => lines.push(l),
    });
    try {
      let asked!: () => void;
      const realNextCalled = new Promise<void>((resolve) => (asked = resolve));
      let deliver!: (event: NextEvent) => void;
      const client = {
        next: () => {
          asked();
          return new Promise<NextEvent>((resolve) => (deliver = resolve));
        },
        done: () => {},
        error: () => {},
      };
      inProcess.attach(client);
      assert.equal(inProcess.state(), "hooked");
      assert.equal(loads, 0, "nothing loaded on the runtime client's synchronous path");
      await firstList; // loaded and polling in the background, before the runtime asked for anything
      assert.equal(loads, 1);
      let nextReached = false;
      void realNextCalled.then(() => (nextReached = true));
      const next = client.next();
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(nextReached, false, "the first next (the end of Init) waits for the poll in flight");
      answerList();
      await realNextCalled;
      deliver({ bodyJson: "{}", headers: { "lambda-runtime-aws-request-id": "a" } });
      assert.equal((await next).headers["lambda-runtime-aws-request-id"], "a");
      assert.equal(lines.filter((l) => l.includes("extension enabled")).length, 1);
      assert.equal(loads, 1);
    } finally {
      inProcess.close();
      s3.close();
    }
  });

  it("a fault side that cannot load: every event passes through, said once", async () => {
    const lines: string[] = [];
    const inProcess = installInProcess({
      env: { AWS_LAMBDA_FUNCTION_NAME: "f", AWS_LAMBDA_RUNTIME_API: "127.0.0.1:9" },
      loadFaultSide: () => {
        throw new Error("Cannot find module 'in-process-faults.cjs'");
      },
      write: (l) => lines.push(l),
    });
    try {
      const { client, posted } = fakeClient(["a", "b"]);
      inProcess.attach(client);
      assert.equal((await client.next()).headers["lambda-runtime-aws-request-id"], "a");
      client.done("a", "1");
      assert.equal((await client.next()).headers["lambda-runtime-aws-request-id"], "b");
      assert.deepEqual(posted, ["done a 1"]);
      assert.equal(
        lines.filter((l) => l.includes("could not load its fault side")).length,
        1,
        lines.join("\n"),
      );
    } finally {
      inProcess.close();
    }
  });
});

describe("in-process lifecycle (bash) against the lab's Extensions API", () => {
  it("writes the mode, registers for SHUTDOWN only, finishes init, and exits on SHUTDOWN", async () => {
    const dir = mkdtempSync(join(tmpdir(), "faultline-lifecycle-"));
    const extensions = new ExtensionsApi({
      functionName: "f",
      functionVersion: "$LATEST",
      handler: "index.handler",
    });
    const api = await startRuntimeApi({ routes: extensions.routes });
    const portFile = join(dir, "proxy-port");
    try {
      const registered = new Promise((resolve) => extensions.onRegister(resolve));
      const child = spawn("bash", [LIFECYCLE], {
        env: { PATH: process.env.PATH, AWS_LAMBDA_RUNTIME_API: api.address, FAULTLINE_PORT_FILE: portFile },
        stdio: ["ignore", "pipe", "pipe"],
      });
      const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
      await registered;
      assert.equal(readFileSync(portFile, "utf8").trim(), "in-process");
      await extensions.whenAllReady();
      assert.deepEqual(
        extensions.list().map((e) => [e.name, e.events]),
        [["faultline", ["SHUTDOWN"]]],
      );
      assert.equal(extensions.subscribers("INVOKE"), 0, "no per-invocation round trip");
      assert.equal(child.exitCode, null, "waits for SHUTDOWN");
      extensions.dispatchShutdown("spindown", Date.now() + 2000);
      assert.equal(await exited, 0);
    } finally {
      await api.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
