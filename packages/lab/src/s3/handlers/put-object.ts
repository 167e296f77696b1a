/** PutObject: the body as the object's bytes (aws-chunked framing removed), ETag = quoted MD5. */
import { createHash } from "node:crypto";
import { checksumOf, readBody } from "../body.ts";
import { checkWrite } from "../conditions.ts";
import { type Handler, header, lastModifiedNow, objectAttributes, requireBucket } from "../context.ts";
import { S3Error } from "../errors.ts";
import type { StoredObject } from "../store.ts";

export const putObject: Handler = async (request) => {
  const bucket = requireBucket(request);
  const key = checkKey(request.key);
  const body = await readBody(request.req);
  const checksum = checksumOf(request.req, body);
  // Checked after the body arrived: nothing else runs between this check and the Map update.
  checkWrite(
    bucket.get(key),
    { ifMatch: header(request, "if-match"), ifNoneMatch: header(request, "if-none-match") },
    key,
  );
  const object: StoredObject = {
    key,
    body: body.payload,
    etag: `"${createHash("md5").update(body.payload).digest("hex")}"`,
    lastModified: lastModifiedNow(),
    ...objectAttributes(request),
    ...(checksum ? { checksum } : {}),
  };
  await request.store.putObject(bucket, object);
  const headers: Record<string, string> = { etag: object.etag };
  if (checksum) headers[`x-amz-checksum-${checksum.algorithm.toLowerCase()}`] = checksum.value;
  return { status: 200, headers };
};

/** S3 keys are 1–1024 bytes of UTF-8. */
export function checkKey(key: string | undefined): string {
  if (!key) throw new S3Error("InvalidRequest", 400, "A key is required for this operation");
  if (Buffer.byteLength(key) > 1024)
    throw new S3Error("KeyTooLongError", 400, "Your key is too long", {
      MaxSizeAllowed: "1024",
      Size: String(Buffer.byteLength(key)),
    });
  return key;
}
