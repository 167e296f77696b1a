/**
 * ListObjectsV2 and ListObjects (v1). Both walk the bucket's sorted keys from a binary-searched start, so a
 * prefix listing costs what it returns, not the size of the bucket.
 */
import { type Handler, isoDate, OWNER, requireBucket, type S3Request } from "../context.ts";
import { invalidArgument } from "../errors.ts";
import { type Bucket, compareKeys, type StoredObject } from "../store.ts";
import { document, el, text } from "../xml.ts";

interface Walk {
  contents: StoredObject[];
  commonPrefixes: string[];
  truncated: boolean;
  /** The last key or common prefix returned: where the next page starts. */
  last: string | undefined;
}

/**
 * Keys under `prefix` after `after`, rolled up at `delimiter`. A common prefix counts as one entry; when `after`
 * is itself a common prefix (a previous page ended on it), the keys under it are not visited again.
 */
function walk(
  bucket: Bucket,
  prefix: string,
  delimiter: string,
  maxKeys: number,
  after: string | undefined,
): Walk {
  const result: Walk = { contents: [], commonPrefixes: [], truncated: false, last: undefined };
  if (maxKeys === 0) return result;
  const fromPrefix = after === undefined || compareKeys(prefix, after) > 0;
  let lastPrefix = after;
  for (const key of bucket.keysFrom(fromPrefix ? prefix : after!, !fromPrefix)) {
    if (!key.startsWith(prefix)) break;
    const at = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
    const entry = at >= 0 ? key.slice(0, at + delimiter.length) : key;
    if (at >= 0 && entry === lastPrefix) continue;
    if (result.contents.length + result.commonPrefixes.length === maxKeys) {
      result.truncated = true;
      break;
    }
    if (at >= 0) {
      result.commonPrefixes.push(entry);
      lastPrefix = entry;
    } else result.contents.push(bucket.get(key)!);
    result.last = entry;
  }
  return result;
}

interface ListParams {
  prefix: string;
  delimiter: string;
  maxKeys: number;
  encode: (value: string) => string;
  url: boolean;
}

function params(request: S3Request): ListParams {
  const q = request.query;
  const rawMax = q.get("max-keys");
  const maxKeys = rawMax === null ? 1000 : Number(rawMax);
  if (!/^\d+$/.test(rawMax ?? "0") || !Number.isSafeInteger(maxKeys))
    throw invalidArgument(
      "max-keys",
      rawMax ?? "",
      "Provided max-keys not an integer or within integer range",
    );
  const encoding = q.get("encoding-type");
  if (encoding !== null && encoding !== "url")
    throw invalidArgument("encoding-type", encoding, "Invalid Encoding Method specified in Request");
  const url = encoding === "url";
  return {
    prefix: q.get("prefix") ?? "",
    delimiter: q.get("delimiter") ?? "",
    // S3 never returns more than 1000 per page, whatever was asked.
    maxKeys: Math.min(maxKeys, 1000),
    // encoding-type=url: keys may hold characters XML 1.0 cannot carry, so S3 percent-encodes them.
    encode: url ? (v) => encodeURIComponent(v).replace(/%2F/g, "/") : (v) => v,
    url,
  };
}

function contents(object: StoredObject, p: ListParams, owner: boolean): string {
  return el(
    "Contents",
    text("Key", p.encode(object.key)),
    text("LastModified", isoDate(object.lastModified)),
    text("ETag", object.etag),
    object.checksum && !object.etag.includes("-") && text("ChecksumAlgorithm", object.checksum.algorithm),
    text("Size", object.body.length),
    owner && el("Owner", text("ID", OWNER.id), text("DisplayName", OWNER.name)),
    text("StorageClass", "STANDARD"),
  );
}

function commonPrefixes(prefixes: string[], p: ListParams): string[] {
  return prefixes.map((prefix) => el("CommonPrefixes", text("Prefix", p.encode(prefix))));
}

const TOKEN_TAG = "fl1:";

/** Continuation tokens are opaque to clients: base64 of a tag and the last key or common prefix returned. */
function encodeToken(last: string): string {
  return Buffer.from(TOKEN_TAG + last, "utf8").toString("base64");
}

function decodeToken(token: string): string {
  const text = Buffer.from(token, "base64").toString("utf8");
  if (!text.startsWith(TOKEN_TAG))
    throw invalidArgument("continuation-token", token, "The continuation token provided is incorrect");
  return text.slice(TOKEN_TAG.length);
}

export const listObjectsV2: Handler = (request) => {
  const bucket = requireBucket(request);
  const p = params(request);
  const token = request.query.get("continuation-token");
  const startAfter = request.query.get("start-after") ?? undefined;
  let after = token !== null ? decodeToken(token) : startAfter;
  // A start-after past the token's position wins (S3 starts after the later of the two).
  if (token !== null && startAfter !== undefined && compareKeys(startAfter, after!) > 0) after = startAfter;
  const page = walk(bucket, p.prefix, p.delimiter, p.maxKeys, after);
  const owner = request.query.get("fetch-owner") === "true";
  return {
    status: 200,
    body: document(
      "ListBucketResult",
      text("Name", bucket.name),
      text("Prefix", p.encode(p.prefix)),
      p.delimiter !== "" && text("Delimiter", p.encode(p.delimiter)),
      text("MaxKeys", p.maxKeys),
      p.url && text("EncodingType", "url"),
      text("KeyCount", page.contents.length + page.commonPrefixes.length),
      text("IsTruncated", page.truncated),
      token !== null && text("ContinuationToken", token),
      page.truncated && page.last !== undefined && text("NextContinuationToken", encodeToken(page.last)),
      startAfter !== undefined && text("StartAfter", p.encode(startAfter)),
      ...page.contents.map((o) => contents(o, p, owner)),
      ...commonPrefixes(page.commonPrefixes, p),
    ),
  };
};

/** v1: clients page with the last key; S3 sends NextMarker only when a delimiter is in play. */
export const listObjects: Handler = (request) => {
  const bucket = requireBucket(request);
  const p = params(request);
  const marker = request.query.get("marker") ?? "";
  const page = walk(bucket, p.prefix, p.delimiter, p.maxKeys, marker === "" ? undefined : marker);
  return {
    status: 200,
    body: document(
      "ListBucketResult",
      text("Name", bucket.name),
      text("Prefix", p.encode(p.prefix)),
      text("Marker", p.encode(marker)),
      text("MaxKeys", p.maxKeys),
      p.delimiter !== "" && text("Delimiter", p.encode(p.delimiter)),
      p.url && text("EncodingType", "url"),
      text("IsTruncated", page.truncated),
      page.truncated &&
        p.delimiter !== "" &&
        page.last !== undefined &&
        text("NextMarker", p.encode(page.last)),
      ...page.contents.map((o) => contents(o, p, true)),
      ...commonPrefixes(page.commonPrefixes, p),
    ),
  };
};
