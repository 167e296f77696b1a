/**
 * The four faultline:lambda: faults under the lab, in both modes (the external proxy and the in-process hook):
 * the BUILT LAYER ZIP unmodified, the official aws-lambda-ric, fault objects written with @aws-sdk/client-s3
 * before the function's first invocation (the extension reads them during Init), every invocation made with
 * @aws-sdk/client-lambda. Each test runs its two modes side by side.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { InvokeCommandOutput } from "@aws-sdk/client-lambda";
import { type FaultLab, startFaultLab } from "./helpers/fault-lab.ts";
import { initDelay, invocationTimeout, responseCorruption, responseDelay } from "./helpers/faults.ts";

const MODES = ["external", "in-process"] as const;
type Mode = (typeof MODES)[number];
/** The lab's Init limit, lowered from Lambda's 10 s so the over-the-limit case stays fast. */
const INIT_LIMIT_MS = 4500;

const payloadOf = (out: InvokeCommandOutput) => Buffer.from(out.Payload ?? []).toString();
const both = <T>(run: (mode: Mode) => Promise<T>) => Promise.all(MODES.map(run));

describe("faultline:lambda: faults under the lab (built layer zip, client-lambda, both modes)", () => {
  let t: FaultLab;
  const fn = (name: string, mode: Mode) => `${name}-${mode}`;
  const messages = (name: string) => t.lab.logs.events(name).map((e) => e.message);
  const initDurations = (name: string) =>
    messages(name).flatMap((m) => {
      const found = /^REPORT .*Init Duration: ([\d.]+) ms/.exec(m);
      return found ? [Number(found[1])] : [];
    });
  /** The REPORT line ends the invoke phase, after the caller has its answer: waits for the `n`th one. */
  const reports = (name: string, n: number) =>
    new Promise<void>((resolve, reject) => {
      const count = () => messages(name).filter((m) => m.startsWith("REPORT ")).length;
      if (count() >= n) return resolve();
      const timer = setTimeout(() => {
        stop();
        reject(new Error(`${name}: ${count()} REPORT lines, waited for ${n}`));
      }, 5000);
      const stop = t.lab.logs.subscribe(() => {
        if (count() < n) return;
        clearTimeout(timer);
        stop();
        resolve();
      });
    });

  before(async () => {
    const functions = MODES.flatMap((mode) =>
      [
        { name: "timeout", timeout: 1 },
        { name: "timeout-stream", handler: "index.stream", timeout: 1 },
        { name: "slow-answer" },
        { name: "slow-stream", handler: "index.stream" },
        { name: "truncated" },
        { name: "malformed" },
        { name: "corrupt-stream", handler: "index.stream" },
        { name: "slow-init" },
        { name: "too-slow-init" },
      ].map((f) => ({ ...f, name: fn(f.name, mode), env: { FAULTLINE_MODE: mode } })),
    );
    t = await startFaultLab({
      functions,
      labOptions: { environmentOptions: { initTimeoutMs: INIT_LIMIT_MS } },
    });
  });
  after(async () => {
    await t?.stop();
  });

  // Lambda docs, "Understanding the Lambda execution environment lifecycle" (Invoke phase / failures): on a
  // timeout Lambda resets the environment; the next invocation gets a fresh Init.
  it("invocation-timeout: the handler runs, the caller gets Lambda's Sandbox.Timedout, the environment is reset", async () => {
    await both(async (mode) => {
      const name = fn("timeout", mode);
      await t.putFault(name, invocationTimeout());
      const effect = t.sideEffect();
      const out = await t.invoke(name, { sideEffect: effect });
      assert.equal(out.FunctionError, "Unhandled", `${mode}: ${payloadOf(out)}`);
      const body = JSON.parse(payloadOf(out));
      assert.equal(body.errorType, "Sandbox.Timedout", mode);
      assert.match(body.errorMessage, /Task timed out after 1\.00 seconds/);
      assert.ok(t.happened(effect), `${mode}: the handler ran`);
      assert.ok(
        messages(name).some((m) => /Task timed out after 1\.00 seconds/.test(m)),
        mode,
      );
      // The fault gone, the next invocation gets a new environment (a second Init) and an ordinary answer.
      await t.deleteFault(name);
      const again = await t.invoke(name, { n: 2 });
      assert.deepEqual(JSON.parse(payloadOf(again)), { ok: true, n: 2 }, mode);
      await reports(name, 2);
      assert.equal(initDurations(name).length, 2, `${mode}: REPORTs with an Init Duration`);

      const streamName = fn("timeout-stream", mode);
      await t.putFault(streamName, invocationTimeout());
      const streamed = await t.stream(streamName, 1);
      assert.equal(streamed.errorCode, "Sandbox.Timedout", `${mode}: ${JSON.stringify(streamed)}`);
    });
  });

  it("response-delay: the handler runs, then its response is held delayMilliseconds (buffered and streamed)", async () => {
    await both(async (mode) => {
      const name = fn("slow-answer", mode);
      await t.putFault(name, responseDelay(800));
      await t.invoke(name, {}); // cold: Init is not what is measured
      const effect = t.sideEffect();
      const started = performance.now();
      const out = await t.invoke(name, { n: 3, sideEffect: effect });
      const answered = performance.now();
      assert.deepEqual(JSON.parse(payloadOf(out)), { ok: true, n: 3 }, mode);
      const ranAt = t.happenedAt(effect);
      assert.ok(ranAt !== undefined && ranAt - started < answered - started, mode);
      assert.ok(
        answered - (ranAt as number) >= 800,
        `${mode}: answered ${answered - (ranAt as number)} ms after the handler ran`,
      );
      assert.ok(
        messages(name).some((m) => m.includes("holding the function response 800 milliseconds")),
        mode,
      );

      const streamName = fn("slow-stream", mode);
      await t.putFault(streamName, responseDelay(800));
      await t.stream(streamName, 1);
      const streamStarted = performance.now();
      const streamed = await t.stream(streamName, 4);
      assert.ok(performance.now() - streamStarted >= 800, mode);
      assert.deepEqual(streamed, { text: "first chunk;second chunk n=4", errorCode: undefined }, mode);
    });
  });

  it("response-corruption: the caller gets truncated or malformed JSON; a stream is corrupted whole", async () => {
    await both(async (mode) => {
      await t.putFault(fn("truncated", mode), responseCorruption("truncated"));
      const truncated = await t.invoke(fn("truncated", mode), { n: 1 });
      assert.equal(truncated.FunctionError, undefined);
      assert.equal(payloadOf(truncated), '{"ok":tr', mode); // {"ok":true,"n":1} cut in half
      assert.throws(() => JSON.parse(payloadOf(truncated)), SyntaxError);

      await t.putFault(fn("malformed", mode), responseCorruption("malformed"));
      const malformed = await t.invoke(fn("malformed", mode), { n: 1 });
      assert.equal(malformed.FunctionError, undefined);
      assert.equal(payloadOf(malformed), '{"ok":true,"n":1,}', mode);
      assert.throws(() => JSON.parse(payloadOf(malformed)), SyntaxError);

      await t.putFault(fn("corrupt-stream", mode), responseCorruption("truncated"));
      const streamed = await t.stream(fn("corrupt-stream", mode), 4);
      assert.deepEqual(streamed, { text: "first chunk;se", errorCode: undefined }, mode);
    });
  });

  // Lambda docs, same page (Init phase): Init ends when the runtime and every extension have sent a Next request;
  // it is limited to 10 s.
  it("init-delay: a new environment's Init Duration grows by the delay; over the Init limit, Lambda's init timeout", async () => {
    await both(async (mode) => {
      const name = fn("slow-init", mode);
      await t.putFault(name, initDelay(1500));
      const out = await t.invoke(name, { n: 5 });
      assert.deepEqual(JSON.parse(payloadOf(out)), { ok: true, n: 5 }, mode);
      await reports(name, 1);
      const [initMs] = initDurations(name);
      assert.ok(initMs !== undefined && initMs >= 1500, `${mode}: Init Duration ${initMs} ms`);
      const log = messages(name);
      const added = log.findIndex((m) => m.includes("adding 1500 milliseconds to the Init phase"));
      assert.ok(added >= 0 && added < log.findIndex((m) => m.startsWith("START ")), `${mode}: during Init`);
      const warm = performance.now();
      await t.invoke(name, { n: 6 });
      assert.ok(performance.now() - warm < 1500, `${mode}: a warm invocation is not delayed`);

      const tooSlow = fn("too-slow-init", mode);
      await t.putFault(tooSlow, initDelay(INIT_LIMIT_MS + 1500));
      const failed = await t.invoke(tooSlow, {});
      assert.equal(failed.FunctionError, "Unhandled", mode);
      assert.equal(JSON.parse(payloadOf(failed)).errorType, "Sandbox.Timedout", mode);
      assert.ok(
        messages(tooSlow).some((m) => /^INIT_REPORT .*Status: timeout/.test(m)),
        mode,
      );
    });
  });
});
