/**
 * The four faultline:lambda: faults, unit level: how the injector plans them (slots, stacking, Init), the
 * corruptions, the answer rules, and the in-process hook holding/replacing answers (fake native client).
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { serializeFaultConfig } from "@faultline/protocol";
import { answerRule, holdFor, replacementFor, TIMEOUT_GRACE_MS } from "../src/answer.ts";
import { corrupt } from "../src/faults/index.ts";
import { hookNativeClient, type NextEvent } from "../src/in-process/native-client.ts";
import { type Plan, planInit, planInvocation } from "../src/injector.ts";
import { Logger } from "../src/log.ts";
import {
  activeFault,
  delay,
  error,
  faultConfig,
  initDelay,
  invocationTimeout,
  manualClock,
  responseCorruption,
  responseDelay,
} from "./helpers/faults.ts";
import { ARN_BASE, startHarness } from "./helpers/harness.ts";
import { startS3 } from "./helpers/s3.ts";

const T0 = Date.parse("2026-11-26T12:00:00.000Z");
const identity = {
  invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:demo",
  functionVersion: "$LATEST",
};
const always = () => 0;
const never = () => 0.999;

describe("planning the faultline:lambda: faults", () => {
  it("response-delay holds the answer and stacks with a start delay and an outcome", () => {
    const plan = planInvocation(
      [activeFault(delay(100), T0), activeFault(error(false), T0), activeFault(responseDelay(300), T0)],
      T0,
      identity,
      always,
    );
    assert.equal(plan.delay?.milliseconds, 100);
    assert.equal(plan.outcome?.outcome.kind, "error");
    assert.equal(plan.hold?.milliseconds, 300);
  });

  it("invocation-timeout and response-corruption decide the answer: they conflict with errors, earliest wins", () => {
    const timeout = activeFault({ ...invocationTimeout(), actionName: "a" }, T0, 10_000);
    const corruption = activeFault({ ...responseCorruption("malformed"), actionName: "b" }, T0 + 1, 20_000);
    const err = activeFault({ ...error(true), actionName: "c" }, T0 + 2, 30_000);
    const faults = [err, corruption, timeout];
    const at = (ms: number) => planInvocation(faults, ms, identity, always).outcome;
    assert.deepEqual(at(T0 + 5)?.outcome, { kind: "timeout" });
    assert.equal(at(T0 + 5)?.preventExecution, false, "the handler runs into the timeout");
    assert.deepEqual(at(T0 + 10_000)?.outcome, { kind: "corrupt", corruption: "malformed" });
    assert.equal(at(T0 + 20_001)?.outcome.kind, "error");
  });

  it("init-delay never touches an invocation; it is planned once per Init, by version, percentage rolled", () => {
    const init = activeFault(initDelay(2500), T0);
    assert.deepEqual(planInvocation([init], T0, identity, always), {});
    assert.equal(planInit([init], T0, "$LATEST", always)?.milliseconds, 2500);
    assert.ok(planInit([init], T0, "$LATEST", never), "100 % always applies");
    const partial = activeFault(initDelay(2500, 50), T0);
    assert.equal(planInit([partial], T0, "$LATEST", never), undefined);
    assert.equal(planInit([partial], T0, "$LATEST", always)?.milliseconds, 2500);
    const v3 = activeFault({ ...initDelay(100), qualifier: "3" }, T0);
    assert.equal(planInit([v3], T0, "3", always)?.milliseconds, 100);
    assert.equal(planInit([v3], T0, "$LATEST", always), undefined);
    const alias = activeFault({ ...initDelay(100), qualifier: "prod" }, T0);
    assert.equal(planInit([alias], T0, "3", always), undefined, "an environment cannot know its alias");
    assert.equal(planInit([init], T0 + 60_000, "$LATEST", always), undefined, "ended");
    assert.equal(planInit([activeFault(delay(5), T0)], T0, "$LATEST", always), undefined);
  });
});

describe("corruptions", () => {
  const bodies = [
    '{"ok":true,"n":1}',
    "[1,2,3]",
    '"a string"',
    "12345678",
    "true",
    "null",
    "",
    "plain text",
    '{"text":"ends with a brace}"}',
    '{"nested":{"a":[{"b":"}"}]}}\n',
    "{}",
    "[]",
    '"}"',
  ];

  it("malformed is never valid JSON, whatever the body", () => {
    for (const body of bodies) {
      const out = corrupt(Buffer.from(body), "malformed").toString();
      assert.throws(() => JSON.parse(out), SyntaxError, `${body} → ${out}`);
    }
    assert.equal(corrupt(Buffer.from('{"ok":true}'), "malformed").toString(), '{"ok":true,}');
    assert.equal(corrupt(Buffer.from("[1]\n"), "malformed").toString(), "[1,]\n");
    assert.equal(corrupt(Buffer.from("42"), "malformed").toString(), "42,}");
  });

  it("truncated is the first half of the bytes: objects, arrays and strings never parse", () => {
    assert.equal(corrupt(Buffer.from('{"ok":true,"n":1}'), "truncated").toString(), '{"ok":tr');
    for (const body of bodies.filter((b) => /^[[{"]/.test(b))) {
      const out = corrupt(Buffer.from(body), "truncated").toString();
      assert.throws(() => JSON.parse(out), SyntaxError, `${body} → ${out}`);
    }
  });
});

describe("answer rules", () => {
  const fault = activeFault(invocationTimeout(), T0);
  const timeoutPlan: Plan = { outcome: { fault, preventExecution: false, outcome: { kind: "timeout" } } };

  it("a timeout holds the answer until past the deadline; a response-delay from the answer's arrival", () => {
    const rule = answerRule(timeoutPlan, T0, T0 + 3000);
    assert.ok(rule);
    assert.equal(holdFor(rule, T0 + 1000), 2000 + TIMEOUT_GRACE_MS);
    const hold = answerRule({ hold: { fault, milliseconds: 700 } }, T0, T0 + 3000);
    assert.ok(hold);
    assert.equal(holdFor(hold, T0 + 2900), 700);
    assert.equal(answerRule({}, T0, T0 + 3000), undefined);
  });

  it("only responses are corrupted; errors and timeouts pass the runtime's own answer", () => {
    const own = { kind: "response" as const, contentType: "application/json", body: Buffer.from('{"a":1}') };
    const mine = replacementFor({ kind: "corrupt", corruption: "malformed" }, own);
    assert.equal(mine?.body.toString(), '{"a":1,}');
    assert.equal(mine?.kind, "response");
    const ownError = { kind: "error" as const, errorType: "TypeError", body: Buffer.from("{}") };
    assert.equal(replacementFor({ kind: "corrupt", corruption: "malformed" }, ownError), undefined);
    assert.equal(replacementFor({ kind: "timeout" }, own), undefined);
  });
});

describe("in-process hook: held and corrupted answers (fake native client)", () => {
  function setup(plans: Plan[], beforeFirstNext?: () => Promise<void>, deadlineMs = Date.now() + 60_000) {
    const posted: string[] = [];
    const ids = ["a", "b", "c"];
    const client = {
      next: async (): Promise<NextEvent> => {
        const id = ids.shift() as string;
        posted.push(`next ${id}`);
        return {
          bodyJson: "{}",
          headers: {
            "lambda-runtime-aws-request-id": id,
            "lambda-runtime-deadline-ms": String(deadlineMs),
          },
        };
      },
      done: (id: string, body: string) => posted.push(`done ${id} ${body}`),
      error: (id: string, body: string, _cause?: string) => posted.push(`error ${id} ${body}`),
    };
    const clock = manualClock(Date.now());
    const log = new Logger({
      level: "INFO",
      format: "text",
      metrics: false,
      functionName: "f",
      clock,
      write: () => {},
    });
    hookNativeClient(client, {
      plan: () => plans.shift() ?? {},
      onInjected: () => {},
      clock: { now: () => Date.now(), sleep: clock.sleep },
      log,
      rules: new Map(),
      ...(beforeFirstNext ? { beforeFirstNext } : {}),
    });
    return { client, posted };
  }
  const fault = activeFault(responseDelay(150), Date.now() - 1000);

  it("response-delay: done returns at once, the answer is posted after the hold, and next waits for it", async () => {
    const { client, posted } = setup([{ hold: { fault, milliseconds: 150 } }]);
    await client.next();
    const started = performance.now();
    client.done("a", '{"x":1}');
    assert.deepEqual(posted, ["next a"], "not posted yet");
    await client.next();
    assert.ok(performance.now() - started >= 145, "next waited for the held answer");
    assert.deepEqual(posted, ["next a", 'done a {"x":1}', "next b"]);
  });

  it("response-corruption: the handler's response is posted corrupted, its error untouched", async () => {
    const outcome = { kind: "corrupt" as const, corruption: "truncated" as const };
    const { client, posted } = setup([
      { outcome: { fault, preventExecution: false, outcome } },
      { outcome: { fault, preventExecution: false, outcome } },
    ]);
    await client.next();
    client.done("a", '{"x":12}');
    await client.next();
    client.error("b", '{"errorType":"E"}', "");
    assert.deepEqual(posted, ["next a", 'done a {"x"', "next b", 'error b {"errorType":"E"}']);
  });

  it("response-delay stacks with a preventExecution error: the injected error is held too", async () => {
    const body = Buffer.from('{"errorType":"FaultInjectionError"}');
    const outcome = { kind: "error" as const, errorType: "FaultInjectionError", body };
    const { client, posted } = setup([
      { outcome: { fault, preventExecution: true, outcome }, hold: { fault, milliseconds: 150 } },
    ]);
    const started = performance.now();
    await client.next();
    assert.ok(performance.now() - started >= 145, "held before the injected error was posted");
    assert.deepEqual(posted, ["next a", 'error a {"errorType":"FaultInjectionError"}', "next b"]);
  });

  it("init-delay: the first next waits for the Init hold, later ones do not", async () => {
    let released!: () => void;
    const gate = new Promise<void>((resolve) => (released = resolve));
    const { client, posted } = setup([], () => gate);
    const first = client.next();
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(posted, [], "the runtime's first next has not gone out");
    released();
    await first;
    await client.next();
    assert.deepEqual(posted, ["next a", "next b"]);
  });

  it("invocation-timeout: the answer is held past the deadline, then goes on if Lambda did not reset (fails open)", async () => {
    const timeoutFault = activeFault(invocationTimeout(), Date.now() - 1000);
    const outcome = { kind: "timeout" as const };
    // A deadline already 1.9 s gone: the hold ends 100 ms from now (deadline + 2 s grace).
    const deadline = Date.now() - TIMEOUT_GRACE_MS + 100;
    const { client, posted } = setup(
      [{ outcome: { fault: timeoutFault, preventExecution: false, outcome } }],
      undefined,
      deadline,
    );
    await client.next();
    client.done("a", "{}");
    assert.deepEqual(posted, ["next a"]);
    await client.next();
    assert.ok(Date.now() >= deadline + TIMEOUT_GRACE_MS, "not before deadline + grace");
    assert.deepEqual(posted, ["next a", "done a {}", "next b"]);
  });
});

describe("external proxy: the faultline:lambda: faults with the official runtime client (lab Runtime API)", () => {
  let s3: Awaited<ReturnType<typeof startS3>>;
  before(async () => {
    s3 = await startS3();
  });
  after(async () => {
    await s3.close();
  });

  async function withFault(name: string, shape: Parameters<typeof faultConfig>[0], handler?: string) {
    const h = await startHarness({
      functionName: name,
      s3Endpoint: s3.endpoint,
      ...(handler ? { handler } : {}),
    });
    const config = faultConfig({ ...shape, actionName: "f" }, Date.now() - 1000);
    await s3.put(`fis/${name}/EXP1/f.json`, serializeFaultConfig(config));
    await h.extension.poller?.poll();
    return h;
  }

  it("invocation-timeout fails open: without a reset by deadline + grace, the handler's answer goes on", async () => {
    const h = await withFault("timeout-open", invocationTimeout());
    try {
      const deadlineMs = Date.now() - TIMEOUT_GRACE_MS + 150;
      const out = await h.api.invoke(
        {
          requestId: randomUUID(),
          payload: Buffer.from('{"n":9}'),
          invokedFunctionArn: `${ARN_BASE}timeout-open`,
          traceId: "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
          acceptStreaming: false,
        },
        { deadlineMs },
      );
      assert.ok(Date.now() >= deadlineMs + TIMEOUT_GRACE_MS, "held past deadline + grace");
      assert.equal(out.kind, "response");
      if (out.kind === "response") assert.deepEqual(JSON.parse(out.payload.toString()), { ok: true, n: 9 });
    } finally {
      await h.close();
    }
  });

  it("response-corruption of a stream that fails: the caller gets the handler's error, not a corruption", async () => {
    const h = await withFault("corrupt-stream-error", responseCorruption("truncated"), "index.streamFail");
    try {
      const out = await h.invoke({}, { acceptStreaming: true });
      assert.equal(out.kind, "function-error", JSON.stringify(out));
      if (out.kind === "function-error") {
        assert.equal(out.errorType, "RangeError");
        assert.match(out.payload.toString(), /stream broke/);
      }
    } finally {
      await h.close();
    }
  });

  it("response-corruption leaves the handler's own error untouched; a later response is corrupted", async () => {
    const h = await withFault("corrupt-errors", responseCorruption("malformed"));
    try {
      const failed = await h.invoke({ fail: true });
      assert.equal(failed.kind, "function-error");
      if (failed.kind === "function-error") assert.match(failed.payload.toString(), /handler failed/);
      const out = await h.invoke({ n: 1 });
      assert.equal(out.kind, "response");
      if (out.kind === "response") assert.equal(out.payload.toString(), '{"ok":true,"n":1,}');
    } finally {
      await h.close();
    }
  });
});
