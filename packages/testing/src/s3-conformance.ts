/**
 * One S3 conformance suite, run against every S3 the project relies on (the lab's server in memory and on disk,
 * moto_server as an independent reference). It speaks through the real `@aws-sdk/client-s3` with its default
 * settings, the AWS CLI v2 where the CLI behaves differently (multipart above 8 MB, encoding-type=url listings),
 * and raw HTTP where the wire shape itself is the point. Cases a target cannot meet are skipped by name with
 * the reason printed; the assertions are AWS's behaviour and are not relaxed per target.
 */

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { before, describe, it, type TestContext } from "node:test";
import { crc32 } from "node:zlib";
import type { S3Client } from "@aws-sdk/client-s3";
import { awsCliV2 } from "./tools.ts";

export interface S3ConformanceTarget {
  /** Shown in the suite's name. */
  name: string;
  /** Path-style endpoint, e.g. http://127.0.0.1:4569; a function when the server starts in a `before` hook. */
  endpoint: string | (() => string);
  /** Case name → reason. Listed skips are reported by node:test with their reason. */
  skips?: Record<string, string>;
}

/** Any credentials do for the lab (and moto); these are the ones the lab injects into environments. */
const CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };
const REGION = "us-east-1";
const MiB = 1024 * 1024;

/** The SDK is loaded when a suite runs, so importing this kit stays free of it for suites that do not. */
type Sdk = typeof import("@aws-sdk/client-s3");

interface SdkError extends Error {
  $metadata?: { httpStatusCode?: number };
  Code?: string;
}

/** Assert that `promise` fails with this S3 error name and HTTP status. */
async function rejectsWith(promise: Promise<unknown>, name: string, status: number): Promise<void> {
  await assert.rejects(promise, (error: SdkError) => {
    assert.equal(
      error.name,
      name,
      `error name (status ${error.$metadata?.httpStatusCode}): ${error.message}`,
    );
    assert.equal(error.$metadata?.httpStatusCode, status, `status of ${name}`);
    return true;
  });
}

/** 304 has no body, so the SDK cannot name the error (it reports "Unknown"): the status is the assertion. */
async function rejectsNotModified(promise: Promise<unknown>): Promise<void> {
  await assert.rejects(promise, (error: SdkError) => {
    assert.equal(
      error.$metadata?.httpStatusCode,
      304,
      `expected 304 Not Modified: ${error.name} ${error.message}`,
    );
    return true;
  });
}

const md5 = (body: Buffer | string) => createHash("md5").update(body).digest("hex");

export function s3Conformance(target: S3ConformanceTarget): void {
  describe(`S3 conformance: ${target.name}`, () => {
    let sdk: Sdk;
    let s3: S3Client;
    let endpoint: string;
    let bucketCount = 0;
    const runId = randomBytes(3).toString("hex");

    before(async () => {
      sdk = await import("@aws-sdk/client-s3");
      endpoint = typeof target.endpoint === "function" ? target.endpoint() : target.endpoint;
      // The SDK's defaults otherwise: checksums (aws-chunked for streams), retries, keep-alive.
      s3 = new sdk.S3Client({ endpoint, region: REGION, forcePathStyle: true, credentials: CREDENTIALS });
      return () => s3.destroy();
    });

    const test = (name: string, fn: (t: TestContext) => Promise<void>) => {
      const reason = target.skips?.[name];
      if (reason !== undefined) it(name, { skip: reason }, fn);
      else it(name, fn);
    };

    /** A new bucket per case: cases stay independent, and a target that starts empty (moto) needs nothing. */
    const newBucket = async (): Promise<string> => {
      const bucket = `conformance-${runId}-${++bucketCount}`;
      await s3.send(new sdk.CreateBucketCommand({ Bucket: bucket }));
      return bucket;
    };

    const put = (
      Bucket: string,
      Key: string,
      Body: string | Buffer = "x",
      extra: Record<string, unknown> = {},
    ) => s3.send(new sdk.PutObjectCommand({ Bucket, Key, Body, ...extra }));

    const text = async (Bucket: string, Key: string): Promise<string> => {
      const got = await s3.send(new sdk.GetObjectCommand({ Bucket, Key }));
      return (await got.Body?.transformToString()) ?? "";
    };

    /** Every key of a ListObjectsV2 walk, page by page. */
    const listAll = async (Bucket: string, extra: Record<string, unknown> = {}) => {
      const pages: Array<{ keys: string[]; prefixes: string[]; truncated: boolean; keyCount: number }> = [];
      let ContinuationToken: string | undefined;
      do {
        const page = await s3.send(new sdk.ListObjectsV2Command({ Bucket, ContinuationToken, ...extra }));
        pages.push({
          keys: (page.Contents ?? []).map((o) => o.Key ?? ""),
          prefixes: (page.CommonPrefixes ?? []).map((p) => p.Prefix ?? ""),
          truncated: page.IsTruncated === true,
          keyCount: page.KeyCount ?? -1,
        });
        ContinuationToken = page.NextContinuationToken;
        assert.equal(
          page.IsTruncated === true,
          ContinuationToken !== undefined,
          "a token exactly when truncated",
        );
        assert.ok(pages.length <= 100, "the listing ends");
      } while (ContinuationToken);
      return pages;
    };

    /** One SigV4-signed request over plain node:http, for the wire itself (status, headers, XML, bytes). */
    const raw = (method: string, path: string, headers: Record<string, string> = {}, host?: string) =>
      signedRequest(endpoint, method, path, headers, host);

    // ── buckets ──────────────────────────────────────────────────────────────────────────────────────────────

    test("CreateBucket, ListBuckets, HeadBucket, GetBucketLocation; CreateBucket again by its owner", async () => {
      const bucket = await newBucket();
      const listed = await s3.send(new sdk.ListBucketsCommand({}));
      const entry = listed.Buckets?.find((b) => b.Name === bucket);
      assert.ok(entry, "the new bucket is listed");
      assert.ok(
        entry.CreationDate instanceof Date && Math.abs(entry.CreationDate.getTime() - Date.now()) < 120_000,
      );
      assert.equal(
        (await s3.send(new sdk.HeadBucketCommand({ Bucket: bucket }))).$metadata.httpStatusCode,
        200,
      );
      const location = await s3.send(new sdk.GetBucketLocationCommand({ Bucket: bucket }));
      assert.ok(!location.LocationConstraint, "us-east-1 is the empty LocationConstraint");
      // us-east-1 answers 200 to its owner; other regions BucketAlreadyOwnedByYou (409). Both are S3.
      try {
        await s3.send(new sdk.CreateBucketCommand({ Bucket: bucket }));
      } catch (error) {
        assert.equal((error as SdkError).name, "BucketAlreadyOwnedByYou");
        assert.equal((error as SdkError).$metadata?.httpStatusCode, 409);
      }
      await rejectsWith(s3.send(new sdk.HeadBucketCommand({ Bucket: `${bucket}-missing` })), "NotFound", 404);
    });

    test("CreateBucket with an invalid name is InvalidBucketName", async () => {
      const response = await raw("PUT", "/Invalid_Bucket_Name");
      assert.equal(response.status, 400);
      assert.match(response.text(), /<Code>InvalidBucketName<\/Code>/);
    });

    test("DeleteBucket: BucketNotEmpty (409) while objects remain, then 204, then NoSuchBucket", async () => {
      const bucket = await newBucket();
      await put(bucket, "k");
      await rejectsWith(s3.send(new sdk.DeleteBucketCommand({ Bucket: bucket })), "BucketNotEmpty", 409);
      await s3.send(new sdk.DeleteObjectCommand({ Bucket: bucket, Key: "k" }));
      const deleted = await s3.send(new sdk.DeleteBucketCommand({ Bucket: bucket }));
      assert.equal(deleted.$metadata.httpStatusCode, 204);
      await rejectsWith(s3.send(new sdk.ListObjectsV2Command({ Bucket: bucket })), "NoSuchBucket", 404);
      await rejectsWith(put(bucket, "k"), "NoSuchBucket", 404);
    });

    test("GetBucketVersioning of a never-versioned bucket is an empty configuration", async () => {
      const bucket = await newBucket();
      const versioning = await s3.send(new sdk.GetBucketVersioningCommand({ Bucket: bucket }));
      assert.equal(versioning.Status, undefined);
      assert.equal(versioning.MFADelete, undefined);
    });

    // ── objects ──────────────────────────────────────────────────────────────────────────────────────────────

    test("PutObject/GetObject round trip: bytes, ETag = quoted MD5, content type, metadata, content headers", async () => {
      const bucket = await newBucket();
      const body = Buffer.concat([Buffer.from('{"fault":"latency"}'), randomBytes(3000)]);
      const putResult = await put(bucket, "dir/obj.json", body, {
        ContentType: "application/json",
        Metadata: { "fault-kind": "latency", owner: "conformance" },
        CacheControl: "no-cache",
        ContentDisposition: 'attachment; filename="obj.json"',
        ContentLanguage: "en",
      });
      assert.equal(putResult.ETag, `"${md5(body)}"`);
      const got = await s3.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: "dir/obj.json" }));
      assert.deepEqual(Buffer.from((await got.Body?.transformToByteArray()) ?? []), body);
      assert.equal(got.ETag, `"${md5(body)}"`);
      assert.equal(got.ContentLength, body.length);
      assert.equal(got.ContentType, "application/json");
      assert.deepEqual(got.Metadata, { "fault-kind": "latency", owner: "conformance" });
      assert.equal(got.CacheControl, "no-cache");
      assert.equal(got.ContentDisposition, 'attachment; filename="obj.json"');
      assert.equal(got.ContentLanguage, "en");
      assert.ok(
        got.LastModified instanceof Date && Math.abs(got.LastModified.getTime() - Date.now()) < 120_000,
      );
      // An empty object is an object.
      await put(bucket, "empty", Buffer.alloc(0));
      assert.equal(await text(bucket, "empty"), "");
    });

    test("PutObject with a Readable stream and the SDK's default checksums (aws-chunked) stores only the payload", async () => {
      const bucket = await newBucket();
      const chunks = [randomBytes(70_000), Buffer.from("\r\n0;chunk-signature=x\r\n"), randomBytes(1)];
      const body = Buffer.concat(chunks);
      const result = await s3.send(
        new sdk.PutObjectCommand({
          Bucket: bucket,
          Key: "streamed.bin",
          Body: Readable.from(chunks),
          ContentLength: body.length,
        }),
      );
      const crc = Buffer.alloc(4);
      crc.writeUInt32BE(crc32(body) >>> 0);
      assert.equal(result.ETag, `"${md5(body)}"`, "the ETag is the payload's MD5, not the framing's");
      assert.equal(result.ChecksumCRC32, crc.toString("base64"));
      // Raw bytes, no SDK in between: exactly the payload.
      const response = await raw("GET", `/${bucket}/streamed.bin`);
      assert.equal(response.status, 200);
      assert.deepEqual(response.body, body);
      const got = await s3.send(
        new sdk.GetObjectCommand({ Bucket: bucket, Key: "streamed.bin", ChecksumMode: "ENABLED" }),
      );
      assert.equal(got.ChecksumCRC32, crc.toString("base64"));
      assert.equal(got.ContentEncoding, undefined, "aws-chunked is framing, not the object's encoding");
      await got.Body?.transformToByteArray();
    });

    test("PutObject: a Content-MD5 that does not match is BadDigest; a matching one is accepted", async () => {
      const bucket = await newBucket();
      const wrong = createHash("md5").update("something else").digest("base64");
      await rejectsWith(put(bucket, "k", "payload", { ContentMD5: wrong }), "BadDigest", 400);
      await assert.rejects(text(bucket, "k"), { name: "NoSuchKey" });
      const right = createHash("md5").update("payload").digest("base64");
      await put(bucket, "k", "payload", { ContentMD5: right });
      assert.equal(await text(bucket, "k"), "payload");
    });

    test("PutObject conditional writes: If-None-Match * and a stale If-Match are 412", async () => {
      const bucket = await newBucket();
      const first = await put(bucket, "k", "one", { IfNoneMatch: "*" });
      await rejectsWith(put(bucket, "k", "two", { IfNoneMatch: "*" }), "PreconditionFailed", 412);
      await rejectsWith(put(bucket, "k", "two", { IfMatch: `"${md5("other")}"` }), "PreconditionFailed", 412);
      assert.equal(await text(bucket, "k"), "one");
      await put(bucket, "k", "two", { IfMatch: first.ETag });
      assert.equal(await text(bucket, "k"), "two");
    });

    test("GetObject Range: bytes=a-b, a-, -n are 206 with Content-Range", async () => {
      const bucket = await newBucket();
      await put(bucket, "r", "0123456789");
      const range = async (Range: string) => {
        const got = await s3.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: "r", Range }));
        return [
          got.$metadata.httpStatusCode,
          got.ContentRange,
          got.ContentLength,
          await got.Body?.transformToString(),
        ];
      };
      assert.deepEqual(await range("bytes=2-5"), [206, "bytes 2-5/10", 4, "2345"]);
      assert.deepEqual(await range("bytes=7-"), [206, "bytes 7-9/10", 3, "789"]);
      assert.deepEqual(await range("bytes=-3"), [206, "bytes 7-9/10", 3, "789"]);
      assert.deepEqual(await range("bytes=8-100"), [206, "bytes 8-9/10", 2, "89"]);
    });

    test("GetObject Range past the end is 416 InvalidRange with Content-Range: bytes */size", async () => {
      const bucket = await newBucket();
      await put(bucket, "r", "0123456789");
      await rejectsWith(
        s3.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: "r", Range: "bytes=10-20" })),
        "InvalidRange",
        416,
      );
      const response = await raw("GET", `/${bucket}/r`, { range: "bytes=50-" });
      assert.equal(response.status, 416);
      assert.equal(response.headers["content-range"], "bytes */10");
      assert.match(response.text(), /<Code>InvalidRange<\/Code>/);
    });

    test("GetObject conditionals: If-None-Match and If-Modified-Since 304, If-Match and If-Unmodified-Since 412", async () => {
      const bucket = await newBucket();
      const { ETag } = await put(bucket, "c", "conditional");
      const head = await s3.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: "c" }));
      const modified = head.LastModified!;
      const before = new Date(modified.getTime() - 60_000);
      const after = new Date(modified.getTime() + 60_000);
      const get = (extra: Record<string, unknown>) =>
        s3.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: "c", ...extra })).then(async (got) => {
          await got.Body?.transformToString();
          return got.$metadata.httpStatusCode;
        });
      await rejectsNotModified(get({ IfNoneMatch: ETag }));
      await rejectsNotModified(get({ IfModifiedSince: modified }));
      await rejectsNotModified(get({ IfModifiedSince: after }));
      await rejectsWith(get({ IfMatch: `"${md5("other")}"` }), "PreconditionFailed", 412);
      await rejectsWith(get({ IfUnmodifiedSince: before }), "PreconditionFailed", 412);
      assert.equal(await get({ IfNoneMatch: `"${md5("other")}"` }), 200);
      assert.equal(await get({ IfModifiedSince: before }), 200);
      assert.equal(await get({ IfMatch: ETag }), 200);
      assert.equal(await get({ IfUnmodifiedSince: after }), 200);
      // HEAD answers the same statuses, without a body.
      const response = await raw("HEAD", `/${bucket}/c`, { "if-none-match": ETag! });
      assert.equal(response.status, 304);
      assert.equal(response.headers.etag, ETag);
    });

    test("GetObject conditionals follow S3's precedence: If-Match over If-Unmodified-Since, If-None-Match over If-Modified-Since", async () => {
      const bucket = await newBucket();
      const { ETag } = await put(bucket, "c", "conditional");
      const modified = (await s3.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: "c" }))).LastModified!;
      const get = async (extra: Record<string, unknown>) => {
        const got = await s3.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: "c", ...extra }));
        await got.Body?.transformToString();
        return got.$metadata.httpStatusCode;
      };
      assert.equal(
        await get({ IfMatch: ETag, IfUnmodifiedSince: new Date(modified.getTime() - 60_000) }),
        200,
      );
      const later = new Date(modified.getTime() + 60_000);
      assert.equal(await get({ IfNoneMatch: `"${md5("other")}"`, IfModifiedSince: later }), 200);
    });

    test("GetObject If-Match: * matches any existing object", async () => {
      const bucket = await newBucket();
      await put(bucket, "c", "conditional");
      const got = await s3.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: "c", IfMatch: "*" }));
      assert.equal(await got.Body?.transformToString(), "conditional");
    });

    test("HeadObject: size, ETag, metadata; a missing key is 404 with no body", async () => {
      const bucket = await newBucket();
      await put(bucket, "h", "head me", { Metadata: { a: "1" }, ContentType: "text/plain" });
      const head = await s3.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: "h" }));
      assert.equal(head.ContentLength, 7);
      assert.equal(head.ETag, `"${md5("head me")}"`);
      assert.equal(head.ContentType, "text/plain");
      assert.deepEqual(head.Metadata, { a: "1" });
      await rejectsWith(
        s3.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: "missing" })),
        "NotFound",
        404,
      );
      const response = await raw("HEAD", `/${bucket}/missing`);
      assert.equal(response.status, 404);
      assert.equal(response.body.length, 0);
    });

    test("Errors: NoSuchKey and NoSuchBucket are S3's Error XML with the request id", async () => {
      const bucket = await newBucket();
      const response = await raw("GET", `/${bucket}/no/such/key`);
      assert.equal(response.status, 404);
      const requestId = response.headers["x-amz-request-id"];
      assert.ok(requestId, "x-amz-request-id");
      const xml = response.text();
      assert.match(xml, /^<\?xml version="1\.0" encoding="UTF-8"\?>\s*<Error>/);
      assert.match(xml, /<Code>NoSuchKey<\/Code>/);
      assert.match(xml, /<Message>[^<]+<\/Message>/);
      assert.match(xml, /<Resource>[^<]*<\/Resource>/);
      assert.match(xml, new RegExp(`<RequestId>${requestId}</RequestId>`));
      await rejectsWith(
        s3.send(new sdk.GetObjectCommand({ Bucket: `${bucket}-missing`, Key: "k" })),
        "NoSuchBucket",
        404,
      );
      const head = await raw("HEAD", `/${bucket}/missing`);
      assert.equal(head.status, 404);
      assert.ok(head.headers["x-amz-request-id"], "a HEAD error carries the request id too");
      const missingBucket = await raw("GET", `/${bucket}-missing?list-type=2`);
      assert.equal(missingBucket.status, 404);
      assert.match(missingBucket.text(), /<Code>NoSuchBucket<\/Code>/);
    });

    test("GetObject response-* query parameters override the response headers", async () => {
      const bucket = await newBucket();
      await put(bucket, "o", "override", { ContentType: "text/plain" });
      const got = await s3.send(
        new sdk.GetObjectCommand({
          Bucket: bucket,
          Key: "o",
          ResponseContentType: "application/x-custom",
          ResponseContentDisposition: "inline",
          ResponseCacheControl: "max-age=60",
          ResponseContentLanguage: "de",
        }),
      );
      assert.equal(await got.Body?.transformToString(), "override");
      assert.equal(got.ContentType, "application/x-custom");
      assert.equal(got.ContentDisposition, "inline");
      assert.equal(got.CacheControl, "max-age=60");
      assert.equal(got.ContentLanguage, "de");
    });

    test("DeleteObject: 204, also for a key that does not exist", async () => {
      const bucket = await newBucket();
      await put(bucket, "d", "delete me");
      const deleted = await s3.send(new sdk.DeleteObjectCommand({ Bucket: bucket, Key: "d" }));
      assert.equal(deleted.$metadata.httpStatusCode, 204);
      await rejectsWith(s3.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: "d" })), "NotFound", 404);
      const again = await s3.send(new sdk.DeleteObjectCommand({ Bucket: bucket, Key: "d" }));
      assert.equal(again.$metadata.httpStatusCode, 204);
    });

    test("DeleteObjects: removes the listed keys and reports each, missing ones included", async () => {
      const bucket = await newBucket();
      for (const key of ["a", "b & <c>", "d", "e"]) await put(bucket, key);
      const loud = await s3.send(
        new sdk.DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: [{ Key: "a" }, { Key: "b & <c>" }, { Key: "never-existed" }] },
        }),
      );
      assert.deepEqual((loud.Deleted ?? []).map((d) => d.Key).sort(), ["a", "b & <c>", "never-existed"]);
      assert.equal(loud.Errors, undefined);
      const [page] = await listAll(bucket);
      assert.deepEqual(page?.keys, ["d", "e"]);
    });

    test("DeleteObjects in Quiet mode deletes and reports no Deleted entries", async () => {
      const bucket = await newBucket();
      for (const key of ["d", "e"]) await put(bucket, key);
      const quiet = await s3.send(
        new sdk.DeleteObjectsCommand({ Bucket: bucket, Delete: { Quiet: true, Objects: [{ Key: "d" }] } }),
      );
      assert.equal(quiet.Deleted, undefined);
      const [page] = await listAll(bucket);
      assert.deepEqual(page?.keys, ["e"]);
    });

    test("CopyObject: COPY keeps metadata, REPLACE replaces it; the result carries the ETag", async () => {
      const bucket = await newBucket();
      const { ETag } = await put(bucket, "src dir/source+1.txt", "copy me", {
        ContentType: "text/plain",
        Metadata: { origin: "source" },
      });
      const source = `${bucket}/${encodeURIComponent("src dir/source+1.txt")}`;
      const copied = await s3.send(
        new sdk.CopyObjectCommand({ Bucket: bucket, Key: "copy", CopySource: source }),
      );
      assert.equal(copied.CopyObjectResult?.ETag, ETag);
      assert.ok(copied.CopyObjectResult?.LastModified instanceof Date);
      const copy = await s3.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: "copy" }));
      assert.equal(copy.ContentType, "text/plain");
      assert.deepEqual(copy.Metadata, { origin: "source" });
      await s3.send(
        new sdk.CopyObjectCommand({
          Bucket: bucket,
          Key: "replaced",
          CopySource: source,
          MetadataDirective: "REPLACE",
          ContentType: "application/x-new",
          Metadata: { origin: "replaced" },
        }),
      );
      const replaced = await s3.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: "replaced" }));
      assert.equal(replaced.ContentType, "application/x-new");
      assert.deepEqual(replaced.Metadata, { origin: "replaced" });
      assert.equal(await text(bucket, "replaced"), "copy me");
      await rejectsWith(
        s3.send(new sdk.CopyObjectCommand({ Bucket: bucket, Key: "x", CopySource: `${bucket}/missing` })),
        "NoSuchKey",
        404,
      );
    });

    test("CopyObject with a failing x-amz-copy-source-if-match is 412 and copies nothing", async () => {
      const bucket = await newBucket();
      await put(bucket, "source", "copy me");
      await rejectsWith(
        s3.send(
          new sdk.CopyObjectCommand({
            Bucket: bucket,
            Key: "x",
            CopySource: `${bucket}/source`,
            CopySourceIfMatch: `"${md5("other")}"`,
          }),
        ),
        "PreconditionFailed",
        412,
      );
      await rejectsWith(s3.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: "x" })), "NotFound", 404);
    });

    // ── listings ─────────────────────────────────────────────────────────────────────────────────────────────

    test("ListObjectsV2: prefix, delimiter → CommonPrefixes, StartAfter, KeyCount, sizes and ETags", async () => {
      const bucket = await newBucket();
      for (const key of ["a/1", "a/2", "a/sub/3", "b/1", "top", "topaz"]) await put(bucket, key, key);
      const all = await s3.send(new sdk.ListObjectsV2Command({ Bucket: bucket }));
      assert.deepEqual(
        all.Contents?.map((o) => o.Key),
        ["a/1", "a/2", "a/sub/3", "b/1", "top", "topaz"],
      );
      assert.equal(all.KeyCount, 6);
      assert.equal(all.IsTruncated, false);
      assert.equal(all.MaxKeys, 1000);
      const first = all.Contents?.[0];
      assert.equal(first?.Size, 3);
      assert.equal(first?.ETag, `"${md5("a/1")}"`);
      assert.equal(first?.StorageClass, "STANDARD");
      assert.ok(first?.LastModified instanceof Date);
      const rolled = await s3.send(new sdk.ListObjectsV2Command({ Bucket: bucket, Delimiter: "/" }));
      assert.deepEqual(
        rolled.CommonPrefixes?.map((p) => p.Prefix),
        ["a/", "b/"],
      );
      assert.deepEqual(
        rolled.Contents?.map((o) => o.Key),
        ["top", "topaz"],
      );
      assert.equal(rolled.KeyCount, 4);
      const under = await s3.send(
        new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: "a/", Delimiter: "/" }),
      );
      assert.deepEqual(
        under.Contents?.map((o) => o.Key),
        ["a/1", "a/2"],
      );
      assert.deepEqual(
        under.CommonPrefixes?.map((p) => p.Prefix),
        ["a/sub/"],
      );
      assert.equal(under.Prefix, "a/");
      const afterKey = await s3.send(new sdk.ListObjectsV2Command({ Bucket: bucket, StartAfter: "a/sub/3" }));
      assert.deepEqual(
        afterKey.Contents?.map((o) => o.Key),
        ["b/1", "top", "topaz"],
      );
      const none = await s3.send(new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: "zzz" }));
      assert.equal(none.KeyCount, 0);
      assert.equal(none.Contents, undefined);
      const owned = await s3.send(
        new sdk.ListObjectsV2Command({ Bucket: bucket, FetchOwner: true, MaxKeys: 1 }),
      );
      assert.ok(owned.Contents?.[0]?.Owner?.ID, "fetch-owner=true lists the owner");
    });

    test("ListObjectsV2: a truncated listing pages with continuation tokens, also across common prefixes", async () => {
      const bucket = await newBucket();
      const keys = ["k0", "k1", "k2", "k3", "k4", "k5", "k6", "p/1", "p/2", "q/1", "z"];
      await Promise.all(keys.map((key) => put(bucket, key)));
      const pages = await listAll(bucket, { MaxKeys: 3 });
      assert.deepEqual(
        pages.map((p) => p.keys),
        [
          ["k0", "k1", "k2"],
          ["k3", "k4", "k5"],
          ["k6", "p/1", "p/2"],
          ["q/1", "z"],
        ],
      );
      assert.deepEqual(
        pages.map((p) => [p.truncated, p.keyCount]),
        [
          [true, 3],
          [true, 3],
          [true, 3],
          [false, 2],
        ],
      );
      const rolled = await listAll(bucket, { MaxKeys: 2, Delimiter: "/", StartAfter: "k4" });
      assert.deepEqual(
        rolled.map((p) => [...p.keys, ...p.prefixes]),
        [["k5", "k6"], ["p/", "q/"], ["z"]],
      );
      // Exactly MaxKeys left: the last full page is not truncated.
      const exact = await listAll(bucket, { MaxKeys: 11 });
      assert.deepEqual(
        exact.map((p) => [p.truncated, p.keys.length]),
        [[false, 11]],
      );
    });

    test("ListObjectsV2 EncodingType=url percent-encodes keys and prefixes", async () => {
      const bucket = await newBucket();
      const keys = ["dir one/a b+c.txt", "dir one/ü.txt", "plain"];
      for (const key of keys) await put(bucket, key);
      const encoded = await s3.send(new sdk.ListObjectsV2Command({ Bucket: bucket, EncodingType: "url" }));
      assert.equal(encoded.EncodingType, "url");
      const listed = encoded.Contents?.map((o) => o.Key ?? "") ?? [];
      assert.deepEqual(listed.map(decodeURIComponent), keys);
      assert.ok(!listed[0]?.includes(" ") && !listed[0]?.includes("+"), `encoded: ${listed[0]}`);
      assert.ok(!listed[1]?.includes("ü"), `encoded: ${listed[1]}`);
      const rolled = await s3.send(
        new sdk.ListObjectsV2Command({
          Bucket: bucket,
          EncodingType: "url",
          Delimiter: "/",
          Prefix: "dir one/",
        }),
      );
      assert.equal(decodeURIComponent(rolled.Prefix ?? ""), "dir one/");
      assert.ok(!rolled.Prefix?.includes(" "));
    });

    test("ListObjects (v1): MaxKeys, IsTruncated, Marker, owners", async () => {
      const bucket = await newBucket();
      for (const key of ["a", "b", "c/1", "c/2", "d"]) await put(bucket, key);
      const first = await s3.send(new sdk.ListObjectsCommand({ Bucket: bucket, MaxKeys: 2 }));
      assert.deepEqual(
        first.Contents?.map((o) => o.Key),
        ["a", "b"],
      );
      assert.equal(first.IsTruncated, true);
      assert.ok(first.Contents?.[0]?.Owner?.ID, "v1 lists owners");
      const next = await s3.send(new sdk.ListObjectsCommand({ Bucket: bucket, Marker: "b" }));
      assert.deepEqual(
        next.Contents?.map((o) => o.Key),
        ["c/1", "c/2", "d"],
      );
      assert.equal(next.IsTruncated, false);
    });

    test("ListObjects (v1) with a delimiter: common prefixes count toward MaxKeys; NextMarker resumes", async () => {
      const bucket = await newBucket();
      for (const key of ["a", "b", "c/1", "c/2", "d"]) await put(bucket, key);
      const rolled = await s3.send(
        new sdk.ListObjectsCommand({ Bucket: bucket, Delimiter: "/", MaxKeys: 3 }),
      );
      assert.deepEqual(
        [rolled.Contents?.map((o) => o.Key), rolled.CommonPrefixes?.map((p) => p.Prefix)],
        [["a", "b"], ["c/"]],
      );
      assert.equal(rolled.IsTruncated, true);
      assert.equal(rolled.NextMarker, "c/");
      const rest = await s3.send(
        new sdk.ListObjectsCommand({ Bucket: bucket, Delimiter: "/", Marker: "c/" }),
      );
      assert.deepEqual(
        rest.Contents?.map((o) => o.Key),
        ["d"],
      );
      assert.equal(rest.CommonPrefixes, undefined);
    });

    test("Listings sort keys in UTF-8 byte order", async () => {
      const bucket = await newBucket();
      // UTF-16 order would put the emoji (a surrogate pair) before U+E000 and U+FFFD; UTF-8 puts it last.
      const keys = ["\u{1F600}", "\uE000", "\uFFFD", "Z", "a", "a/b", "a-b", "é"];
      for (const key of keys) await put(bucket, key);
      const expected = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      const [page] = await listAll(bucket);
      assert.deepEqual(page?.keys, expected);
    });

    // ── multipart ────────────────────────────────────────────────────────────────────────────────────────────

    test("Multipart upload: parts, ListParts, Complete → ETag md5(part md5s)-N, the object is the parts joined", async () => {
      const bucket = await newBucket();
      const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB + 7), randomBytes(1000)];
      const created = await s3.send(
        new sdk.CreateMultipartUploadCommand({
          Bucket: bucket,
          Key: "big/object.bin",
          ContentType: "application/x-big",
          Metadata: { kind: "multipart" },
        }),
      );
      const UploadId = created.UploadId!;
      assert.ok(UploadId);
      const etags: string[] = [];
      for (const [i, Body] of parts.entries()) {
        const uploaded = await s3.send(
          new sdk.UploadPartCommand({
            Bucket: bucket,
            Key: "big/object.bin",
            UploadId,
            PartNumber: i + 1,
            Body,
          }),
        );
        assert.equal(uploaded.ETag, `"${md5(Body)}"`);
        etags.push(uploaded.ETag!);
      }
      const listed = await s3.send(
        new sdk.ListPartsCommand({ Bucket: bucket, Key: "big/object.bin", UploadId }),
      );
      assert.deepEqual(
        listed.Parts?.map((p) => [p.PartNumber, p.ETag, p.Size]),
        parts.map((p, i) => [i + 1, etags[i], p.length]),
      );
      const completed = await s3.send(
        new sdk.CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: "big/object.bin",
          UploadId,
          MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
        }),
      );
      const digests = Buffer.concat(parts.map((p) => createHash("md5").update(p).digest()));
      const expectedEtag = `"${md5(digests)}-3"`;
      assert.equal(completed.ETag, expectedEtag);
      assert.equal(completed.Key, "big/object.bin");
      const got = await s3.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: "big/object.bin" }));
      assert.equal(got.ETag, expectedEtag);
      assert.equal(got.ContentType, "application/x-big");
      assert.deepEqual(got.Metadata, { kind: "multipart" });
      const joined = Buffer.concat(parts);
      assert.equal(md5(Buffer.from((await got.Body?.transformToByteArray()) ?? [])), md5(joined));
      await rejectsWith(
        s3.send(new sdk.ListPartsCommand({ Bucket: bucket, Key: "big/object.bin", UploadId })),
        "NoSuchUpload",
        404,
      );
    });

    test("CompleteMultipartUpload: a non-last part under 5 MiB is EntityTooSmall", async () => {
      const bucket = await newBucket();
      const { UploadId } = await s3.send(new sdk.CreateMultipartUploadCommand({ Bucket: bucket, Key: "m" }));
      const one = await s3.send(
        new sdk.UploadPartCommand({ Bucket: bucket, Key: "m", UploadId, PartNumber: 1, Body: "small" }),
      );
      const two = await s3.send(
        new sdk.UploadPartCommand({ Bucket: bucket, Key: "m", UploadId, PartNumber: 2, Body: "last" }),
      );
      await rejectsWith(
        s3.send(
          new sdk.CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: "m",
            UploadId,
            MultipartUpload: {
              Parts: [
                { ETag: one.ETag, PartNumber: 1 },
                { ETag: two.ETag, PartNumber: 2 },
              ],
            },
          }),
        ),
        "EntityTooSmall",
        400,
      );
    });

    test("AbortMultipartUpload ends the upload: ListParts is NoSuchUpload, no object appears", async () => {
      const bucket = await newBucket();
      const { UploadId } = await s3.send(new sdk.CreateMultipartUploadCommand({ Bucket: bucket, Key: "m" }));
      await s3.send(
        new sdk.UploadPartCommand({ Bucket: bucket, Key: "m", UploadId, PartNumber: 1, Body: "x" }),
      );
      const aborted = await s3.send(
        new sdk.AbortMultipartUploadCommand({ Bucket: bucket, Key: "m", UploadId }),
      );
      assert.equal(aborted.$metadata.httpStatusCode, 204);
      await rejectsWith(
        s3.send(new sdk.ListPartsCommand({ Bucket: bucket, Key: "m", UploadId })),
        "NoSuchUpload",
        404,
      );
      await rejectsWith(s3.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: "m" })), "NotFound", 404);
    });

    // ── the rest ─────────────────────────────────────────────────────────────────────────────────────────────

    test("An unsupported operation is 501 NotImplemented naming it; on an unknown bucket NoSuchBucket", async () => {
      const bucket = await newBucket();
      const response = await raw("GET", `/${bucket}?acl`);
      assert.equal(response.status, 501);
      const xml = response.text();
      assert.match(xml, /<Code>NotImplemented<\/Code>/);
      assert.match(xml, /<Message>[^<]*GetBucketAcl[^<]*<\/Message>/);
      const missing = await raw("GET", `/${bucket}-missing?acl`);
      assert.equal(missing.status, 404);
      assert.match(missing.text(), /<Code>NoSuchBucket<\/Code>/);
    });

    test("Virtual-host style: Host <bucket>.localhost addresses the bucket", async () => {
      const bucket = await newBucket();
      await put(bucket, "vhost key", "by host");
      const port = new URL(endpoint).port;
      const got = await raw("GET", `/${encodeURIComponent("vhost key")}`, {}, `${bucket}.localhost:${port}`);
      assert.equal(got.status, 200);
      assert.equal(got.text(), "by host");
    });

    // ── the AWS CLI ──────────────────────────────────────────────────────────────────────────────────────────

    test("AWS CLI: s3 cp of a 9 MiB file uploads in parts and downloads byte-identical", async (t) => {
      if (awsCliV2.skip) return skipMissingCli(t, awsCliV2.skip);
      const bucket = await newBucket();
      const dir = mkdtempSync(join(tmpdir(), "s3-conformance-"));
      try {
        const local = join(dir, "upload.bin");
        const data = randomBytes(9 * MiB);
        writeFileSync(local, data);
        await aws(endpoint, ["s3", "cp", local, `s3://${bucket}/cli/upload.bin`]);
        const head = await s3.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: "cli/upload.bin" }));
        assert.match(head.ETag ?? "", /-2"$/, "the CLI's 8 MiB parts: two of them");
        assert.equal(head.ContentLength, data.length);
        await aws(endpoint, ["s3", "cp", `s3://${bucket}/cli/upload.bin`, join(dir, "download.bin")]);
        assert.equal(md5(readFileSync(join(dir, "download.bin"))), md5(data));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test("AWS CLI: s3 ls (encoding-type=url) lists keys with spaces, plus signs and non-ASCII", async (t) => {
      if (awsCliV2.skip) return skipMissingCli(t, awsCliV2.skip);
      const bucket = await newBucket();
      for (const key of ["dir/a b+c.txt", "dir/é.txt", "top.txt"]) await put(bucket, key, "12345");
      const top = await aws(endpoint, ["s3", "ls", `s3://${bucket}/`]);
      assert.match(top, /PRE dir\//);
      assert.match(top, /\s5 top\.txt$/m);
      const dir = await aws(endpoint, ["s3", "ls", `s3://${bucket}/dir/`]);
      assert.match(dir, /\s5 a b\+c\.txt$/m);
      assert.match(dir, /\s5 é\.txt$/m);
      const recursive = await aws(endpoint, ["s3", "ls", "--recursive", `s3://${bucket}`]);
      assert.equal(recursive.trim().split("\n").length, 3);
    });
  });
}

function skipMissingCli(t: TestContext, reason: string): void {
  t.skip(reason);
}

/** The AWS CLI v2 against `endpoint`, isolated from any user config; resolves with stdout. */
function aws(endpoint: string, args: string[]): Promise<string> {
  const home = tmpdir();
  return new Promise((resolve, reject) => {
    execFile(
      awsCliV2.require(),
      [...args, "--endpoint-url", endpoint],
      {
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          HOME: home,
          AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
          AWS_DEFAULT_REGION: REGION,
          AWS_CONFIG_FILE: "/dev/null",
          AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
          AWS_PAGER: "",
        },
        timeout: 120_000,
        maxBuffer: 16 * MiB,
      },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`aws ${args.join(" ")} failed: ${stderr || error.message}`));
        else resolve(stdout);
      },
    );
  });
}

interface WireResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text(): string;
}

/**
 * A request signed with SigV4 (as any S3 requires: an anonymous request to a private bucket is 403), sent over
 * node:http so the Host header can name a virtual-host bucket. `path` may carry a query string.
 */
async function signedRequest(
  endpoint: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  host?: string,
): Promise<WireResponse> {
  const { SignatureV4 } = await import("@smithy/signature-v4");
  // The API's own node:crypto hash for SignatureV4 (its SigV4 check signs the same way).
  const { Sha256 } = await import("../../api/src/sigv4.ts");
  const url = new URL(endpoint);
  const [pathname, search = ""] = path.split("?", 2) as [string, string?];
  const query: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(search)) query[k] = v;
  const signer = new SignatureV4({
    service: "s3",
    region: REGION,
    credentials: CREDENTIALS,
    sha256: Sha256,
    uriEscapePath: false,
  });
  const signed = await signer.sign({
    method,
    protocol: "http:",
    hostname: url.hostname,
    port: Number(url.port),
    path: pathname,
    query,
    headers: { host: host ?? url.host, "x-amz-content-sha256": "UNSIGNED-PAYLOAD", ...headers },
  });
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, method, path, headers: signed.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const body = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            text: () => body.toString("utf8"),
          });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end();
  });
}
