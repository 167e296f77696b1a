/** HTTP conditional requests as S3 evaluates them (RFC 7232 order, S3's precedence rules). */
import { httpDate } from "./context.ts";
import { NotModified, noSuchKey, preconditionFailed } from "./errors.ts";
import type { StoredObject } from "./store.ts";

export interface Conditions {
  ifMatch?: string | undefined;
  ifNoneMatch?: string | undefined;
  ifModifiedSince?: string | undefined;
  ifUnmodifiedSince?: string | undefined;
}

/** Whether an If-Match / If-None-Match list ("a", "b" or *) names this ETag. */
export function etagMatches(list: string, etag: string): boolean {
  const bare = unquote(etag);
  return list.split(",").some((candidate) => {
    const c = candidate.trim();
    return c === "*" || unquote(c.replace(/^W\//, "")) === bare;
  });
}

function unquote(etag: string): string {
  return etag.startsWith('"') && etag.endsWith('"') && etag.length >= 2 ? etag.slice(1, -1) : etag;
}

function parseDate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * GET/HEAD: If-Match (412) wins over a failing If-Unmodified-Since, If-None-Match (304) over a passing
 * If-Modified-Since — S3's documented precedence. For CopyObject's x-amz-copy-source-if-* (`copySource`) every
 * failure is 412.
 */
export function checkRead(object: StoredObject, c: Conditions, copySource = false): void {
  if (c.ifMatch !== undefined) {
    if (!etagMatches(c.ifMatch, object.etag)) throw preconditionFailed(prefixed("If-Match", copySource));
  } else {
    const since = parseDate(c.ifUnmodifiedSince);
    if (since !== undefined && object.lastModified > since)
      throw preconditionFailed(prefixed("If-Unmodified-Since", copySource));
  }
  let notModified = false;
  if (c.ifNoneMatch !== undefined) notModified = etagMatches(c.ifNoneMatch, object.etag);
  else {
    const since = parseDate(c.ifModifiedSince);
    notModified = since !== undefined && object.lastModified <= since;
  }
  if (!notModified) return;
  // CopyObject answers a "not modified" source with 412, not 304.
  if (copySource)
    throw preconditionFailed(
      prefixed(c.ifNoneMatch !== undefined ? "If-None-Match" : "If-Modified-Since", copySource),
    );
  throw new NotModified({ etag: object.etag, "last-modified": httpDate(object.lastModified) });
}

function prefixed(name: string, copySource: boolean): string {
  return copySource ? `x-amz-copy-source-${name}` : name;
}

/** PutObject/CompleteMultipartUpload: If-None-Match: * refuses to overwrite; If-Match needs the current ETag. */
export function checkWrite(existing: StoredObject | undefined, c: Conditions, key: string): void {
  if (c.ifNoneMatch !== undefined && existing && etagMatches(c.ifNoneMatch, existing.etag))
    throw preconditionFailed("If-None-Match");
  if (c.ifMatch !== undefined) {
    // S3 answers a conditional write to a missing key with 404 NoSuchKey.
    if (!existing) throw noSuchKey(key);
    if (!etagMatches(c.ifMatch, existing.etag)) throw preconditionFailed("If-Match");
  }
}
