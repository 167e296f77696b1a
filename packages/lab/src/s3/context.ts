/** What a handler gets and returns. Handlers throw S3Error; server.ts renders it. */
import type { IncomingMessage } from "node:http";
import { noSuchBucket } from "./errors.ts";
import type { Bucket, ObjectStore, StoredObject } from "./store.ts";

export interface S3Request {
  req: IncomingMessage;
  method: string;
  /** From the path (path style) or the Host header (virtual-host style); undefined for the service. */
  bucketName: string | undefined;
  /** URL-decoded; undefined when the request names no key. */
  key: string | undefined;
  query: URLSearchParams;
  store: ObjectStore;
  /** `http://host:port` as the client addressed us (CompleteMultipartUpload's Location). */
  origin: string;
}

export interface S3Response {
  status: number;
  headers?: Record<string, string>;
  /** XML for most operations; the object's bytes for GetObject. */
  body?: string | Buffer;
}

export type Handler = (request: S3Request) => S3Response | Promise<S3Response>;

export function requireBucket(request: S3Request): Bucket {
  const name = request.bucketName ?? "";
  const bucket = request.store.buckets.get(name);
  if (!bucket) throw noSuchBucket(name);
  return bucket;
}

export function header(request: S3Request, name: string): string | undefined {
  const value = request.req.headers[name];
  return Array.isArray(value) ? value.join(",") : value;
}

/** The headers S3 stores with an object and returns on GET/HEAD, besides user metadata. */
export const STORED_HEADERS = [
  "cache-control",
  "content-disposition",
  "content-encoding",
  "content-language",
  "expires",
] as const;

/** Content type, user metadata and stored headers from a PutObject/CopyObject(REPLACE)/CreateMultipartUpload. */
export function objectAttributes(
  request: S3Request,
): Pick<StoredObject, "contentType" | "metadata" | "headers"> {
  const metadata: Record<string, string> = {};
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.req.headers)) {
    if (value === undefined || !name.startsWith("x-amz-meta-")) continue;
    metadata[name.slice("x-amz-meta-".length)] = Array.isArray(value) ? value.join(",") : value;
  }
  for (const name of STORED_HEADERS) {
    let value = header(request, name);
    // aws-chunked is the upload's framing, not how the object is encoded.
    if (name === "content-encoding" && value !== undefined)
      value = value
        .split(",")
        .map((v) => v.trim())
        .filter((v) => v !== "" && v !== "aws-chunked")
        .join(",");
    if (value) headers[name] = value;
  }
  return { contentType: header(request, "content-type") ?? "binary/octet-stream", metadata, headers };
}

export function lastModifiedNow(): number {
  return Math.floor(Date.now() / 1000) * 1000;
}

export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

export function isoDate(ms: number): string {
  return new Date(ms).toISOString();
}

export const OWNER = {
  id: "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a",
  name: "faultline",
};
