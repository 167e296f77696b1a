/**
 * Function result → HTTP response, as API Gateway maps a Lambda proxy integration's answer. One shape for every
 * answer the API itself gives (`{"message": …}`), one renderer: `sendMessage`.
 */
import type { ServerResponse } from "node:http";
import type { PayloadFormatVersion } from "./events.ts";

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

/** API Gateway's own messages (HTTP API spelling, then REST API spelling where they differ). */
export const MESSAGES = {
  notFound: { "2.0": "Not Found", "1.0": "Missing Authentication Token" },
  internal: { "2.0": "Internal Server Error", "1.0": "Internal server error" },
  tooLarge: { "2.0": "Request Entity Too Large", "1.0": "Request Entity Too Large" },
} as const;

export function messageAnswer(status: number, message: string): HttpAnswer {
  return {
    status,
    headers: { "content-type": "application/json" },
    body: Buffer.from(JSON.stringify({ message })),
  };
}

/** REST (1.0) rejects any key outside these ("Malformed Lambda proxy response"). */
const V1_KEYS = new Set(["statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"]);

/**
 * Maps the function's JSON payload. 2.0: an object with `statusCode` is a proxy response, anything else valid is
 * sent as a 200 JSON body. 1.0: only a well-formed proxy response is accepted; otherwise 502.
 */
export function mapFunctionResult(payload: Buffer, format: PayloadFormatVersion): HttpAnswer {
  const malformed = messageAnswer(502, MESSAGES.internal[format]);
  let result: unknown;
  try {
    result = JSON.parse(payload.toString("utf8"));
  } catch {
    return malformed;
  }
  const isProxy =
    typeof result === "object" && result !== null && !Array.isArray(result) && "statusCode" in result;
  if (!isProxy) {
    if (format === "1.0") return malformed;
    return { status: 200, headers: { "content-type": "application/json" }, body: payload };
  }
  const r = result as Record<string, unknown>;
  if (format === "1.0" && Object.keys(r).some((k) => !V1_KEYS.has(k))) return malformed;
  const status = Number(r.statusCode);
  if (!Number.isInteger(status) || status < 100 || status > 599) return malformed;
  const headers: Record<string, string | string[]> = {};
  const add = (name: string, value: unknown) => {
    if (value === undefined || value === null) return;
    const key = name.toLowerCase();
    const existing = headers[key];
    const text = String(value);
    if (existing === undefined) headers[key] = text;
    else headers[key] = [...(Array.isArray(existing) ? existing : [existing]), text];
  };
  if (r.multiValueHeaders && typeof r.multiValueHeaders === "object") {
    for (const [name, values] of Object.entries(r.multiValueHeaders as Record<string, unknown>)) {
      for (const v of Array.isArray(values) ? values : [values]) add(name, v);
    }
  }
  if (r.headers && typeof r.headers === "object") {
    // Single-value headers replace multi-value ones of the same name, as API Gateway merges them.
    for (const [name, value] of Object.entries(r.headers as Record<string, unknown>)) {
      delete headers[name.toLowerCase()];
      add(name, value);
    }
  }
  if (format === "2.0" && Array.isArray(r.cookies)) for (const c of r.cookies) add("set-cookie", c);
  headers["content-type"] ??= "application/json";
  let body: Buffer;
  if (r.body === undefined || r.body === null) body = Buffer.alloc(0);
  else if (typeof r.body !== "string") {
    if (format === "1.0") return malformed;
    body = Buffer.from(JSON.stringify(r.body));
  } else body = r.isBase64Encoded === true ? Buffer.from(r.body, "base64") : Buffer.from(r.body, "utf8");
  return { status, headers, body };
}

export function sendAnswer(res: ServerResponse, answer: HttpAnswer, extra: Record<string, string>): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(answer.status, { ...answer.headers, ...extra, "content-length": answer.body.length });
  res.end(answer.body);
}
