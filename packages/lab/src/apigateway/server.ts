/**
 * One HTTP server per API on 127.0.0.1: request → route → proxy event → the function's pool (the same path as
 * Invoke, so metrics, logs and concurrency count it) → API Gateway's mapping of the result.
 */
import { createHash, randomUUID } from "node:crypto";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { InvocationReport } from "../contract.ts";
import { RequestTooLargeError } from "../errors.ts";
import { allowList, createGuardedServer, splitTarget } from "../http-guard.ts";
import { readBody } from "../lambda-api/http.ts";
import { newTraceId } from "../lambda-api/trace.ts";
import type { MetricStore } from "../metrics/store.ts";
import type { FunctionPool } from "../pool.ts";
import { type PayloadFormatVersion, type RequestFacts, toV1Event, toV2Event } from "./events.ts";
import { type HttpAnswer, MESSAGES, mapFunctionResult, messageAnswer, sendAnswer } from "./responses.ts";
import { type CompiledRoute, compileRoute, matchRoute, type RouteSpec } from "./routes.ts";

/** API Gateway's payload limit. */
export const API_PAYLOAD_LIMIT = 10 * 1024 * 1024;

export interface ApiSpec {
  name: string;
  port: number;
  payloadFormatVersion: PayloadFormatVersion;
  routes: RouteSpec[];
}

export interface ApiGatewayContext {
  accountId: string;
  pools: ReadonlyMap<string, FunctionPool>;
  /** Where AWS/ApiGateway metrics go (Count, 4xx/5xx or 4XXError/5XXError, Latency, IntegrationLatency). */
  metrics?: MetricStore;
}

export const API_GATEWAY_NAMESPACE = "AWS/ApiGateway";

/** The API id: 10 characters derived from the name, so dashboards can name it before the lab starts. */
export function apiIdOf(name: string): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  return [...createHash("sha256").update(name).digest()]
    .slice(0, 10)
    .map((b) => alphabet[b % alphabet.length])
    .join("");
}

export interface RunningApi {
  name: string;
  /** A stable-looking id (10 lowercase characters), as API Gateway gives one. */
  id: string;
  /** e.g. http://127.0.0.1:40123 — no stage prefix in the path. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** What one API's requests need: its identity, how it answers, where it sends them. */
interface Api {
  name: string;
  id: string;
  format: PayloadFormatVersion;
  stage: string;
  routes: CompiledRoute[];
  ctx: ApiGatewayContext;
  record: RecordMetrics;
}

type RecordMetrics = (startMs: number, status: number, latencyMs: number, integrationMs?: number) => void;

export async function startApiGateway(
  spec: ApiSpec,
  ctx: ApiGatewayContext,
  options: { host?: string; allowedHosts?: readonly string[] } = {},
): Promise<RunningApi> {
  const host = options.host ?? "127.0.0.1";
  const api = apiOf(spec, ctx);
  const server = apiServer(api, host, options.allowedHosts);
  await listen(server, spec.port, host);
  return runningApi(api, server, host);
}

function apiOf(spec: ApiSpec, ctx: ApiGatewayContext): Api {
  const format = spec.payloadFormatVersion;
  const facts = {
    name: spec.name,
    id: apiIdOf(spec.name),
    format,
    stage: format === "2.0" ? "$default" : "prod",
    routes: spec.routes.map(compileRoute),
    ctx,
  };
  return { ...facts, record: metricsRecorder(facts, ctx) };
}

/** Count, 4xx/5xx (or 4XXError/5XXError), Latency and IntegrationLatency for one request, stamped at its start. */
function metricsRecorder(
  api: Pick<Api, "name" | "id" | "format" | "stage">,
  ctx: ApiGatewayContext,
): RecordMetrics {
  const { format } = api;
  // HTTP APIs are measured per ApiId (and Stage), REST APIs per ApiName (and Stage), as in CloudWatch.
  const dimensionSets: Record<string, string>[] =
    format === "2.0"
      ? [{ ApiId: api.id }, { ApiId: api.id, Stage: api.stage }]
      : [{ ApiName: api.name }, { ApiName: api.name, Stage: api.stage }];
  return (startMs, status, latencyMs, integrationMs) => {
    const metrics = ctx.metrics;
    if (!metrics) return;
    const put = (metricName: string, value: number, unit: "Count" | "Milliseconds") => {
      for (const dimensions of dimensionSets) {
        metrics.put({
          namespace: API_GATEWAY_NAMESPACE,
          metricName,
          dimensions,
          value,
          unit,
          timestamp: startMs,
        });
      }
    };
    put("Count", 1, "Count");
    put(format === "2.0" ? "4xx" : "4XXError", status >= 400 && status < 500 ? 1 : 0, "Count");
    put(format === "2.0" ? "5xx" : "5XXError", status >= 500 ? 1 : 0, "Count");
    put("Latency", latencyMs, "Milliseconds");
    if (integrationMs !== undefined) put("IntegrationLatency", integrationMs, "Milliseconds");
  };
}

function apiServer(api: Api, host: string, allowedHosts: readonly string[] | undefined): Server {
  // Browsers are let through (a web app may call its API, as on AWS; CORS headers are the function's to send), but
  // the Host check applies: a DNS-rebinding page must not reach the functions behind it.
  return createGuardedServer({
    name: `api ${api.name}`,
    browsers: "allow",
    allowedHosts: allowList(host, allowedHosts),
    handle: (req, res) => handleRequest(api, req, res),
    // What API Gateway answers for a host name it does not serve.
    refuse: (_req, res) => sendAnswer(res, messageAnswer(403, "Forbidden"), {}),
    fail: (_req, res) => sendAnswer(res, messageAnswer(500, MESSAGES.internal[api.format]), {}),
  });
}

/** Every request, in order: read the body → match a route → build the proxy event → invoke → map the result. */
async function handleRequest(api: Api, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const exchange = beginExchange(api, res);
  const url = requestUrl(req.url);
  const body = await readPayload(req, api.format);
  if (!Buffer.isBuffer(body)) return exchange.reply(body);
  const match = matchRoute(api.routes, req.method ?? "GET", url.pathname);
  const pool = match ? api.ctx.pools.get(match.route.function) : undefined;
  if (!match || !pool) {
    return exchange.reply(messageAnswer(api.format === "2.0" ? 404 : 403, MESSAGES.notFound[api.format]));
  }
  const facts: RequestFacts = {
    req,
    url,
    body,
    route: match.route,
    pathParameters: match.pathParameters,
    requestId: exchange.requestId,
    apiId: api.id,
    accountId: api.ctx.accountId,
    stage: api.stage,
    now: new Date(),
  };
  const event = api.format === "2.0" ? toV2Event(facts) : toV1Event(facts);
  const { answer, integrationMs } = await integrate(api, pool, event, req);
  exchange.reply(answer, integrationMs);
}

interface Exchange {
  requestId: string;
  reply(answer: HttpAnswer, integrationMs?: number): void;
}

/** The request's id and its one way out, timed from here. */
function beginExchange(api: Api, res: ServerResponse): Exchange {
  const startMs = Date.now();
  const started = performance.now();
  const requestId = randomUUID();
  const idHeader: Record<string, string> =
    api.format === "2.0" ? { "apigw-requestid": requestId } : { "x-amzn-requestid": requestId };
  return {
    requestId,
    reply(answer, integrationMs) {
      // Recorded as the answer leaves, so a caller that got its response finds it counted.
      api.record(startMs, answer.status, performance.now() - started, integrationMs);
      sendAnswer(res, answer, idHeader);
    },
  };
}

function requestUrl(target: string | undefined): URL {
  const { pathname, query } = splitTarget(target);
  // Built from parts: `new URL("///", base)` throws on what a client can send.
  const url = new URL(`http://localhost${pathname.startsWith("/") ? "" : "/"}${pathname}`);
  url.search = query.toString();
  return url;
}

/** The body, or API Gateway's answer when it is too large or cannot be read. */
async function readPayload(req: IncomingMessage, format: PayloadFormatVersion): Promise<Buffer | HttpAnswer> {
  try {
    return await readBody(req, API_PAYLOAD_LIMIT);
  } catch (error) {
    const status = error instanceof RequestTooLargeError ? 413 : 400;
    return messageAnswer(status, MESSAGES.tooLarge[format]);
  }
}

/** Invokes the function through its pool, as Invoke does; IntegrationLatency only when the function answered. */
async function integrate(
  api: Api,
  pool: FunctionPool,
  event: unknown,
  req: IncomingMessage,
): Promise<{ answer: HttpAnswer; integrationMs?: number }> {
  const integrationStarted = performance.now();
  try {
    const report = await pool.invoke({
      requestId: randomUUID(),
      payload: Buffer.from(JSON.stringify(event)),
      invokedFunctionArn: pool.spec.arn,
      traceId: header(req, "x-amzn-trace-id") ?? newTraceId(),
      acceptStreaming: false,
    });
    const answer = await answerOf(report, api.format);
    return { answer, integrationMs: performance.now() - integrationStarted };
  } catch {
    // Throttles and lab failures: the integration failed, API Gateway answers 500.
    return { answer: messageAnswer(500, MESSAGES.internal[api.format]) };
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function runningApi(api: Api, server: Server, host: string): RunningApi {
  const port = (server.address() as AddressInfo).port;
  let closed: Promise<void> | undefined;
  return {
    name: api.name,
    id: api.id,
    url: `http://${host}:${port}`,
    port,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

async function answerOf(report: InvocationReport, format: PayloadFormatVersion): Promise<HttpAnswer> {
  const { outcome } = report;
  if (outcome.kind === "function-error") return messageAnswer(502, MESSAGES.internal[format]);
  let payload: Buffer;
  if (outcome.kind === "stream") {
    const chunks: Buffer[] = [];
    for await (const chunk of outcome.body) chunks.push(Buffer.from(chunk));
    payload = Buffer.concat(chunks);
  } else payload = outcome.payload;
  return mapFunctionResult(payload, format);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
