/** CopyObject: `x-amz-copy-source: [/]bucket/key[?versionId=…]`, metadata directive COPY (default) or REPLACE. */
import { createHash } from "node:crypto";
import { readBody } from "../body.ts";
import { checkRead, checkWrite } from "../conditions.ts";
import {
  type Handler,
  header,
  isoDate,
  lastModifiedNow,
  objectAttributes,
  requireBucket,
} from "../context.ts";
import { invalidArgument, noSuchBucket, noSuchKey, S3Error } from "../errors.ts";
import type { StoredObject } from "../store.ts";
import { document, text } from "../xml.ts";
import { checkKey } from "./put-object.ts";

export const copyObject: Handler = async (request) => {
  const bucket = requireBucket(request);
  const key = checkKey(request.key);
  await readBody(request.req); // CopyObject has no body; drain whatever came.
  const source = parseCopySource(header(request, "x-amz-copy-source") ?? "");
  const sourceBucket = request.store.buckets.get(source.bucket);
  if (!sourceBucket) throw noSuchBucket(source.bucket);
  const original = sourceBucket.get(source.key);
  if (!original) throw noSuchKey(source.key);
  checkRead(
    original,
    {
      ifMatch: header(request, "x-amz-copy-source-if-match"),
      ifNoneMatch: header(request, "x-amz-copy-source-if-none-match"),
      ifModifiedSince: header(request, "x-amz-copy-source-if-modified-since"),
      ifUnmodifiedSince: header(request, "x-amz-copy-source-if-unmodified-since"),
    },
    true,
  );
  const directive = (header(request, "x-amz-metadata-directive") ?? "COPY").toUpperCase();
  if (directive !== "COPY" && directive !== "REPLACE")
    throw invalidArgument("x-amz-metadata-directive", directive, "Unknown metadata directive.");
  if (directive === "COPY" && sourceBucket === bucket && source.key === key)
    throw new S3Error(
      "InvalidRequest",
      400,
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  checkWrite(
    bucket.get(key),
    { ifMatch: header(request, "if-match"), ifNoneMatch: header(request, "if-none-match") },
    key,
  );
  const attributes =
    directive === "REPLACE"
      ? objectAttributes(request)
      : { contentType: original.contentType, metadata: original.metadata, headers: original.headers };
  const copy: StoredObject = {
    key,
    body: original.body,
    // The copy is one part, so a multipart source's ETag ("…-N") becomes the MD5 of the bytes.
    etag: original.etag.includes("-")
      ? `"${createHash("md5").update(original.body).digest("hex")}"`
      : original.etag,
    lastModified: lastModifiedNow(),
    ...attributes,
    ...(original.checksum ? { checksum: original.checksum } : {}),
  };
  await request.store.putObject(bucket, copy);
  return {
    status: 200,
    body: document(
      "CopyObjectResult",
      text("LastModified", isoDate(copy.lastModified)),
      text("ETag", copy.etag),
    ),
  };
};

function parseCopySource(value: string): { bucket: string; key: string } {
  const path = value.split("?", 1)[0]!.replace(/^\//, "");
  const slash = path.indexOf("/");
  if (slash <= 0 || slash === path.length - 1)
    throw invalidArgument(
      "x-amz-copy-source",
      value,
      "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
    );
  try {
    return {
      bucket: decodeURIComponent(path.slice(0, slash)),
      key: decodeURIComponent(path.slice(slash + 1)),
    };
  } catch {
    throw invalidArgument("x-amz-copy-source", value, "Copy Source is not a valid URL-encoded path");
  }
}
