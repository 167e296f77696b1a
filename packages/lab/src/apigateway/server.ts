/**
 * One HTTP server per API on 127.0.0.1: request → route → proxy event → the function's pool (the same path as
 * Invoke, so metrics, logs and concurrency count it) → API Gateway's mapping of the result.
 */
import { createHash, randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
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

export async function startApiGateway(
  spec: ApiSpec,
  ctx: ApiGatewayContext,
  options: { host?: string; allowedHosts?: readonly string[] } = {},
): Promise<RunningApi> {
  const host = options.host ?? "127.0.0.1";
  const id = apiIdOf(spec.name);
  const routes: CompiledRoute[] = spec.routes.map(compileRoute);
  const format = spec.payloadFormatVersion;
  const stage = format === "2.0" ? "$default" : "prod";

  // HTTP APIs are measured per ApiId (and Stage), REST APIs per ApiName (and Stage), as in CloudWatch.
  const dimensionSets: Record<string, string>[] =
    format === "2.0"
      ? [{ ApiId: id }, { ApiId: id, Stage: stage }]
      : [{ ApiName: spec.name }, { ApiName: spec.name, Stage: stage }];
  const record = (startMs: number, status: number, latencyMs: number, integrationMs?: number) => {
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

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const startMs = Date.now();
    const started = performance.now();
    let integrationMs: number | undefined;
    // Recorded as the answer leaves, so a caller that got its response finds it counted.
    const reply = (answer: HttpAnswer) => {
      record(startMs, answer.status, performance.now() - started, integrationMs);
      sendAnswer(res, answer, idHeader);
    };
    const requestId = randomUUID();
    const idHeader: Record<string, string> =
      format === "2.0" ? { "apigw-requestid": requestId } : { "x-amzn-requestid": requestId };
    const { pathname, query } = splitTarget(req.url);
    // Built from parts: `new URL("///", base)` throws on what a client can send.
    const url = new URL(`http://localhost${pathname.startsWith("/") ? "" : "/"}${pathname}`);
    url.search = query.toString();
    let body: Buffer;
    try {
      body = await readBody(req, API_PAYLOAD_LIMIT);
    } catch (error) {
      const status = error instanceof RequestTooLargeError ? 413 : 400;
      reply(messageAnswer(status, MESSAGES.tooLarge[format]));
      return;
    }
    const match = matchRoute(routes, req.method ?? "GET", url.pathname);
    const pool = match ? ctx.pools.get(match.route.function) : undefined;
    if (!match || !pool) {
      reply(messageAnswer(format === "2.0" ? 404 : 403, MESSAGES.notFound[format]));
      return;
    }
    const facts: RequestFacts = {
      req,
      url,
      body,
      route: match.route,
      pathParameters: match.pathParameters,
      requestId,
      apiId: id,
      accountId: ctx.accountId,
      stage,
      now: new Date(),
    };
    const event = format === "2.0" ? toV2Event(facts) : toV1Event(facts);
    let answer: HttpAnswer;
    const integrationStarted = performance.now();
    try {
      const report = await pool.invoke({
        requestId: randomUUID(),
        payload: Buffer.from(JSON.stringify(event)),
        invokedFunctionArn: pool.spec.arn,
        traceId: header(req, "x-amzn-trace-id") ?? newTraceId(),
        acceptStreaming: false,
      });
      answer = await answerOf(report, format);
      integrationMs = performance.now() - integrationStarted;
    } catch {
      // Throttles and lab failures: the integration failed, API Gateway answers 500.
      answer = messageAnswer(500, MESSAGES.internal[format]);
    }
    reply(answer);
  };

  // Browsers are let through (a web app may call its API, as on AWS; CORS headers are the function's to send), but
  // the Host check applies: a DNS-rebinding page must not reach the functions behind it.
  const server = createGuardedServer({
    name: `api ${spec.name}`,
    browsers: "allow",
    allowedHosts: allowList(host, options.allowedHosts),
    handle,
    // What API Gateway answers for a host name it does not serve.
    refuse: (_req, res) => sendAnswer(res, messageAnswer(403, "Forbidden"), {}),
    fail: (_req, res) => sendAnswer(res, messageAnswer(500, MESSAGES.internal[format]), {}),
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(spec.port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closed: Promise<void> | undefined;
  return {
    name: spec.name,
    id,
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
