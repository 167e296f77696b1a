/**
 * One Runtime API (2018-06-01) conformance suite, run against every implementation (the lab's server, the
 * extension's proxy in front of it…). The test acts as the runtime over raw HTTP and as the platform through
 * the harness's `invoke()`. Cases an implementation cannot meet are skipped by name, with the reason printed.
 *
 * Running it against another implementation needs no code change here:
 * - in code: `runtimeApiConformance(name, async () => ({ runtimeApi: "host:port", invoke, close }))`, where
 *   `invoke(input)` is whatever makes that implementation hand `input` to its runtime (an SDK call, an HTTP
 *   POST…) and resolves with what the caller got; `invokeOverHttp(url)` builds one for any endpoint shaped like
 *   Lambda's Invoke (the lab's Lambda API, RIE's `/2015-03-31/functions/function/invocations`).
 * - from the shell: `FAULTLINE_CONFORMANCE_TARGET=/abs/path/target.mjs node --import tsx --test
 *   packages/lab/test/env-runtime-api-conformance.test.ts`, where the module's default export is such a harness
 *   factory and an optional `skip` export maps case names to reasons (see `conformanceTargetFromEnvironment`).
 * Implementations that assign request ids themselves work: the cases take the id from the runtime's /next.
 */

import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import type { Readable } from "node:stream";
import { afterEach, beforeEach, describe, it } from "node:test";

/** Structurally the lab contract's InvocationInput (kept local so this kit depends on no package). */
export interface ConformanceInput {
  requestId: string;
  payload: Buffer;
  invokedFunctionArn: string;
  traceId: string;
  clientContext?: string;
  cognitoIdentity?: string;
  acceptStreaming: boolean;
}

export type ConformanceOutcome =
  | { kind: "response"; payload: Buffer; contentType: string }
  | {
      kind: "stream";
      body: Readable;
      contentType: string;
      completion?: Promise<{ errorType?: string; errorBody?: string }>;
    }
  | { kind: "function-error"; payload: Buffer; errorType: string };

export interface ConformanceHarness {
  /** host:port the test talks to as the runtime would (AWS_LAMBDA_RUNTIME_API). */
  runtimeApi: string;
  /** The platform side: queue one invocation, resolve with what the caller of Invoke gets. */
  invoke(input: ConformanceInput): Promise<ConformanceOutcome>;
  close(): Promise<void>;
}

export interface ConformanceOptions {
  /** Case name → reason. Listed skips are reported by node:test with their reason. */
  skip?: Record<string, string>;
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Raw HTTP as a runtime would speak it (one fresh connection per call: proxies must accept several). */
export function rawRequest(
  hostPort: string,
  method: string,
  path: string,
  body?: Buffer | string,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  const [host, port] = splitHostPort(hostPort);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host, port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

function splitHostPort(hostPort: string): [string, number] {
  const i = hostPort.lastIndexOf(":");
  return [hostPort.slice(0, i), Number(hostPort.slice(i + 1))];
}

const BASE = "/2018-06-01/runtime";
const CASE_TIMEOUT_MS = 20_000;
const MAX = 6 * 1024 * 1024 + 100;

export function makeInput(overrides: Partial<ConformanceInput> = {}): ConformanceInput {
  return {
    requestId: randomUUID(),
    payload: Buffer.from('{"hello":"world"}'),
    invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:conformance",
    traceId: "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
    acceptStreaming: false,
    ...overrides,
  };
}

function assertErrorShape(r: RawResponse, status: number, errorType: string): void {
  assert.equal(r.status, status, `status (body ${r.body.toString()})`);
  assert.match(String(r.headers["content-type"]), /application\/json/);
  const parsed = JSON.parse(r.body.toString()) as { errorMessage: unknown; errorType: unknown };
  assert.equal(typeof parsed.errorMessage, "string");
  assert.equal(parsed.errorType, errorType);
}

function assertAccepted(r: RawResponse): void {
  assert.equal(r.status, 202, `status (body ${r.body.toString()})`);
  assert.deepEqual(JSON.parse(r.body.toString()), { status: "OK" });
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}

export function runtimeApiConformance(
  name: string,
  makeHarness: () => Promise<ConformanceHarness>,
  options: ConformanceOptions = {},
): void {
  describe(`Runtime API conformance: ${name}`, () => {
    let h: ConformanceHarness;
    const next = () => rawRequest(h.runtimeApi, "GET", `${BASE}/invocation/next`);
    const post = (path: string, body: Buffer | string, headers: Record<string, string> = {}) =>
      rawRequest(h.runtimeApi, "POST", `${BASE}${path}`, body, headers);
    /** Starts an invocation and takes it as the runtime: the caller's promise and the /next answer. */
    const handOut = async (input = makeInput()) => {
      const outcome = h.invoke(input);
      outcome.catch(() => {});
      const r = await next();
      // An implementation that assigns its own request ids: answer with the id the runtime was given.
      const id = r.headers["lambda-runtime-aws-request-id"];
      if (typeof id === "string" && id) input.requestId = id;
      return { input, outcome, r };
    };

    beforeEach(async () => {
      h = await makeHarness();
    });
    afterEach(async () => {
      await h.close();
    });

    const test = (caseName: string, fn: () => Promise<void>) => {
      const reason = options.skip?.[caseName];
      if (reason !== undefined) it(caseName, { skip: reason }, fn);
      // A bound, so an implementation that never settles an invocation fails the case instead of hanging.
      else it(caseName, { timeout: CASE_TIMEOUT_MS }, fn);
    };

    test("next carries every invocation header, well-formed", async () => {
      const input = makeInput({
        clientContext: '{"custom":{"k":"v"}}',
        cognitoIdentity: '{"cognitoIdentityId":"id","cognitoIdentityPoolId":"pool"}',
      });
      const before = Date.now();
      const { r, outcome } = await handOut(input);
      assert.equal(r.status, 200);
      assert.ok(
        r.headers["content-type"],
        "Content-Type is always present (the official client crashes without)",
      );
      assert.equal(r.headers["lambda-runtime-aws-request-id"], input.requestId);
      const deadline = Number(r.headers["lambda-runtime-deadline-ms"]);
      assert.ok(Number.isInteger(deadline) && deadline > before, `deadline ${deadline} is a future epoch ms`);
      assert.equal(r.headers["lambda-runtime-invoked-function-arn"], input.invokedFunctionArn);
      assert.equal(r.headers["lambda-runtime-trace-id"], input.traceId);
      // Lambda decodes Invoke's base64 ClientContext: the runtime gets the JSON (aws-lambda-ric JSON.parses it).
      assert.equal(r.headers["lambda-runtime-client-context"], input.clientContext);
      assert.equal(r.headers["lambda-runtime-cognito-identity"], input.cognitoIdentity);
      assertAccepted(await post(`/invocation/${input.requestId}/response`, "{}"));
      assert.equal((await outcome).kind, "response");
    });

    test("client context JSON with non-ASCII text reaches the runtime as UTF-8", async () => {
      const clientContext = JSON.stringify({ custom: { city: "Zürich", emoji: "🙂" } });
      const { r, input, outcome } = await handOut(makeInput({ clientContext }));
      const raw = r.headers["lambda-runtime-client-context"];
      assert.equal(typeof raw, "string");
      // Node decodes header bytes as latin1: re-read them as the UTF-8 they are.
      assert.equal(Buffer.from(raw as string, "latin1").toString("utf8"), clientContext);
      assertAccepted(await post(`/invocation/${input.requestId}/response`, "{}"));
      await outcome;
    });

    test("optional headers are absent when the caller gave none", async () => {
      const { r, input } = await handOut();
      assert.equal(r.headers["lambda-runtime-client-context"], undefined);
      assert.equal(r.headers["lambda-runtime-cognito-identity"], undefined);
      await post(`/invocation/${input.requestId}/response`, "{}");
    });

    test("payload and response round trip byte-exact (binary, ~6 MB)", async () => {
      const payload = randomBytes(6 * 1024 * 1024);
      const { r, input, outcome } = await handOut(makeInput({ payload }));
      assert.equal(r.status, 200);
      assert.ok(r.body.equals(payload), "event payload byte-exact");
      const response = randomBytes(6 * 1024 * 1024);
      const p = await post(`/invocation/${input.requestId}/response`, response, {
        "Content-Type": "application/octet-stream",
      });
      assertAccepted(p);
      const o = await outcome;
      assert.equal(o.kind, "response");
      if (o.kind !== "response") return;
      assert.ok(o.payload.equals(response), "response byte-exact");
      assert.equal(o.contentType, "application/octet-stream");
    });

    test("empty and JSON responses keep their content type", async () => {
      const { input, outcome } = await handOut();
      assertAccepted(
        await post(`/invocation/${input.requestId}/response`, "null", { "Content-Type": "application/json" }),
      );
      const o = await outcome;
      assert.equal(o.kind, "response");
      if (o.kind === "response") {
        assert.equal(o.payload.toString(), "null");
        assert.equal(o.contentType, "application/json");
      }
    });

    test("invocation error: type from Lambda-Runtime-Function-Error-Type, body byte-exact", async () => {
      const { input, outcome } = await handOut();
      const body = '{"errorMessage":"boom","errorType":"Custom","trace":["Error: boom"]}';
      assertAccepted(
        await post(`/invocation/${input.requestId}/error`, body, {
          "Lambda-Runtime-Function-Error-Type": "Custom.Type",
        }),
      );
      const o = await outcome;
      assert.equal(o.kind, "function-error");
      if (o.kind === "function-error") {
        assert.equal(o.errorType, "Custom.Type");
        assert.equal(o.payload.toString(), body);
      }
    });

    test("invocation error without the header (aws-lambda-ric style): type from the body", async () => {
      const { input, outcome } = await handOut();
      const body = '{"errorType":"TypeError","errorMessage":"boom: x","trace":["TypeError: boom: x"]}';
      assertAccepted(
        await post(`/invocation/${input.requestId}/error`, body, { "Content-Type": "application/json" }),
      );
      const o = await outcome;
      assert.equal(o.kind, "function-error");
      if (o.kind === "function-error") assert.equal(o.errorType, "TypeError");
    });

    test("init error before the first next: 202, the queued invocation gets it as a function error", async () => {
      const input = makeInput();
      const outcome = h.invoke(input);
      const body =
        '{"errorType":"Runtime.HandlerNotFound","errorMessage":"index.nope is undefined or not exported"}';
      assertAccepted(
        await post("/init/error", body, { "Lambda-Runtime-Function-Error-Type": "Runtime.HandlerNotFound" }),
      );
      const o = await outcome;
      assert.equal(o.kind, "function-error");
      if (o.kind === "function-error") {
        assert.equal(o.errorType, "Runtime.HandlerNotFound");
        assert.equal(o.payload.toString(), body);
      }
    });

    test("init error after init is refused (403 InvalidStateTransition)", async () => {
      const { input } = await handOut();
      assertErrorShape(await post("/init/error", "{}"), 403, "InvalidStateTransition");
      await post(`/invocation/${input.requestId}/response`, "{}");
    });

    test("second response for the same invocation is refused (403 InvalidStateTransition)", async () => {
      const { input, outcome } = await handOut();
      assertAccepted(await post(`/invocation/${input.requestId}/response`, "first"));
      assertErrorShape(
        await post(`/invocation/${input.requestId}/response`, "second"),
        403,
        "InvalidStateTransition",
      );
      assertErrorShape(
        await post(`/invocation/${input.requestId}/error`, "{}"),
        403,
        "InvalidStateTransition",
      );
      const o = await outcome;
      assert.ok(o.kind === "response" && o.payload.toString() === "first", "the first response wins");
    });

    test("unknown request id is refused (400 InvalidRequestID)", async () => {
      const { input, outcome } = await handOut();
      assertErrorShape(await post(`/invocation/${randomUUID()}/response`, "{}"), 400, "InvalidRequestID");
      assertErrorShape(await post(`/invocation/${randomUUID()}/error`, "{}"), 400, "InvalidRequestID");
      assertAccepted(await post(`/invocation/${input.requestId}/response`, "ok"));
      assert.equal((await outcome).kind, "response");
    });

    // RIE rapi/router.go: AwsRequestIDValidator runs before the state transition, so an answer with no event
    // handed out is an unknown id (400), not an illegal transition (403).
    test("response or error before next is refused (400 InvalidRequestID)", async () => {
      assertErrorShape(await post(`/invocation/${randomUUID()}/response`, "{}"), 400, "InvalidRequestID");
      assertErrorShape(await post(`/invocation/${randomUUID()}/error`, "{}"), 400, "InvalidRequestID");
      // Nothing was consumed: the first invocation still goes through.
      const { input, outcome } = await handOut();
      assertAccepted(await post(`/invocation/${input.requestId}/response`, "ok"));
      assert.equal((await outcome).kind, "response");
    });

    test("after the runtime's next /next, the previous id is unknown (400 InvalidRequestID)", async () => {
      const first = await handOut();
      assertAccepted(await post(`/invocation/${first.input.requestId}/response`, "1"));
      const second = await handOut();
      assertErrorShape(
        await post(`/invocation/${first.input.requestId}/response`, "x"),
        400,
        "InvalidRequestID",
      );
      assertAccepted(await post(`/invocation/${second.input.requestId}/response`, "2"));
      await Promise.all([first.outcome, second.outcome]);
    });

    // RIE lambda/core/states.go: the runtime stays Ready while it holds an event (RuntimeReadyState.Ready returns
    // nil) and rapi/rendering's InvokeRenderer renders the current event again. The Runtime API doc is silent.
    test("next while an invocation is in flight hands out the same event again", async () => {
      const payload = Buffer.from('{"again":true}');
      const { input, outcome, r } = await handOut(makeInput({ payload }));
      const again = await next();
      assert.equal(again.status, 200);
      assert.equal(
        again.headers["lambda-runtime-aws-request-id"],
        r.headers["lambda-runtime-aws-request-id"],
      );
      assert.equal(again.headers["lambda-runtime-deadline-ms"], r.headers["lambda-runtime-deadline-ms"]);
      assert.ok(again.body.equals(payload), "the same payload");
      assertAccepted(await post(`/invocation/${input.requestId}/response`, "once"));
      const o = await outcome;
      assert.ok(o.kind === "response" && o.payload.toString() === "once");
    });

    test("response over 6 MB: 413 to the runtime, Function.ResponseSizeTooLarge to the caller", async () => {
      const { input, outcome } = await handOut();
      assertErrorShape(
        await post(`/invocation/${input.requestId}/response`, Buffer.alloc(MAX + 1, 0x61)),
        413,
        "RequestEntityTooLarge",
      );
      const o = await outcome;
      assert.equal(o.kind, "function-error");
      if (o.kind === "function-error") {
        assert.equal(o.errorType, "Function.ResponseSizeTooLarge");
        assert.deepEqual(JSON.parse(o.payload.toString()), {
          errorMessage: "Response payload size exceeded maximum allowed payload size (6291556 bytes).",
          errorType: "Function.ResponseSizeTooLarge",
        });
      }
      // The runtime may carry on: its next /next is legal.
      const again = handOut();
      const { input: second, r } = await again;
      assert.equal(r.headers["lambda-runtime-aws-request-id"], second.requestId);
      await post(`/invocation/${second.requestId}/response`, "{}");
    });

    test("response of exactly the limit is accepted", async () => {
      const { input, outcome } = await handOut();
      assertAccepted(await post(`/invocation/${input.requestId}/response`, Buffer.alloc(MAX, 0x62)));
      const o = await outcome;
      assert.ok(o.kind === "response" && o.payload.length === MAX);
    });

    test("streaming response is carried through as a stream, chunk by chunk", async () => {
      const { input, outcome } = await handOut(makeInput({ acceptStreaming: true }));
      const { req, done } = streamingPost(h.runtimeApi, input.requestId, "text/plain");
      req.write("first-chunk|");
      const o = await outcome; // handed over before the body is complete
      assert.equal(o.kind, "stream");
      if (o.kind !== "stream") return;
      assert.equal(o.contentType, "text/plain");
      const firstChunk = await new Promise<Buffer>((resolve) => o.body.once("data", resolve));
      assert.equal(firstChunk.toString(), "first-chunk|");
      const rest = readAll(o.body);
      req.end("second-chunk");
      assert.equal((await rest).toString(), "second-chunk");
      assertAccepted(await done);
      assert.deepEqual((await o.completion) ?? {}, {});
    });

    test("streaming error trailers reach the caller", async () => {
      const { input, outcome } = await handOut(makeInput({ acceptStreaming: true }));
      const { req, done } = streamingPost(h.runtimeApi, input.requestId, "application/octet-stream");
      const errBody = Buffer.from('{"errorType":"Boom","errorMessage":"mid-stream"}').toString("base64");
      req.write("partial");
      req.addTrailers({
        "Lambda-Runtime-Function-Error-Type": "Boom",
        "Lambda-Runtime-Function-Error-Body": errBody,
      });
      req.end();
      const o = await outcome;
      assert.equal(o.kind, "stream");
      if (o.kind !== "stream") return;
      assert.equal((await readAll(o.body)).toString(), "partial");
      assertAccepted(await done);
      assert.ok(o.completion, "a stream outcome reports its completion");
      assert.deepEqual(await o.completion, { errorType: "Boom", errorBody: errBody });
    });

    test("streamed response to a buffered invoke arrives whole", async () => {
      const { input, outcome } = await handOut();
      const { req, done } = streamingPost(h.runtimeApi, input.requestId, "text/plain");
      req.write("a");
      req.end("b");
      assertAccepted(await done);
      const o = await outcome;
      assert.ok(o.kind === "response" && o.payload.toString() === "ab");
    });

    // RIE rapi/handler/invocationresponse.go: 400 to the runtime and the invocation fails with
    // Runtime.InvalidResponseModeHeader; the runtime is left mid-response (it cannot answer again).
    test("invalid response mode: 400 InvalidFunctionResponseMode, the invocation fails", async () => {
      const { input, outcome } = await handOut();
      assertErrorShape(
        await post(`/invocation/${input.requestId}/response`, "x", {
          "Lambda-Runtime-Function-Response-Mode": "bogus",
        }),
        400,
        "InvalidFunctionResponseMode",
      );
      const o = await outcome;
      assert.equal(o.kind, "function-error");
      if (o.kind === "function-error") assert.equal(o.errorType, "Runtime.InvalidResponseModeHeader");
      assertErrorShape(
        await post(`/invocation/${input.requestId}/response`, "{}"),
        403,
        "InvalidStateTransition",
      );
    });

    test("long poll: next stays open until an invocation arrives", async () => {
      let answered = false;
      const pending = next().then((r) => {
        answered = true;
        return r;
      });
      // A full request round trip proves the server has seen the parked /next and kept it open.
      assertErrorShape(await rawRequest(h.runtimeApi, "GET", "/2018-06-01/no-such-route"), 404, "NotFound");
      assert.equal(answered, false, "next answered without an invocation");
      const input = makeInput();
      const outcome = h.invoke(input);
      const r = await pending;
      assert.equal(r.headers["lambda-runtime-aws-request-id"], input.requestId);
      await post(`/invocation/${input.requestId}/response`, "{}");
      await outcome;
    });

    test("a second next while one is parked is refused (403), the parked one still gets the event", async () => {
      const parked = next();
      // The first /next must be parked before the second arrives: a 404 round trip after it orders them.
      await rawRequest(h.runtimeApi, "GET", "/2018-06-01/no-such-route");
      assertErrorShape(await next(), 403, "InvalidStateTransition");
      const input = makeInput();
      const outcome = h.invoke(input);
      const r = await parked;
      assert.equal(r.headers["lambda-runtime-aws-request-id"], input.requestId);
      assertAccepted(await post(`/invocation/${input.requestId}/response`, "{}"));
      await outcome;
    });

    test("queued invocations are handed out one at a time, in order", async () => {
      const a = makeInput();
      const b = makeInput();
      const oa = h.invoke(a);
      const ob = h.invoke(b);
      const r1 = await next();
      assert.equal(r1.headers["lambda-runtime-aws-request-id"], a.requestId);
      assertAccepted(await post(`/invocation/${a.requestId}/response`, "A"));
      const r2 = await next();
      assert.equal(r2.headers["lambda-runtime-aws-request-id"], b.requestId);
      assertAccepted(await post(`/invocation/${b.requestId}/response`, "B"));
      const [ra, rb] = await Promise.all([oa, ob]);
      assert.ok(ra.kind === "response" && ra.payload.toString() === "A");
      assert.ok(rb.kind === "response" && rb.payload.toString() === "B");
    });

    test("unknown route answers 404 in the error shape", async () => {
      assertErrorShape(await rawRequest(h.runtimeApi, "GET", "/2018-06-01/runtime/nope"), 404, "NotFound");
    });
  });
}

function streamingPost(hostPort: string, requestId: string, contentType: string) {
  const [host, port] = splitHostPort(hostPort);
  let req!: ReturnType<typeof httpRequest>;
  const done = new Promise<RawResponse>((resolve, reject) => {
    req = httpRequest(
      {
        host,
        port,
        method: "POST",
        path: `${BASE}/invocation/${requestId}/response`,
        agent: false,
        headers: {
          "Content-Type": contentType,
          "Lambda-Runtime-Function-Response-Mode": "streaming",
          "Transfer-Encoding": "chunked",
          Trailer: "Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body",
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    req.on("error", reject);
  });
  req.flushHeaders();
  return { req, done };
}

/**
 * An `invoke()` for any endpoint shaped like Lambda's Invoke (`POST …/invocations`, e.g. the lab's Lambda API or
 * RIE's `http://127.0.0.1:9000/2015-03-31/functions/function/invocations`): the client context goes base64 in
 * X-Amz-Client-Context as Invoke takes it, a function error is recognised by X-Amz-Function-Error. Buffered
 * only: skip the streaming cases for such a target. The implementation assigns the request id.
 */
export function invokeOverHttp(url: string): ConformanceHarness["invoke"] {
  const target = new URL(url);
  return (input) =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string> = {
        "Content-Type": "application/json",
        "X-Amz-Invocation-Type": "RequestResponse",
        "X-Amzn-Trace-Id": input.traceId,
      };
      if (input.clientContext !== undefined)
        headers["X-Amz-Client-Context"] = Buffer.from(input.clientContext).toString("base64");
      const req = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: "POST",
          headers,
          agent: false,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", reject);
          res.on("end", () => {
            const payload = Buffer.concat(chunks);
            if (res.headers["x-amz-function-error"] === undefined) {
              resolve({ kind: "response", payload, contentType: String(res.headers["content-type"] ?? "") });
              return;
            }
            let errorType = "Unhandled";
            try {
              errorType = (JSON.parse(payload.toString()) as { errorType?: string }).errorType ?? errorType;
            } catch {
              // not JSON: keep the generic type
            }
            resolve({ kind: "function-error", payload, errorType });
          });
        },
      );
      req.on("error", reject);
      req.end(input.payload);
    });
}

/** What `FAULTLINE_CONFORMANCE_TARGET` points at: a module whose default export is a harness factory. */
export interface ConformanceTarget {
  name: string;
  makeHarness: () => Promise<ConformanceHarness>;
  options: ConformanceOptions;
}

/**
 * The implementation named by the environment, or undefined when none is:
 * - `FAULTLINE_CONFORMANCE_TARGET=/abs/path/module.mjs`: `export default async () => ({ runtimeApi, invoke,
 *   close })`, optionally `export const skip = { "case name": "reason" }` and `export const name = "…"`;
 * - or `FAULTLINE_CONFORMANCE_RUNTIME_API=host:port` with `FAULTLINE_CONFORMANCE_INVOKE_URL=http://…/invocations`
 *   for an implementation already running (one shared instance: cases run one after another against it).
 * `FAULTLINE_CONFORMANCE_SKIP` (JSON: case name → reason) adds skips either way.
 */
export async function conformanceTargetFromEnvironment(
  env: NodeJS.ProcessEnv = process.env,
): Promise<ConformanceTarget | undefined> {
  const extraSkips = env.FAULTLINE_CONFORMANCE_SKIP
    ? (JSON.parse(env.FAULTLINE_CONFORMANCE_SKIP) as Record<string, string>)
    : {};
  if (env.FAULTLINE_CONFORMANCE_TARGET) {
    const mod = (await import(env.FAULTLINE_CONFORMANCE_TARGET)) as {
      default: () => Promise<ConformanceHarness>;
      skip?: Record<string, string>;
      name?: string;
    };
    if (typeof mod.default !== "function") {
      throw new Error(
        `FAULTLINE_CONFORMANCE_TARGET: ${env.FAULTLINE_CONFORMANCE_TARGET} has no default export`,
      );
    }
    return {
      name: mod.name ?? env.FAULTLINE_CONFORMANCE_TARGET,
      makeHarness: mod.default,
      options: { skip: { ...mod.skip, ...extraSkips } },
    };
  }
  const runtimeApi = env.FAULTLINE_CONFORMANCE_RUNTIME_API;
  const invokeUrl = env.FAULTLINE_CONFORMANCE_INVOKE_URL;
  if (!runtimeApi && !invokeUrl) return undefined;
  if (!runtimeApi || !invokeUrl) {
    throw new Error("FAULTLINE_CONFORMANCE_RUNTIME_API and FAULTLINE_CONFORMANCE_INVOKE_URL go together");
  }
  const invoke = invokeOverHttp(invokeUrl);
  return {
    name: `${runtimeApi} (invoked at ${invokeUrl})`,
    makeHarness: async () => ({ runtimeApi, invoke, close: async () => {} }),
    options: { skip: extraSkips },
  };
}
