/** GetObject and HeadObject: conditionals, one byte range, response-* overrides, stored headers and metadata. */
import { checkRead } from "../conditions.ts";
import {
  type Handler,
  header,
  httpDate,
  requireBucket,
  type S3Request,
  type S3Response,
} from "../context.ts";
import { noSuchKey, S3Error } from "../errors.ts";
import type { StoredObject } from "../store.ts";

/** Query parameters that replace a response header (S3 honours them on signed requests; the lab on all). */
const OVERRIDES: Record<string, string> = {
  "response-content-type": "content-type",
  "response-content-language": "content-language",
  "response-expires": "expires",
  "response-cache-control": "cache-control",
  "response-content-disposition": "content-disposition",
  "response-content-encoding": "content-encoding",
};

export const getObject: Handler = (request) => read(request, true);
export const headObject: Handler = (request) => read(request, false);

function read(request: S3Request, withBody: boolean): S3Response {
  const bucket = requireBucket(request);
  const key = request.key ?? "";
  const object = bucket.get(key);
  if (!object) throw noSuchKey(key);
  checkRead(object, {
    ifMatch: header(request, "if-match"),
    ifNoneMatch: header(request, "if-none-match"),
    ifModifiedSince: header(request, "if-modified-since"),
    ifUnmodifiedSince: header(request, "if-unmodified-since"),
  });
  const headers = objectHeaders(object);
  for (const [param, name] of Object.entries(OVERRIDES)) {
    const value = request.query.get(param);
    if (value !== null) headers[name] = value;
  }
  const size = object.body.length;
  const range = parseRange(header(request, "range"), size);
  if (range) {
    headers["content-range"] = `bytes ${range.start}-${range.end}/${size}`;
    headers["content-length"] = String(range.end - range.start + 1);
    return {
      status: 206,
      headers,
      body: withBody ? object.body.subarray(range.start, range.end + 1) : undefined,
    };
  }
  // A full-object checksum only describes the whole body, so it goes out only without a range.
  if (object.checksum && header(request, "x-amz-checksum-mode")?.toUpperCase() === "ENABLED")
    headers[`x-amz-checksum-${object.checksum.algorithm.toLowerCase()}`] = object.checksum.value;
  headers["content-length"] = String(size);
  return { status: 200, headers, body: withBody ? object.body : undefined };
}

export function objectHeaders(object: StoredObject): Record<string, string> {
  const headers: Record<string, string> = {
    "content-type": object.contentType,
    etag: object.etag,
    "last-modified": httpDate(object.lastModified),
    "accept-ranges": "bytes",
    ...object.headers,
  };
  for (const [name, value] of Object.entries(object.metadata)) headers[`x-amz-meta-${name}`] = value;
  const parts = /-(\d+)"$/.exec(object.etag)?.[1];
  if (parts) headers["x-amz-mp-parts-count"] = parts;
  return headers;
}

/**
 * One range: `bytes=a-b`, `bytes=a-`, `bytes=-n`. A header S3 cannot parse (several ranges, other units, b < a)
 * is ignored — the whole object, 200, as S3 does. A syntactically valid range that misses the object is 416.
 */
export function parseRange(
  value: string | undefined,
  size: number,
): { start: number; end: number } | undefined {
  if (value === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (!m || (m[1] === "" && m[2] === "")) return undefined;
  let start: number;
  let end: number;
  if (m[1] === "") {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) throw invalidRange(value, size);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== "" && Number(m[2]) < start) return undefined;
    if (start >= size) throw invalidRange(value, size);
  }
  return { start, end };
}

function invalidRange(range: string, size: number): S3Error {
  return new S3Error(
    "InvalidRange",
    416,
    "The requested range is not satisfiable",
    { RangeRequested: range, ActualObjectSize: String(size) },
    { "content-range": `bytes */${size}` },
  );
}
