/** HTTP plumbing shared by the handlers: body reading with a limit, JSON replies, the one error renderer. */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { LambdaApiError, RequestTooLargeError, ServiceError } from "../errors.ts";

/**
 * Reads the whole body; past `limitBytes` it keeps draining (so the client can finish sending and read our answer)
 * and then rejects with RequestTooLargeError (413).
 */
export function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limitBytes) chunks.push(chunk);
    });
    req.on("end", () => {
      if (size > limitBytes) reject(new RequestTooLargeError(limitBytes));
      else resolve(Buffer.concat(chunks, size));
    });
    req.on("error", reject);
  });
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** The one error renderer: Lambda's `x-amzn-errortype` header and `{"Type":"User","Message":…}` body. */
export function renderError(res: ServerResponse, error: unknown): void {
  const apiError =
    error instanceof LambdaApiError ? error : new ServiceError((error as Error)?.message ?? String(error));
  if (res.headersSent) {
    res.destroy(apiError);
    return;
  }
  sendJson(res, apiError.status, apiError.body(), {
    "x-amzn-errortype": apiError.errorType,
    "x-amzn-requestid": requestIdOf(res),
  });
}

/** Every response carries x-amzn-RequestId; handlers reuse the one assigned here. */
export function requestIdOf(res: ServerResponse): string {
  const existing = res.getHeader("x-amzn-requestid");
  if (typeof existing === "string") return existing;
  const id = randomUUID();
  res.setHeader("x-amzn-requestid", id);
  return id;
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
