import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type Engine, FisError, ValidationException } from "@faultline/engine";
import { type ConsoleOptions, EVENTS_PATH, isConsoleAsset, isConsolePath, serveConsole } from "./console.ts";
import { streamEvents } from "./console-events.ts";
import { forbidden, HttpError, notFound, tooLarge, unsupportedMedia } from "./errors.ts";
import { type ApiResponse, FileBody, file, ok, renderError } from "./render.ts";
import { matchRoute } from "./routes.ts";
import { verifySigV4 } from "./sigv4.ts";

export interface ApiOptions {
  /** Largest accepted request body. Default 1 MiB (a 20-action template is a few KB). */
  maxBodyBytes?: number;
  /**
   * Opt-in caller checks; default: any credentials on loopback.
   * `credentials`: access key id → secret; every request's SigV4 signature is verified against them.
   * `accessKeyIds`: only requests whose Authorization names one of these key ids (no signature check).
   */
  auth?: { accessKeyIds?: string[]; credentials?: Record<string, string> };
  /** Host names accepted besides loopback ones (DNS-rebinding defence); compared without the port. */
  allowedHosts?: string[];
  /** Where requests that failed on a bug (answered 500) are reported; default stderr. */
  log?: (message: string) => void;
  /**
   * The web console at /console/ (docs/console.md); `false` turns it off, and with it the acceptance of
   * same-origin browser requests. Default: on.
   */
  console?: ConsoleOptions | false;
}

export interface ApiRequest {
  method: string;
  /** Path and query, as on the request line. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

const LOOPBACK_HOST = /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/i;

/**
 * The API as a function from request to response: tests call it in-process; `startApi` puts it on a port.
 */
export function createApi(engine: Engine, options: ApiOptions = {}) {
  const maxBody = options.maxBodyBytes ?? 1024 * 1024;
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  return async function handle(req: ApiRequest): Promise<ApiResponse & { operation?: string }> {
    const requestId = randomUUID();
    try {
      guard(req, options, maxBody);
      if (options.auth?.credentials) {
        const problem = await verifySigV4(req, options.auth.credentials);
        if (problem)
          throw new HttpError(403, "InvalidSignatureException", `Request not authenticated: ${problem}`);
      }
      // Split by hand: `new URL("///", base)` throws on what a client can send.
      const q = req.url.indexOf("?");
      const pathname = q < 0 ? req.url : req.url.slice(0, q);
      const query = new URLSearchParams(q < 0 ? "" : req.url.slice(q + 1));
      let segments: string[];
      try {
        segments = pathname.split("/").slice(1).map(decodeURIComponent);
      } catch {
        throw new ValidationException("(path)", "is not validly percent-encoded");
      }
      if (options.console !== false && isConsolePath(pathname)) {
        const res = await serveConsole(engine, options.console ?? {}, req.method, pathname);
        res.headers["x-amzn-requestid"] = requestId;
        return res;
      }
      const match = matchRoute(req.method, segments);
      if (match === undefined) throw notFound(req.method, pathname);
      if (match === "method")
        throw new HttpError(405, "MethodNotAllowedException", `${req.method} is not allowed on ${pathname}`);
      let body: unknown;
      if (req.body.length > 0) {
        try {
          body = JSON.parse(req.body.toString("utf8"));
        } catch {
          throw new ValidationException("(body)", "is not valid JSON");
        }
      }
      const result = await match.route.handler({
        engine,
        params: match.params,
        query,
        body,
      });
      const res = result instanceof FileBody ? file(result) : ok(result);
      res.headers["x-amzn-requestid"] = requestId;
      return { ...res, operation: match.route.operation };
    } catch (error) {
      // A FisError is the caller's; anything else is a bug, answered 500 for this request alone and logged.
      if (!(error instanceof FisError))
        log(`faultline api: ${req.method} ${req.url.slice(0, 200)} failed: ${describe(error)}`);
      return renderError(error, requestId);
    }
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

/** The host name of a Host header value, lowercased, without the port. */
function hostName(value: string): string {
  const name = value.trim().toLowerCase();
  if (name.startsWith("[")) return name.slice(0, name.indexOf("]") + 1);
  const colon = name.lastIndexOf(":");
  return colon < 0 || !/^\d*$/.test(name.slice(colon + 1)) ? name : name.slice(0, colon);
}

/**
 * A request a browser sent on behalf of a page, and whether that page is the console itself. Browsers always send
 * Origin on cross-site non-GET requests and on CORS requests, and Sec-Fetch-Site on every request (Chromium,
 * Firefox, Safari); SDKs and the CLI send neither. The console's own requests say `same-origin` and, when they
 * carry an Origin, it is this very host: a page of any other origin — another port on localhost included — fails
 * both, and a rebound DNS name fails the Host check below.
 */
function fromPage(header: (name: string) => string | undefined): "no" | "same-origin" | "foreign" {
  const origin = header("origin");
  const site = header("sec-fetch-site");
  if (origin === undefined && (site ?? "none") === "none") return "no";
  const host = header("host");
  const sameOrigin =
    (site === undefined || site === "same-origin") &&
    host !== undefined &&
    (origin === undefined || origin.toLowerCase() === `http://${host.toLowerCase()}`);
  return sameOrigin ? "same-origin" : "foreign";
}

/** Refuses what a foreign web page could send, oversize bodies, and (opt-in) unknown callers. */
function guard(req: ApiRequest, options: ApiOptions, maxBody: number): void {
  const header = (name: string) => {
    const v = req.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const page = fromPage(header);
  const pathname = req.url.split("?")[0]!;
  const consoleOn = options.console !== false;
  // The console's static files are the same bytes for anyone (a link from elsewhere may open it); its data is not.
  const pageAllowed = page === "no" || (consoleOn && (page === "same-origin" || isConsoleAsset(pathname)));
  if (!pageAllowed)
    throw forbidden("Requests from web pages are refused (except the console's, on its own origin)");
  const host = header("host");
  const allowed = (options.allowedHosts ?? []).map(hostName);
  if (host !== undefined && !LOOPBACK_HOST.test(host) && !allowed.includes(hostName(host))) {
    throw forbidden(`Host ${host} is not accepted`);
  }
  if (req.body.length > maxBody) throw tooLarge(maxBody);
  if (req.body.length > 0) {
    const type = (header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    // text/plain, form and multipart bodies are what a page can POST without a CORS preflight.
    if (type !== "application/json" && type !== "application/x-amz-json-1.1") throw unsupportedMedia(type);
  }
  const keys = options.auth?.accessKeyIds;
  if (keys) {
    const credential = /Credential=([^/,\s]+)\//.exec(header("authorization") ?? "")?.[1];
    if (!credential || !keys.includes(credential)) {
      throw new HttpError(
        403,
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
      );
    }
  }
}

export interface RunningApi {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

/** Serves the API over HTTP. Loopback only unless `host` says otherwise. */
export async function startApi(
  engine: Engine,
  options: ApiOptions & { host?: string; port?: number } = {},
): Promise<RunningApi> {
  const handle = createApi(engine, options);
  const maxBody = options.maxBodyBytes ?? 1024 * 1024;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (options.console !== false && (req.url ?? "").split("?")[0] === EVENTS_PATH) {
      events(engine, options, req, res);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBody) {
        if (!refused) {
          refused = true;
          send(res, renderError(tooLarge(maxBody), randomUUID()), true);
        }
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (refused) return;
      handle({
        method: req.method ?? "GET",
        url: req.url ?? "/",
        headers: req.headers,
        body: Buffer.concat(chunks),
      })
        .then(
          (out) => send(res, out, false),
          (error: unknown) => send(res, renderError(error, randomUUID()), false),
        )
        // Nothing left to answer with: drop this connection, keep the server.
        .catch(() => res.destroy());
    });
  });
  server.keepAliveTimeout = 65_000;
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The console's event stream: guarded like every request, then held open (console-events.ts). */
function events(engine: Engine, options: ApiOptions, req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? "/";
  try {
    if (req.method !== "GET")
      throw new HttpError(405, "MethodNotAllowedException", `${req.method} is not allowed`);
    guard({ method: "GET", url, headers: req.headers, body: Buffer.alloc(0) }, options, 0);
  } catch (error) {
    send(res, renderError(error, randomUUID()), false);
    return;
  }
  const query = new URLSearchParams(url.includes("?") ? url.slice(url.indexOf("?") + 1) : "");
  const c = options.console || undefined;
  streamEvents(engine, c?.metrics, res, query, c?.streams);
}

function send(res: ServerResponse, out: ApiResponse, closeAfter: boolean): void {
  if (res.headersSent) return;
  res.writeHead(out.status, {
    ...out.headers,
    "content-length": Buffer.byteLength(out.body),
    ...(closeAfter ? { connection: "close" } : {}),
  });
  res.end(out.body);
}
