/**
 * The lab's S3: a node:http server speaking S3's REST protocol, path style (`/bucket/key`) and virtual-host
 * style (`bucket.localhost`, `bucket.s3.localhost`). Signatures are not verified: it listens on loopback and
 * accepts any credentials, like the lab's other APIs.
 */
import type http from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createGuardedServer, type GuardOptions } from "../http-guard.ts";
import type { S3Request, S3Response } from "./context.ts";
import { noSuchBucket, notImplemented, S3Error } from "./errors.ts";
import { match, operationName, SUBRESOURCES, type Target } from "./routes.ts";
import type { ObjectStore } from "./store.ts";
import { bareDocument, text } from "./xml.ts";

export function createS3Server(store: ObjectStore, guard: GuardOptions = {}): http.Server {
  let sequence = 0;
  const prefix = process.pid.toString(16).toUpperCase().padStart(6, "0").slice(-6);
  const requestIdOf = (res: ServerResponse): string => {
    const existing = res.getHeader("x-amz-request-id");
    if (typeof existing === "string") return existing;
    sequence = (sequence + 1) % 0x10000000000;
    const requestId = `${prefix}${sequence.toString(16).toUpperCase().padStart(10, "0")}`;
    res.setHeader("x-amz-request-id", requestId);
    res.setHeader("x-amz-id-2", requestId);
    res.setHeader("server", "faultline-lab-s3");
    return requestId;
  };
  return createGuardedServer({
    name: "s3",
    ...guard,
    async handle(req, res) {
      const requestId = requestIdOf(res);
      let resource = req.url ?? "/";
      try {
        const response = await handle(store, req, (r) => {
          resource = r;
        });
        send(res, response);
      } catch (error) {
        // An S3Error is the caller's; anything else is a lab bug, rethrown to be logged and answered 500.
        if (!(error instanceof S3Error)) throw error;
        sendError(req, res, error, resource, requestId);
      }
    },
    refuse: (req, res, refusal) =>
      sendError(req, res, new S3Error("AccessDenied", 403, refusal.message), "/", requestIdOf(res)),
    fail: (req, res, error) => sendError(req, res, error, "/", requestIdOf(res)),
  });
}

async function handle(
  store: ObjectStore,
  req: IncomingMessage,
  setResource: (resource: string) => void,
): Promise<S3Response> {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const path = q < 0 ? url : url.slice(0, q);
  const query = new URLSearchParams(q < 0 ? "" : url.slice(q + 1));
  const host = req.headers.host ?? "127.0.0.1";
  let bucketName = virtualHostBucket(host);
  let key: string | undefined;
  try {
    if (bucketName !== undefined) key = path.length > 1 ? decodeURIComponent(path.slice(1)) : undefined;
    else {
      const slash = path.indexOf("/", 1);
      const first = slash < 0 ? path.slice(1) : path.slice(1, slash);
      bucketName = first === "" ? undefined : decodeURIComponent(first);
      // Everything after "/bucket/" is the key, slashes and empty segments included ("a//b" is a valid key).
      key = slash < 0 || slash === path.length - 1 ? undefined : decodeURIComponent(path.slice(slash + 1));
    }
  } catch {
    throw new S3Error("InvalidURI", 400, "Couldn't parse the specified URI.", { URI: url });
  }
  setResource(bucketName === undefined ? "/" : `/${bucketName}${key === undefined ? "" : `/${key}`}`);
  const target: Target = key !== undefined ? "object" : bucketName !== undefined ? "bucket" : "service";
  const sub = SUBRESOURCES.find((name) => query.has(name));
  const method = req.method ?? "GET";
  const route = match(method, target, sub, req.headers);
  const request: S3Request = { req, method, bucketName, key, query, store, origin: `http://${host}` };
  if (route?.operation !== "CreateBucket" && bucketName !== undefined && !store.buckets.has(bucketName))
    throw noSuchBucket(bucketName);
  if (!route) throw notImplemented(operationName(method, target, sub));
  return route.handler(request);
}

/** `<bucket>.localhost[:port]` or `<bucket>.s3.localhost[:port]`; undefined for path style. */
function virtualHostBucket(host: string): string | undefined {
  const name = host.replace(/:\d+$/, "").toLowerCase();
  for (const suffix of [".s3.localhost", ".localhost"]) {
    if (name.endsWith(suffix) && name.length > suffix.length && name !== "s3.localhost")
      return name.slice(0, -suffix.length);
  }
  return undefined;
}

function send(res: ServerResponse, response: S3Response): void {
  const headers = { ...response.headers };
  let body = response.body;
  if (typeof body === "string") {
    headers["content-type"] ??= "application/xml";
    body = Buffer.from(body, "utf8");
  }
  if (body !== undefined && headers["content-length"] === undefined)
    headers["content-length"] = String(body.length);
  if (
    body === undefined &&
    headers["content-length"] === undefined &&
    response.status !== 204 &&
    response.status !== 304
  )
    headers["content-length"] = "0";
  res.writeHead(response.status, headers);
  res.end(body);
}

/** The one renderer of S3 errors: Error XML, or the status alone for HEAD requests and 304. */
function sendError(
  req: IncomingMessage,
  res: ServerResponse,
  error: unknown,
  resource: string,
  requestId: string,
): void {
  const s3 =
    error instanceof S3Error
      ? error
      : new S3Error(
          "InternalError",
          500,
          `We encountered an internal error: ${(error as Error)?.message ?? error}`,
        );
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // The body was not read (a refusal before or during the upload): close rather than drain it.
  if (!req.complete) res.setHeader("connection", "close");
  const headers = { ...s3.headers };
  if (req.method === "HEAD" || s3.status === 304) {
    send(res, { status: s3.status, headers });
    return;
  }
  const body = bareDocument(
    "Error",
    text("Code", s3.code),
    text("Message", s3.message),
    ...Object.entries(s3.details).map(([name, value]) => text(name, value)),
    text("Resource", resource),
    text("RequestId", requestId),
  );
  send(res, { status: s3.status, headers, body });
}
