/** Bucket operations: ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation, GetBucketVersioning. */

import { readBody } from "../body.ts";
import { type Handler, isoDate, OWNER, requireBucket } from "../context.ts";
import { S3Error } from "../errors.ts";
import { isValidBucketName } from "../store.ts";
import { document, el, escapeXml, text, textOf } from "../xml.ts";

export const listBuckets: Handler = ({ store }) => {
  const buckets = [...store.buckets.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  return {
    status: 200,
    body: document(
      "ListAllMyBucketsResult",
      el("Owner", text("ID", OWNER.id), text("DisplayName", OWNER.name)),
      el(
        "Buckets",
        ...buckets.map((b) => el("Bucket", text("Name", b.name), text("CreationDate", isoDate(b.created)))),
      ),
    ),
  };
};

/** Creating a bucket the caller already has answers 200, as us-east-1 does (everyone here is the one owner). */
export const createBucket: Handler = async (request) => {
  const name = request.bucketName ?? "";
  if (!isValidBucketName(name))
    throw new S3Error("InvalidBucketName", 400, "The specified bucket is not valid.", { BucketName: name });
  const { payload } = await readBody(request.req);
  const region = textOf(payload.toString("utf8"), "LocationConstraint")?.trim() || "us-east-1";
  if (!request.store.buckets.has(name)) request.store.createBucket(name, region);
  return { status: 200, headers: { location: `/${name}` } };
};

export const headBucket: Handler = (request) => {
  const bucket = requireBucket(request);
  return { status: 200, headers: { "x-amz-bucket-region": bucket.region } };
};

export const deleteBucket: Handler = async (request) => {
  const bucket = requireBucket(request);
  if (bucket.size > 0)
    throw new S3Error("BucketNotEmpty", 409, "The bucket you tried to delete is not empty", {
      BucketName: bucket.name,
    });
  await request.store.deleteBucket(bucket.name);
  return { status: 204 };
};

/** us-east-1 is the empty LocationConstraint. */
export const getBucketLocation: Handler = (request) => {
  const bucket = requireBucket(request);
  const region = bucket.region === "us-east-1" ? "" : bucket.region;
  return {
    status: 200,
    body: region ? document("LocationConstraint", escapeXml(region)) : document("LocationConstraint"),
  };
};

/** The lab never versions: the configuration of a bucket that was never versioned is empty. */
export const getBucketVersioning: Handler = (request) => {
  requireBucket(request);
  return { status: 200, body: document("VersioningConfiguration") };
};
