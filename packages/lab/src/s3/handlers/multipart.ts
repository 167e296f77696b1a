/**
 * Multipart uploads (the AWS CLI switches to them above 8 MB): CreateMultipartUpload, UploadPart,
 * CompleteMultipartUpload, AbortMultipartUpload, ListParts. Uploads in progress live in memory only.
 */
import { createHash, randomBytes } from "node:crypto";
import { readBody } from "../body.ts";
import { checkWrite } from "../conditions.ts";
import {
  type Handler,
  header,
  isoDate,
  lastModifiedNow,
  objectAttributes,
  requireBucket,
  type S3Request,
} from "../context.ts";
import { invalidArgument, malformedXml, noSuchUpload, S3Error } from "../errors.ts";
import type { Bucket, Upload } from "../store.ts";
import { document, el, elements, text, textOf } from "../xml.ts";
import { checkKey } from "./put-object.ts";

/** Every part but the last must be at least this big, as in S3. */
const MIN_PART_BYTES = 5 * 1024 * 1024;

export const createMultipartUpload: Handler = async (request) => {
  const bucket = requireBucket(request);
  const key = checkKey(request.key);
  await readBody(request.req);
  const upload: Upload = {
    id: randomBytes(24).toString("base64url"),
    bucket: bucket.name,
    key,
    initiated: Date.now(),
    template: objectAttributes(request),
    parts: new Map(),
  };
  request.store.uploads.set(upload.id, upload);
  return {
    status: 200,
    body: document(
      "InitiateMultipartUploadResult",
      text("Bucket", bucket.name),
      text("Key", key),
      text("UploadId", upload.id),
    ),
  };
};

export const uploadPart: Handler = async (request) => {
  const { upload } = findUpload(request);
  const raw = request.query.get("partNumber") ?? "";
  const partNumber = Number(raw);
  if (!/^\d+$/.test(raw) || partNumber < 1 || partNumber > 10000)
    throw invalidArgument("partNumber", raw, "Part number must be an integer between 1 and 10000, inclusive");
  const { payload } = await readBody(request.req);
  const etag = `"${createHash("md5").update(payload).digest("hex")}"`;
  upload.parts.set(partNumber, { body: payload, etag, lastModified: lastModifiedNow() });
  return { status: 200, headers: { etag } };
};

export const completeMultipartUpload: Handler = async (request) => {
  const { bucket, upload } = findUpload(request);
  const xml = (await readBody(request.req)).payload.toString("utf8");
  const listed = elements(xml, "Part").map((part) => ({
    number: Number(textOf(part, "PartNumber")),
    etag: textOf(part, "ETag")?.trim() ?? "",
  }));
  if (listed.length === 0) throw malformedXml();
  const bodies: Buffer[] = [];
  const digests: Buffer[] = [];
  listed.forEach(({ number, etag }, i) => {
    if (i > 0 && number <= listed[i - 1]!.number)
      throw new S3Error(
        "InvalidPartOrder",
        400,
        "The list of parts was not in ascending order. Parts must be ordered by part number.",
        {
          UploadId: upload.id,
        },
      );
    const part = upload.parts.get(number);
    if (!part || unquote(part.etag) !== unquote(etag))
      throw new S3Error(
        "InvalidPart",
        400,
        "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
        { UploadId: upload.id, PartNumber: String(number), ETag: etag },
      );
    if (i < listed.length - 1 && part.body.length < MIN_PART_BYTES)
      throw new S3Error(
        "EntityTooSmall",
        400,
        "Your proposed upload is smaller than the minimum allowed size",
        {
          ProposedSize: String(part.body.length),
          MinSizeAllowed: String(MIN_PART_BYTES),
          PartNumber: String(number),
          ETag: part.etag,
        },
      );
    bodies.push(part.body);
    digests.push(Buffer.from(unquote(part.etag), "hex"));
  });
  checkWrite(
    bucket.get(upload.key),
    { ifMatch: header(request, "if-match"), ifNoneMatch: header(request, "if-none-match") },
    upload.key,
  );
  const etag = `"${createHash("md5").update(Buffer.concat(digests)).digest("hex")}-${listed.length}"`;
  request.store.uploads.delete(upload.id);
  await request.store.putObject(bucket, {
    key: upload.key,
    body: Buffer.concat(bodies),
    etag,
    lastModified: lastModifiedNow(),
    ...upload.template,
  });
  const location = `${request.origin}/${bucket.name}/${upload.key.split("/").map(encodeURIComponent).join("/")}`;
  return {
    status: 200,
    body: document(
      "CompleteMultipartUploadResult",
      text("Location", location),
      text("Bucket", bucket.name),
      text("Key", upload.key),
      text("ETag", etag),
    ),
  };
};

export const abortMultipartUpload: Handler = (request) => {
  const { upload } = findUpload(request);
  request.store.uploads.delete(upload.id);
  return { status: 204 };
};

export const listParts: Handler = (request) => {
  const { bucket, upload } = findUpload(request);
  const marker = Number(request.query.get("part-number-marker") ?? 0) || 0;
  const maxParts = Math.min(Number(request.query.get("max-parts") ?? 1000) || 1000, 1000);
  const numbers = [...upload.parts.keys()].filter((n) => n > marker).sort((a, b) => a - b);
  const page = numbers.slice(0, maxParts);
  const truncated = numbers.length > page.length;
  return {
    status: 200,
    body: document(
      "ListPartsResult",
      text("Bucket", bucket.name),
      text("Key", upload.key),
      text("UploadId", upload.id),
      text("PartNumberMarker", marker),
      truncated && text("NextPartNumberMarker", page[page.length - 1]),
      text("MaxParts", maxParts),
      text("IsTruncated", truncated),
      el("Initiator", text("ID", "faultline"), text("DisplayName", "faultline")),
      text("StorageClass", "STANDARD"),
      ...page.map((n) => {
        const part = upload.parts.get(n)!;
        return el(
          "Part",
          text("PartNumber", n),
          text("LastModified", isoDate(part.lastModified)),
          text("ETag", part.etag),
          text("Size", part.body.length),
        );
      }),
    ),
  };
};

function findUpload(request: S3Request): { bucket: Bucket; upload: Upload } {
  const bucket = requireBucket(request);
  const id = request.query.get("uploadId") ?? "";
  const upload = request.store.uploads.get(id);
  if (!upload || upload.bucket !== bucket.name || upload.key !== request.key) throw noSuchUpload(id);
  return { bucket, upload };
}

function unquote(etag: string): string {
  return etag.replace(/^"|"$/g, "");
}
