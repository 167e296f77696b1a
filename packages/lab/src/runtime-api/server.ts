/**
 * A standalone Lambda Runtime API (2018-06-01) server. The platform side calls `invoke()`; the runtime side
 * talks HTTP. The runtime's lifecycle is the table in state.ts; every route is one handler below.
 */
import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { PassThrough } from "node:stream";
import type { InvocationInput, InvocationOutcome, StreamCompletion } from "../contract.ts";
import { ApiError, InvocationAbortedError, InvocationInputError } from "../environment/errors.ts";
import { guardedListener } from "../http-guard.ts";
import { accepted, dispatch, header, type Route, readBody, renderError } from "./http.ts";
import {
  DISPATCH,
  eventTargetNames,
  type RuntimeEvent,
  type RuntimeState,
  stateNames,
  transition,
} from "./state.ts";

/** Lambda's synchronous payload limit: 6 MB + 100 bytes of envelope (RIE's interop.MaxPayloadSize). */
export const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024 + 100;

/** What the runtime answered, as the caller of Invoke sees it. */
export type RuntimeResult = InvocationOutcome;

export interface RuntimeApiOptions {
  host?: string;
  port?: number;
  /** Routes served on the same host:port after the Runtime API's own (Lambda serves the Extensions API there). */
  routes?: Route[];
  /** Default time budget when `invoke()` is not given a deadline. */
  defaultTimeoutMs?: number;
}

export interface InvokeOptions {
  /** Absolute epoch ms sent as Lambda-Runtime-Deadline-Ms. */
  deadlineMs?: number;
}

export interface InitErrorReport {
  errorType: string;
  payload: Buffer;
}

/** An invocation as handed to the runtime (also what extensions see in their INVOKE event). */
export interface DispatchedInvocation {
  input: InvocationInput;
  deadlineMs: number;
}

interface Pending extends DispatchedInvocation {
  resolve(result: RuntimeResult): void;
  reject(err: Error): void;
}

const HEADER_SAFE = /^[\t\x20-\x7e]*$/;

export class RuntimeApiServer {
  readonly address: string;
  private state: RuntimeState = "started";
  private readonly queue: Pending[] = [];
  private current: Pending | undefined;
  /** The id RIE's AwsRequestIDValidator accepts: set when an event is handed out, cleared by the next /next. */
  private activeId: string | undefined;
  /** The event last handed out, re-sent to a runtime that asks for /next again before answering it. */
  private activeEvent: { headers: Record<string, string | number>; payload: Buffer } | undefined;
  private parked: ServerResponse | undefined;
  private readonly events = new EventEmitter();
  private closed = false;

  constructor(
    private readonly server: Server,
    private readonly defaultTimeoutMs: number,
  ) {
    const a = server.address() as AddressInfo;
    this.address = `${a.address}:${a.port}`;
  }

  get runtimeState(): RuntimeState {
    return this.state;
  }

  /** Queues an invocation for the next GET /next; resolves with what the runtime posted. */
  invoke(input: InvocationInput, opts: InvokeOptions = {}): Promise<RuntimeResult> {
    validateInput(input);
    if (this.closed) return Promise.reject(new InvocationAbortedError(input.requestId, "server closed"));
    return new Promise((resolve, reject) => {
      const deadlineMs = opts.deadlineMs ?? Date.now() + this.defaultTimeoutMs;
      this.queue.push({ input, deadlineMs, resolve, reject });
      this.pump();
    });
  }

  /** Fires when the runtime reports /init/error. Queued invocations get the init error as their function error. */
  onInitError(listener: (report: InitErrorReport) => void): void {
    this.events.on("init-error", listener);
  }

  /** Fires when an invocation is handed to the runtime (the moment extensions get their INVOKE event). */
  onDispatch(listener: (inv: DispatchedInvocation) => void): void {
    this.events.on("dispatch", listener);
  }

  /** Resolves when the runtime is parked in GET /next (at once if it already is). */
  whenReady(): Promise<void> {
    if (this.state === "ready") return Promise.resolve();
    return new Promise((resolve) => this.events.once("ready", resolve));
  }

  /**
   * Forgets the runtime (it was killed or will be re-spawned): in-flight and queued invocations are rejected,
   * a parked /next is dropped, and the lifecycle starts over at "started".
   */
  reset(reason: string): void {
    this.abortAll(reason);
    this.dropParked();
    this.activeId = undefined;
    this.activeEvent = undefined;
    this.state = "started";
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.abortAll("server closed");
    this.dropParked();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  // ---- routes: one handler per endpoint ----

  readonly routes: Route[] = [
    { method: "GET", path: /^\/2018-06-01\/runtime\/invocation\/next$/, handler: (q, s) => this.next(q, s) },
    {
      method: "POST",
      path: /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/response$/,
      handler: (q, s, p) => this.response(q, s, p[0]!),
    },
    {
      method: "POST",
      path: /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/error$/,
      handler: (q, s, p) => this.error(q, s, p[0]!),
    },
    { method: "POST", path: /^\/2018-06-01\/runtime\/init\/error$/, handler: (q, s) => this.initError(q, s) },
  ];

  private next(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    if (this.state === "invoking" && this.activeEvent) {
      // RIE: the runtime stays "Ready" while it holds an event, so /next again is allowed and renders the same
      // event (lambda/core/states.go RuntimeReadyState.Ready, rapi/rendering InvokeRenderer). No new INVOKE.
      res.writeHead(200, this.activeEvent.headers);
      res.end(this.activeEvent.payload);
      return;
    }
    this.move("next");
    this.activeId = undefined;
    this.activeEvent = undefined;
    this.parked = res;
    res.on("close", () => {
      // The runtime hung up while parked (it died): it can no longer take an event.
      if (this.parked === res) this.parked = undefined;
    });
    this.events.emit("ready");
    this.pump();
  }

  private async response(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const inv = this.checkInvocation("response", id);
    this.move("response");
    const mode = header(req, "lambda-runtime-function-response-mode");
    if (mode !== undefined && mode.toLowerCase() !== "streaming") {
      // RIE (rapi/handler/invocationresponse.go): the invocation fails with Runtime.InvalidResponseModeHeader and
      // the runtime is left in InvocationResponse (no response-done): it can neither answer again nor ask /next.
      this.settle(inv, invalidResponseMode(id));
      throw new ApiError(400, "InvalidFunctionResponseMode", "Invalid function response mode");
    }
    const contentType = header(req, "content-type") ?? "application/json";
    if (mode !== undefined && inv.input.acceptStreaming) {
      this.streamThrough(req, res, inv, contentType);
      return;
    }
    let result: { body: Buffer; tooLarge: boolean };
    try {
      result = await readBody(req, MAX_PAYLOAD_BYTES);
    } catch {
      this.finish(inv, truncated(inv.input.requestId));
      return;
    }
    if (result.tooLarge) {
      this.finish(inv, responseTooLarge());
      renderError(res, tooLargeError());
      return;
    }
    const trailerType = req.trailers["lambda-runtime-function-error-type"];
    if (mode !== undefined && trailerType) {
      // A streamed error read through a buffered Invoke: the caller gets it as a function error.
      const errBody = req.trailers["lambda-runtime-function-error-body"];
      const payload = errBody ? Buffer.from(errBody, "base64") : Buffer.from("{}");
      this.finish(inv, { kind: "function-error", errorType: trailerType, payload });
    } else {
      this.finish(inv, { kind: "response", payload: result.body, contentType });
    }
    accepted(res);
  }

  private async error(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const inv = this.checkInvocation("error", id);
    this.move("error");
    let body: Buffer;
    try {
      const r = await readBody(req, MAX_PAYLOAD_BYTES);
      body = r.tooLarge ? Buffer.from("{}") : r.body;
    } catch {
      this.settle(inv, truncated(inv.input.requestId));
      return;
    }
    const errorType = header(req, "lambda-runtime-function-error-type") ?? errorTypeOf(body) ?? "Unhandled";
    this.settle(inv, { kind: "function-error", errorType, payload: body });
    accepted(res);
  }

  private async initError(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.move("init-error");
    const { body } = await readBody(req, MAX_PAYLOAD_BYTES).catch(() => ({ body: Buffer.from("{}") }));
    const errorType =
      header(req, "lambda-runtime-function-error-type") ?? errorTypeOf(body) ?? "Runtime.Unknown";
    const report = { errorType, payload: body };
    for (const p of this.queue.splice(0)) p.resolve({ kind: "function-error", ...report });
    accepted(res);
    this.events.emit("init-error", report);
  }

  // ---- machinery ----

  /** Applies a runtime-driven event or refuses it with RIE's 403. */
  private move(event: RuntimeEvent): void {
    const to = transition(this.state, event);
    if (to === undefined) {
      throw new ApiError(
        403,
        "InvalidStateTransition",
        `State transition from ${stateNames[this.state]} to ${eventTargetNames[event]} failed for runtime. Error: State transition is not allowed`,
      );
    }
    this.state = to;
  }

  /**
   * Id first, then state (RIE's router.go: AwsRequestIDValidator runs before the handler's state transition): a
   * post with no event handed out, or with another id, is a 400; a second answer to the current event a 403.
   */
  private checkInvocation(event: RuntimeEvent, id: string): Pending {
    if (this.activeId === undefined || this.activeId !== id) {
      throw new ApiError(400, "InvalidRequestID", "Invalid request ID");
    }
    if (transition(this.state, event) === undefined) this.move(event);
    if (!this.current) throw new ApiError(400, "InvalidRequestID", "Invalid request ID");
    return this.current;
  }

  private streamThrough(req: IncomingMessage, res: ServerResponse, inv: Pending, contentType: string): void {
    const body = new PassThrough();
    let resolveCompletion!: (c: StreamCompletion) => void;
    const completion = new Promise<StreamCompletion>((r) => {
      resolveCompletion = r;
    });
    this.settle(inv, { kind: "stream", body, contentType, completion });
    req.pipe(body, { end: false });
    req.on("end", () => {
      const errorType = req.trailers["lambda-runtime-function-error-type"];
      const errorBody = req.trailers["lambda-runtime-function-error-body"];
      body.end();
      resolveCompletion(errorType ? { errorType, errorBody: errorBody ?? "" } : {});
      this.doneResponding();
      accepted(res);
    });
    req.on("aborted", () => {
      body.destroy(new Error("runtime hung up mid-stream"));
      resolveCompletion({ errorType: "Runtime.TruncatedResponse", errorBody: "" });
      this.doneResponding();
    });
  }

  /** Settles a response (state responding → response-sent). */
  private finish(inv: Pending, result: RuntimeResult): void {
    this.settle(inv, result);
    this.doneResponding();
  }

  private doneResponding(): void {
    if (this.state === "responding") this.move("response-done");
  }

  private settle(inv: Pending, result: RuntimeResult): void {
    if (this.current === inv) this.current = undefined;
    inv.resolve(result);
  }

  /** Hands the oldest queued invocation to a parked runtime. */
  private pump(): void {
    if (this.state !== DISPATCH.from || !this.parked || this.current) return;
    const inv = this.queue.shift();
    if (!inv) return;
    const res = this.parked;
    this.parked = undefined;
    this.current = inv;
    this.state = DISPATCH.to;
    const { input } = inv;
    const headers: Record<string, string | number> = {
      // The official client segfaults when Content-Type is missing.
      "Content-Type": "application/json",
      "Content-Length": input.payload.length,
      "Lambda-Runtime-Aws-Request-Id": input.requestId,
      "Lambda-Runtime-Deadline-Ms": String(inv.deadlineMs),
      "Lambda-Runtime-Invoked-Function-Arn": input.invokedFunctionArn,
      "Lambda-Runtime-Trace-Id": input.traceId,
    };
    // The decoded JSON travels as UTF-8 bytes (Node writes header strings as latin1, one byte per char).
    if (input.clientContext !== undefined)
      headers["Lambda-Runtime-Client-Context"] = Buffer.from(input.clientContext, "utf8").toString("latin1");
    if (input.cognitoIdentity !== undefined)
      headers["Lambda-Runtime-Cognito-Identity"] = input.cognitoIdentity;
    this.activeId = input.requestId;
    this.activeEvent = { headers, payload: input.payload };
    res.writeHead(200, headers);
    res.end(input.payload);
    this.events.emit("dispatch", { input, deadlineMs: inv.deadlineMs });
  }

  private abortAll(reason: string): void {
    const all = [...(this.current ? [this.current] : []), ...this.queue.splice(0)];
    this.current = undefined;
    for (const p of all) p.reject(new InvocationAbortedError(p.input.requestId, reason));
  }

  private dropParked(): void {
    this.parked?.destroy();
    this.parked = undefined;
  }
}

export async function startRuntimeApi(options: RuntimeApiOptions = {}): Promise<RuntimeApiServer> {
  let api: RuntimeApiServer | undefined;
  // The lab's guard (http-guard.ts): a web page must not read events or post responses through this port either.
  const listener = guardedListener({
    name: "runtime-api",
    handle: (req, res) => dispatch([...api!.routes, ...(options.routes ?? [])], req, res),
    refuse: (_req, res, refusal) => renderError(res, new ApiError(403, "AccessDenied", refusal.message)),
    fail: (_req, res, error) => renderError(res, new ApiError(500, "InternalServerError", String(error))),
  });
  const server = createServer({ requestTimeout: 0, keepAliveTimeout: 600_000 }, listener);
  server.timeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  api = new RuntimeApiServer(server, options.defaultTimeoutMs ?? 30_000);
  return api;
}

function validateInput(input: InvocationInput): void {
  if (!input.requestId || !/^[A-Za-z0-9._:-]+$/.test(input.requestId)) {
    throw new InvocationInputError(
      "requestId",
      `must be a non-empty token, got ${JSON.stringify(input.requestId)}`,
    );
  }
  if (!Buffer.isBuffer(input.payload)) throw new InvocationInputError("payload", "must be a Buffer");
  if (input.payload.length > MAX_PAYLOAD_BYTES) {
    throw new InvocationInputError("payload", `${input.payload.length} bytes exceeds ${MAX_PAYLOAD_BYTES}`);
  }
  for (const field of ["invokedFunctionArn", "traceId", "cognitoIdentity"] as const) {
    const v = input[field];
    if (v !== undefined && !HEADER_SAFE.test(v)) {
      throw new InvocationInputError(field, "must be printable ASCII (it travels as an HTTP header)");
    }
  }
  if (input.clientContext !== undefined && hasControlCharacter(input.clientContext)) {
    throw new InvocationInputError(
      "clientContext",
      "must not contain control characters (it travels as a header)",
    );
  }
}

/** Tab is allowed in a header value; every other C0 control and DEL is not. */
function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return true;
  }
  return false;
}

function errorTypeOf(body: Buffer): string | undefined {
  try {
    const parsed = JSON.parse(body.toString("utf8")) as { errorType?: unknown };
    return typeof parsed?.errorType === "string" && parsed.errorType ? parsed.errorType : undefined;
  } catch {
    return undefined;
  }
}

/** What the caller gets when the function's response exceeds the limit (Lambda's exact text). */
export function responseTooLarge(): RuntimeResult {
  return {
    kind: "function-error",
    errorType: "Function.ResponseSizeTooLarge",
    payload: Buffer.from(
      JSON.stringify({
        errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_PAYLOAD_BYTES} bytes).`,
        errorType: "Function.ResponseSizeTooLarge",
      }),
    ),
  };
}

/** What the runtime gets back when it posts too much (RIE's 413). */
function tooLargeError(): ApiError {
  return new ApiError(
    413,
    "RequestEntityTooLarge",
    `Exceeded maximum allowed payload size (${MAX_PAYLOAD_BYTES} bytes).`,
  );
}

/** RIE: fatalerror.RuntimeInvalidResponseModeHeader, sent to the caller as the invocation's error. */
function invalidResponseMode(requestId: string): RuntimeResult {
  return {
    kind: "function-error",
    errorType: "Runtime.InvalidResponseModeHeader",
    payload: Buffer.from(
      JSON.stringify({
        errorType: "Runtime.InvalidResponseModeHeader",
        errorMessage: `RequestId: ${requestId} Error: Invalid function response mode`,
      }),
    ),
  };
}

function truncated(requestId: string): RuntimeResult {
  return {
    kind: "function-error",
    errorType: "Runtime.TruncatedResponse",
    payload: Buffer.from(
      JSON.stringify({
        errorType: "Runtime.TruncatedResponse",
        errorMessage: `RequestId: ${requestId} Error: runtime hung up before the response was complete`,
      }),
    ),
  };
}
