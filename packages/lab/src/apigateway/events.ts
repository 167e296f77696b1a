/**
 * HTTP request → API Gateway Lambda proxy event, in the two payload formats:
 * 2.0 (HTTP API: lowercase headers, duplicates comma-joined, cookies apart, `routeKey`) and
 * 1.0 (REST API: original header case, single and multi-value maps, `resource`).
 */
import type { IncomingMessage } from "node:http";
import type { CompiledRoute } from "./routes.ts";

export type PayloadFormatVersion = "1.0" | "2.0";

export interface RequestFacts {
  req: IncomingMessage;
  url: URL;
  body: Buffer;
  route: CompiledRoute;
  pathParameters: Record<string, string>;
  requestId: string;
  apiId: string;
  accountId: string;
  stage: string;
  now: Date;
}

/** Bodies of these types travel as text; anything else is base64 as API Gateway does for binary media. */
const TEXT_TYPES = /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded)|[^;]*\+(json|xml))/i;

function bodyOf(facts: RequestFacts): { body?: string; isBase64Encoded: boolean } {
  if (facts.body.length === 0) return { isBase64Encoded: false };
  const type = facts.req.headers["content-type"] ?? "";
  if (type === "" || TEXT_TYPES.test(type))
    return { body: facts.body.toString("utf8"), isBase64Encoded: false };
  return { body: facts.body.toString("base64"), isBase64Encoded: true };
}

/** `dd/MMM/yyyy:HH:mm:ss +0000`, the requestContext time API Gateway uses. */
export function clfTime(d: Date): string {
  const month = d.toLocaleString("en-US", { month: "short", timeZone: "UTC" });
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getUTCDate())}/${month}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

function queryMaps(url: URL) {
  // No prototype: a `?__proto__=x` parameter is a parameter like any other.
  const single: Record<string, string> = Object.create(null);
  const joined: Record<string, string> = Object.create(null);
  const multi: Record<string, string[]> = Object.create(null);
  for (const [key, value] of url.searchParams) {
    single[key] = value;
    joined[key] = joined[key] === undefined ? value : `${joined[key]},${value}`;
    multi[key] = [...(multi[key] ?? []), value];
  }
  return { single, joined, multi, any: Object.keys(single).length > 0 };
}

export function toV2Event(facts: RequestFacts): Record<string, unknown> {
  const { req, url } = facts;
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    if (name === "cookie") {
      cookies = (Array.isArray(value) ? value.join("; ") : value).split(/;\s*/).filter(Boolean);
      continue;
    }
    headers[name] = Array.isArray(value) ? value.join(",") : value;
  }
  headers["x-forwarded-for"] ??= req.socket.remoteAddress ?? "127.0.0.1";
  const query = queryMaps(url);
  const host = req.headers.host ?? "localhost";
  const event: Record<string, unknown> = {
    version: "2.0",
    routeKey: facts.route.routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ""),
    ...(cookies ? { cookies } : {}),
    headers,
    ...(query.any ? { queryStringParameters: query.joined } : {}),
    requestContext: {
      accountId: facts.accountId,
      apiId: facts.apiId,
      domainName: host,
      domainPrefix: host.split(".")[0],
      http: {
        method: req.method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? "127.0.0.1",
        userAgent: req.headers["user-agent"] ?? "",
      },
      requestId: facts.requestId,
      routeKey: facts.route.routeKey,
      stage: facts.stage,
      time: clfTime(facts.now),
      timeEpoch: facts.now.getTime(),
    },
    ...(Object.keys(facts.pathParameters).length > 0 ? { pathParameters: facts.pathParameters } : {}),
    ...bodyOf(facts),
  };
  return event;
}

export function toV1Event(facts: RequestFacts): Record<string, unknown> {
  const { req, url } = facts;
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  // rawHeaders keeps the case the client sent, as REST APIs pass it on.
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    const value = req.rawHeaders[i + 1]!;
    headers[name] = value;
    multiValueHeaders[name] = [...(multiValueHeaders[name] ?? []), value];
  }
  const query = queryMaps(url);
  const body = bodyOf(facts);
  const resourcePath = facts.route.path;
  return {
    resource: resourcePath,
    path: url.pathname,
    httpMethod: req.method,
    headers,
    multiValueHeaders,
    queryStringParameters: query.any ? query.single : null,
    multiValueQueryStringParameters: query.any ? query.multi : null,
    pathParameters: Object.keys(facts.pathParameters).length > 0 ? facts.pathParameters : null,
    stageVariables: null,
    requestContext: {
      accountId: facts.accountId,
      apiId: facts.apiId,
      domainName: req.headers.host ?? "localhost",
      httpMethod: req.method,
      identity: {
        sourceIp: req.socket.remoteAddress ?? "127.0.0.1",
        userAgent: req.headers["user-agent"] ?? null,
      },
      path: `/${facts.stage}${url.pathname}`,
      protocol: `HTTP/${req.httpVersion}`,
      requestId: facts.requestId,
      requestTime: clfTime(facts.now),
      requestTimeEpoch: facts.now.getTime(),
      resourcePath,
      stage: facts.stage,
    },
    body: body.body ?? null,
    isBase64Encoded: body.isBase64Encoded,
  };
}
