/**
 * The S3 route table, read top to bottom: first match wins. A request is matched on its method, what it names
 * (the service, a bucket, or an object) and its subresource (`?delete`, `?uploads`, `?uploadId=…`, …).
 * Anything unmatched is 501 NotImplemented naming the operation (server.ts).
 */
import type { Handler } from "./context.ts";
import { notImplemented } from "./errors.ts";
import {
  createBucket,
  deleteBucket,
  getBucketLocation,
  getBucketVersioning,
  headBucket,
  listBuckets,
} from "./handlers/buckets.ts";
import { copyObject } from "./handlers/copy-object.ts";
import { deleteObject, deleteObjects } from "./handlers/delete-object.ts";
import { getObject, headObject } from "./handlers/get-object.ts";
import { listObjects, listObjectsV2 } from "./handlers/list-objects.ts";
import {
  abortMultipartUpload,
  completeMultipartUpload,
  createMultipartUpload,
  listParts,
  uploadPart,
} from "./handlers/multipart.ts";
import { putObject } from "./handlers/put-object.ts";

export type Target = "service" | "bucket" | "object";

export interface Route {
  method: "GET" | "HEAD" | "PUT" | "POST" | "DELETE";
  target: Target;
  /** The subresource the query must carry; a route without one matches only requests without any. */
  sub?: string;
  /** A header that must be present (CopyObject is a PUT with x-amz-copy-source). */
  header?: string;
  operation: string;
  handler: Handler;
}

/**
 * Query parameters that select an operation rather than parameterise one. `list-type` selects ListObjectsV2 and
 * `uploadId` the multipart operations on an object.
 */
export const SUBRESOURCES = [
  "accelerate",
  "acl",
  "analytics",
  "attributes",
  "cors",
  "delete",
  "encryption",
  "intelligent-tiering",
  "inventory",
  "legal-hold",
  "lifecycle",
  "list-type",
  "location",
  "logging",
  "metrics",
  "notification",
  "object-lock",
  "ownershipControls",
  "policy",
  "policyStatus",
  "publicAccessBlock",
  "replication",
  "requestPayment",
  "restore",
  "retention",
  "select",
  "tagging",
  "torrent",
  "uploadId",
  "uploads",
  "versioning",
  "versions",
  "website",
];

const unsupported =
  (operation: string): Handler =>
  () => {
    throw notImplemented(operation);
  };

export const routes: Route[] = [
  { method: "GET", target: "service", operation: "ListBuckets", handler: listBuckets },

  { method: "PUT", target: "bucket", operation: "CreateBucket", handler: createBucket },
  { method: "HEAD", target: "bucket", operation: "HeadBucket", handler: headBucket },
  { method: "DELETE", target: "bucket", operation: "DeleteBucket", handler: deleteBucket },
  {
    method: "GET",
    target: "bucket",
    sub: "location",
    operation: "GetBucketLocation",
    handler: getBucketLocation,
  },
  {
    method: "GET",
    target: "bucket",
    sub: "versioning",
    operation: "GetBucketVersioning",
    handler: getBucketVersioning,
  },
  { method: "GET", target: "bucket", sub: "list-type", operation: "ListObjectsV2", handler: listObjectsV2 },
  { method: "GET", target: "bucket", operation: "ListObjects", handler: listObjects },
  { method: "POST", target: "bucket", sub: "delete", operation: "DeleteObjects", handler: deleteObjects },

  {
    method: "PUT",
    target: "object",
    sub: "uploadId",
    header: "x-amz-copy-source",
    operation: "UploadPartCopy",
    handler: unsupported("UploadPartCopy"),
  },
  { method: "PUT", target: "object", sub: "uploadId", operation: "UploadPart", handler: uploadPart },
  {
    method: "PUT",
    target: "object",
    header: "x-amz-copy-source",
    operation: "CopyObject",
    handler: copyObject,
  },
  { method: "PUT", target: "object", operation: "PutObject", handler: putObject },
  { method: "GET", target: "object", operation: "GetObject", handler: getObject },
  { method: "HEAD", target: "object", operation: "HeadObject", handler: headObject },
  { method: "DELETE", target: "object", operation: "DeleteObject", handler: deleteObject },
  {
    method: "POST",
    target: "object",
    sub: "uploads",
    operation: "CreateMultipartUpload",
    handler: createMultipartUpload,
  },
  {
    method: "POST",
    target: "object",
    sub: "uploadId",
    operation: "CompleteMultipartUpload",
    handler: completeMultipartUpload,
  },
  {
    method: "DELETE",
    target: "object",
    sub: "uploadId",
    operation: "AbortMultipartUpload",
    handler: abortMultipartUpload,
  },
  { method: "GET", target: "object", sub: "uploadId", operation: "ListParts", handler: listParts },
];

export function match(
  method: string,
  target: Target,
  sub: string | undefined,
  headers: Record<string, unknown>,
) {
  return routes.find(
    (r) =>
      r.method === method &&
      r.target === target &&
      r.sub === sub &&
      (r.header === undefined || headers[r.header] !== undefined),
  );
}

const VERBS: Record<string, string> = {
  GET: "Get",
  HEAD: "Head",
  PUT: "Put",
  POST: "Post",
  DELETE: "Delete",
};

/** A name for an unmatched request, e.g. GET bucket?acl → GetBucketAcl, for the NotImplemented message. */
export function operationName(method: string, target: Target, sub: string | undefined): string {
  const verb = VERBS[method] ?? method;
  const noun = target === "service" ? "Service" : target === "bucket" ? "Bucket" : "Object";
  const suffix = sub
    ? sub.charAt(0).toUpperCase() + sub.slice(1).replace(/-(\w)/g, (_m, c: string) => c.toUpperCase())
    : "";
  return `${verb}${noun}${suffix} (${method} ${target}${sub ? `?${sub}` : ""})`;
}
