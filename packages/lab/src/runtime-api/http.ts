/**
 * The one error shape and one renderer shared by the Runtime API and the Extensions API,
 * and a route table read top to bottom (first match wins).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { ApiError } from "../environment/errors.ts";
import { tryDecode } from "../http-guard.ts";

export type Handler = (req: IncomingMessage, res: ServerResponse, params: string[]) => void | Promise<void>;

export interface Route {
  method: "GET" | "POST";
  /** Matched against the path without the query string; capture groups become `params`. */
  path: RegExp;
  handler: Handler;
}

export function renderJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const bytes = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { ...headers, "Content-Type": "application/json", "Content-Length": bytes.length });
  res.end(bytes);
}

/** The single error renderer: `{errorMessage, errorType}` with the error's status. */
export function renderError(res: ServerResponse, err: ApiError): void {
  renderJson(res, err.status, { errorMessage: err.errorMessage, errorType: err.errorType });
}

export const accepted = (res: ServerResponse): void => renderJson(res, 202, { status: "OK" });

/** Runs the first route matching method and path; unknown paths → 404, known path with other method → 405. */
export async function dispatch(routes: Route[], req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? "/").split("?")[0] ?? "/";
  let pathMatched = false;
  try {
    for (const route of routes) {
      const m = route.path.exec(path);
      if (!m) continue;
      pathMatched = true;
      if (route.method !== req.method) continue;
      const params = m.slice(1).map((p) => tryDecode(p ?? ""));
      if (params.some((p) => p === undefined))
        throw new ApiError(400, "InvalidRequest", "the path is not validly percent-encoded");
      await route.handler(req, res, params as string[]);
      return;
    }
    req.resume();
    if (pathMatched)
      renderError(res, new ApiError(405, "MethodNotAllowed", `${req.method} not allowed on ${path}`));
    else renderError(res, new ApiError(404, "NotFound", `no route for ${req.method} ${path}`));
  } catch (err) {
    req.resume();
    if (err instanceof ApiError) renderError(res, err);
    else renderError(res, new ApiError(500, "InternalServerError", (err as Error).message));
  }
}

/** Reads a body up to `limit` bytes; beyond it the rest is drained and discarded so the client sees our answer. */
export function readBody(req: IncomingMessage, limit: number): Promise<{ body: Buffer; tooLarge: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      if (!tooLarge) chunks.push(chunk);
    });
    req.on("end", () => resolve({ body: tooLarge ? Buffer.alloc(0) : Buffer.concat(chunks), tooLarge }));
    req.on("error", reject);
    req.on("aborted", () => reject(new Error("request aborted")));
  });
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
