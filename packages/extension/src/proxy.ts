import http, { type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type AnswerRule,
  answerRule,
  holdFor,
  ownAnswer,
  parseDeadline,
  readAll,
  replacementFor,
} from "./answer.ts";
import type { Clock } from "./clock.ts";
import { UpstreamError } from "./errors.ts";
import type { Posted } from "./faults/index.ts";
import type { Plan } from "./injector.ts";
import type { Logger } from "./log.ts";

export interface ProxyOptions {
  /** host:port of the Runtime API to forward to. */
  upstream: string;
  /**
   * Decides one invocation (may hold it briefly to refresh the fault view). Must not reject. A plain value
   * when nothing needs waiting for (the common case: no promise per invocation).
   */
  plan(invokedFunctionArn: string, requestId: string): Plan | Promise<Plan>;
  /** Called once per injected fault (logs, metrics). */
  onInjected?(plan: Plan, requestId: string, part: "delay" | "outcome" | "hold"): void;
  /** Awaited before the runtime's first `next` goes upstream, which ends Init (init-delay). Must not reject. */
  beforeFirstNext?(): Promise<void>;
  clock: Clock;
  log: Logger;
}

export interface RuntimeApiProxy {
  readonly port: number;
  close(): Promise<void>;
}

const API = "/2018-06-01/runtime";
const MAX_PENDING_REPLACEMENTS = 64;
/** Headers that describe one connection, never forwarded. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "host", "proxy-connection", "upgrade"]);

type Handler = (req: IncomingMessage, res: ServerResponse, match: RegExpExecArray) => Promise<void>;
/** The match handed to pass-through routes, which read none. */
const NO_MATCH = /.*/.exec("") as RegExpExecArray;

/**
 * A Runtime API proxy: the runtime talks to it as if it were Lambda. Bodies are streamed, never parsed or
 * re-serialised; only `next` and the invocation result routes are ever touched, and only when a fault applies.
 */
export async function startProxy(options: ProxyOptions, port: { explicit?: number; preferred: number }) {
  const [upstreamHost, upstreamPort] = splitHostPort(options.upstream);
  const agent = new UpstreamAgent(options.upstream);
  /** Invocations whose answer a fault changes or holds once the handler has run (preventExecution false). */
  const rules = new Map<string, AnswerRule>();
  let initHeld = options.beforeFirstNext === undefined;

  /** Sent as Host upstream: node adds none when headers come as a list, and Lambda's Runtime API needs one. */
  const upstreamHostHeader = options.upstream;
  function upstreamRequest(method: string, path: string, headers: OutgoingHttpHeaders | string[]) {
    return http.request({ host: upstreamHost, port: upstreamPort, method, path, headers, agent });
  }

  /** `cancel`: fires if the runtime hangs up first; the upstream request is then aborted. */
  function send(
    method: string,
    path: string,
    headers: OutgoingHttpHeaders | string[],
    body?: Buffer,
    cancel?: ServerResponse,
  ) {
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = upstreamRequest(method, path, headers);
      const abort = () => req.destroy();
      cancel?.once("close", abort);
      req.on("response", (answer) => {
        cancel?.off("close", abort);
        resolve(answer);
      });
      req.on("error", (error) => {
        cancel?.off("close", abort);
        reject(new UpstreamError(`${method} ${path}: ${error.message}`));
      });
      req.end(body);
    });
  }

  /** Posts an injected result for `requestId` in the runtime's place. */
  function postOutcome(requestId: string, outcome: Posted) {
    const headers: OutgoingHttpHeaders = {
      "content-type": outcome.kind === "error" ? "application/json" : outcome.contentType,
      "content-length": outcome.body.length,
    };
    if (outcome.kind === "error") headers["lambda-runtime-function-error-type"] = outcome.errorType;
    const path = `${API}/invocation/${encodeURIComponent(requestId)}/${outcome.kind === "error" ? "error" : "response"}`;
    return send("POST", path, headers, outcome.body);
  }

  /** GET next: where delays happen and where preventExecution short-circuits. */
  const next: Handler = async (req, res) => {
    if (!initHeld) {
      initHeld = true;
      await options.beforeFirstNext?.();
    }
    for (;;) {
      // A runtime that hangs up while waiting (it died) must not have an event taken on its behalf.
      if (req.socket.destroyed) return;
      const event = await send(
        "GET",
        req.url ?? `${API}/invocation/next`,
        forwardHeaders(req, upstreamHostHeader),
        undefined,
        res,
      );
      const requestId = header(event, "lambda-runtime-aws-request-id");
      if (event.statusCode !== 200 || requestId === undefined) return relay(event, res);
      const decided = options.plan(header(event, "lambda-runtime-invoked-function-arn") ?? "", requestId);
      const plan = decided instanceof Promise ? await decided : decided;
      if (plan.delay !== undefined) {
        options.onInjected?.(plan, requestId, "delay");
        await options.clock.sleep(plan.delay.milliseconds);
      }
      if (plan.outcome === undefined && plan.hold === undefined) return relay(event, res);
      if (plan.outcome !== undefined) options.onInjected?.(plan, requestId, "outcome");
      if (plan.hold !== undefined) options.onInjected?.(plan, requestId, "hold");
      if (plan.outcome?.preventExecution) {
        // The runtime never sees this event: answer it ourselves (held first, if a response-delay says so), then
        // wait for the next one on its behalf.
        event.resume();
        if (plan.hold !== undefined) await options.clock.sleep(plan.hold.milliseconds);
        (await postOutcome(requestId, plan.outcome.outcome)).resume();
        continue;
      }
      const deadline = parseDeadline(header(event, "lambda-runtime-deadline-ms"));
      const rule = answerRule(plan, options.clock.now(), deadline);
      // Entries leave on the runtime's result; a runtime that died mid-invocation leaves one behind, so cap.
      if (rules.size >= MAX_PENDING_REPLACEMENTS) rules.delete(rules.keys().next().value as string);
      if (rule !== undefined) rules.set(requestId, rule);
      return relay(event, res);
    }
  };

  /**
   * POST …/{id}/response or …/{id}/error: held and/or replaced when a fault said so, piped through otherwise.
   * A replaced answer is read whole and posted buffered, streamed or not (a corruption needs the whole body).
   */
  const result: Handler = async (req, res, match) => {
    const requestId = decodeURIComponent(match[1] ?? "");
    const rule = rules.get(requestId);
    if (rule === undefined) return forward(req, res);
    rules.delete(requestId);
    const holdMs = holdFor(rule, options.clock.now());
    // Held past the deadline, the runtime is killed by Lambda's timeout: then nothing more is sent.
    if (holdMs > 0 && !(await heldUnlessClosed(holdMs, res))) return;
    if (rule.outcome === undefined || rule.outcome.kind === "timeout") return forward(req, res);
    const own = ownAnswer(req, match[2] === "error", await readAll(req));
    relay(await postOutcome(requestId, replacementFor(rule.outcome, own) ?? own), res);
  };

  const passThrough: Handler = (req, res) => forward(req, res);

  /** The route table: everything not listed is passed through untouched (init/error, future routes). */
  const routes: ReadonlyArray<{ method: string; path: RegExp; handler: Handler }> = [
    { method: "GET", path: /^\/2018-06-01\/runtime\/invocation\/next$/, handler: next },
    {
      method: "POST",
      path: /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/,
      handler: result,
    },
  ];

  /** Streams a request upstream (trailers included, for streamed responses) and the answer back. */
  function forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    return new Promise((resolve, reject) => {
      const up = upstreamRequest(
        req.method ?? "GET",
        req.url ?? "/",
        forwardHeaders(req, upstreamHostHeader),
      );
      up.on("response", (answer) => {
        relay(answer, res);
        resolve();
      });
      up.on("error", (error) => reject(new UpstreamError(`${req.method} ${req.url}: ${error.message}`)));
      req.on("data", (chunk: Buffer) => {
        if (!up.write(chunk)) {
          req.pause();
          up.once("drain", () => req.resume());
        }
      });
      req.on("end", () => {
        if (req.rawTrailers.length > 0 && up.chunkedEncoding) up.addTrailers(pairs(req.rawTrailers));
        up.end();
      });
      req.on("error", (error) => up.destroy(error));
    });
  }

  const server = http.createServer((req, res) => {
    if (!fromRuntime(req)) {
      renderError(res, 403, "Faultline.Forbidden", "only the function's runtime may call this proxy");
      return;
    }
    const url = req.url ?? "/";
    const query = url.indexOf("?");
    const path = query === -1 ? url : url.slice(0, query);
    let handler = passThrough;
    let match = NO_MATCH;
    for (const route of routes) {
      const found = route.method === req.method ? route.path.exec(path) : null;
      if (found) {
        handler = route.handler;
        match = found;
        break;
      }
    }
    let hungUp = false;
    res.once("close", () => {
      hungUp = !res.writableFinished;
    });
    handler(req, res, match).catch((error: Error) => {
      // The runtime hung up first (SIGTERM at shutdown, a crash): nobody to answer and nothing failed here.
      if (hungUp) return;
      options.log.error(`runtime API proxy: ${error.message}`);
      renderError(res, 502, "Faultline.UpstreamError", error.message);
    });
  });
  // The runtime keeps its connection across freezes: never time it out from our side, and never cap how long
  // a streamed response may take to arrive.
  server.keepAliveTimeout = 0;
  server.requestTimeout = 0;
  server.headersTimeout = 0;

  const chosen = await listen(server, port);
  return {
    port: chosen,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  } satisfies RuntimeApiProxy;
}

/**
 * The kept-alive agent for the one upstream, with one pool name. node's Agent builds `getName()` afresh per request
 * and stores its socket lists under it: a keyed store with a new (not internalized) string misses V8's inline cache,
 * and every miss leaves an IC handler in old space (24 bytes, twice per invocation). Nothing collects old space
 * before the first mark-compact, far off for a 5 MB heap, so that garbage was most of the proxy's RSS growth.
 */
class UpstreamAgent extends http.Agent {
  readonly #name: string;

  constructor(upstream: string) {
    super({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
    // A property key is internalized: reading it back gives the string V8's inline caches compare by identity.
    this.#name = Object.keys({ [`upstream ${upstream}`]: true })[0] as string;
  }

  override getName(): string {
    return this.#name;
  }
}

/** Explicit port: that one or nothing. Otherwise the preferred port, or an ephemeral one if it is taken. */
async function listen(server: http.Server, port: { explicit?: number; preferred: number }): Promise<number> {
  const attempt = (p: number) =>
    new Promise<number>((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      server.once("error", onError);
      server.listen(p, "127.0.0.1", () => {
        server.off("error", onError);
        resolve((server.address() as AddressInfo).port);
      });
    });
  if (port.explicit !== undefined) return attempt(port.explicit);
  try {
    return await attempt(port.preferred);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error;
    return attempt(0);
  }
}

/** Resolves true after `ms`, or false as soon as the runtime hangs up. */
function heldUnlessClosed(ms: number, res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const gone = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      res.off("close", gone);
      resolve(true);
    }, ms);
    res.once("close", gone);
  });
}

function relay(answer: IncomingMessage, res: ServerResponse): void {
  res.writeHead(answer.statusCode ?? 502, endToEnd(answer.rawHeaders, true));
  answer.pipe(res);
  answer.on("error", () => res.destroy());
}

/** The one error shape the proxy renders. */
/** Runtime clients reach us as AWS_LAMBDA_RUNTIME_API (a loopback address) and are never browsers. */
const LOOPBACK_HOST = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?$/i;

/**
 * Where the proxy shares a network with other software (the lab, a laptop), a web page must not be able to drive
 * it: a DNS-rebinding page sends a foreign Host, a cross-origin one an Origin. Two header reads per request.
 */
function fromRuntime(req: IncomingMessage): boolean {
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    if (name === "origin" || name === "sec-fetch-site") return false;
    if (name === "host" && !LOOPBACK_HOST.test(raw[i + 1] as string)) return false;
  }
  return true;
}

function renderError(res: ServerResponse, status: number, errorType: string, errorMessage: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ errorType, errorMessage });
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

function forwardHeaders(req: IncomingMessage, host: string): string[] {
  const headers = endToEnd(req.rawHeaders, false);
  headers.push("Host", host);
  return headers;
}

/**
 * The end-to-end headers of `raw` (name, value, name, value…), as the flat list node:http accepts. Raw
 * headers, not `headers`: no object built and copied per request, names and repeats kept as sent.
 */
function endToEnd(raw: string[], dropTransferEncoding: boolean): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    if (HOP_BY_HOP.has(name) || (dropTransferEncoding && name === "transfer-encoding")) continue;
    out.push(raw[i] as string, raw[i + 1] as string);
  }
  return out;
}

/**
 * The first value of header `name` (lower case), from the raw list: `headers`, built on first use, would be one
 * more object per event.
 */
function header(message: IncomingMessage, name: string): string | undefined {
  const raw = message.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if ((raw[i] as string).length === name.length && (raw[i] as string).toLowerCase() === name) {
      return raw[i + 1] === "" ? undefined : raw[i + 1];
    }
  }
  return undefined;
}

function pairs(raw: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i] as string, raw[i + 1] as string]);
  return out;
}

export function splitHostPort(hostPort: string): [string, number] {
  const colon = hostPort.lastIndexOf(":");
  return [hostPort.slice(0, colon).replace(/^\[|\]$/g, ""), Number(hostPort.slice(colon + 1))];
}
