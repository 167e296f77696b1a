/**
 * The S3 conformance suite (@faultline/testing) against the lab's S3 in memory, the lab's S3 on a directory
 * (plus a restart that must see what was written), and moto_server as an independent implementation — so a case
 * the lab passes and moto fails (or the reverse) is a difference to explain, not a test to loosen.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import http from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { motoServer, s3Conformance } from "../../testing/src/index.ts";
import { type RunningS3, S3_CREDENTIALS, startS3 } from "../src/index.ts";

const client = (endpoint: string) =>
  new S3Client({ endpoint, region: "us-east-1", forcePathStyle: true, credentials: S3_CREDENTIALS });

describe("lab S3 in memory", () => {
  let s3: RunningS3;
  before(async () => {
    s3 = await startS3({ buckets: ["faults", "data"] });
  });
  after(() => s3.close());

  s3Conformance({ name: "lab (memory)", endpoint: () => s3.endpoint });

  it("starts with the configured buckets", async () => {
    const sdk = client(s3.endpoint);
    try {
      for (const Bucket of ["faults", "data"]) await sdk.send(new HeadBucketCommand({ Bucket }));
    } finally {
      sdk.destroy();
    }
  });

  it("refuses a body over its size limit before reading it: 400 EntityTooLarge, connection closed", async () => {
    const { port } = new URL(s3.endpoint);
    const response = await new Promise<{ status: number; body: string; connection: string | undefined }>(
      (resolve, reject) => {
        const req = http.request(
          {
            host: "127.0.0.1",
            port,
            method: "PUT",
            path: "/faults/huge",
            headers: { "content-length": String(600 * 1024 * 1024) },
            agent: false,
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => {
              resolve({
                status: res.statusCode ?? 0,
                body: Buffer.concat(chunks).toString(),
                connection: res.headers.connection,
              });
              req.destroy();
            });
          },
        );
        req.on("error", reject);
        req.flushHeaders();
      },
    );
    assert.equal(response.status, 400);
    assert.match(response.body, /<Code>EntityTooLarge<\/Code>/);
    assert.equal(response.connection, "close");
  });

  it("close() ends clients' keep-alive connections instead of waiting for them", async () => {
    const own = await startS3({ buckets: ["bucket-1"] });
    const sdk = client(own.endpoint);
    await sdk.send(new PutObjectCommand({ Bucket: "bucket-1", Key: "k", Body: "v" }));
    // The SDK's agent keeps the socket open; close() must not wait for its idle timeout.
    const started = performance.now();
    await own.close();
    assert.ok(performance.now() - started < 2000, "close() returned promptly");
    sdk.destroy();
  });
});

describe("lab S3 on a directory", () => {
  const directory = mkdtempSync(join(tmpdir(), "faultline-s3-conformance-"));
  let s3: RunningS3;
  before(async () => {
    s3 = await startS3({ buckets: ["faults"], directory });
  });
  after(async () => {
    await s3.close();
    rmSync(directory, { recursive: true, force: true });
  });

  s3Conformance({ name: "lab (directory)", endpoint: () => s3.endpoint });

  it("a restart on the same directory sees every object, bucket and deletion; no temporary files remain", async () => {
    const dir = mkdtempSync(join(tmpdir(), "faultline-s3-restart-"));
    try {
      const first = await startS3({ buckets: ["faults"], directory: dir });
      let sdk = client(first.endpoint);
      const streamed = randomBytes(100_000);
      const part1 = randomBytes(5 * 1024 * 1024);
      try {
        await sdk.send(
          new PutObjectCommand({
            Bucket: "faults",
            Key: "FisConfigs/fn/EXP1/lat.json",
            Body: '{"version":1}',
            ContentType: "application/json",
            Metadata: { experiment: "EXP1" },
            CacheControl: "no-store",
          }),
        );
        await sdk.send(
          new PutObjectCommand({
            Bucket: "faults",
            Key: "streamed",
            Body: Readable.from([streamed]),
            ContentLength: streamed.length,
          }),
        );
        await sdk.send(new PutObjectCommand({ Bucket: "faults", Key: "deleted", Body: "gone" }));
        await sdk.send(new DeleteObjectCommand({ Bucket: "faults", Key: "deleted" }));
        await sdk.send(new CreateBucketCommand({ Bucket: "created-later" }));
        await sdk.send(new PutObjectCommand({ Bucket: "created-later", Key: "a b/ü", Body: "unicode key" }));
        await sdk.send(new CreateBucketCommand({ Bucket: "dropped" }));
        await sdk.send(new DeleteBucketCommand({ Bucket: "dropped" }));
        const { UploadId } = await sdk.send(
          new CreateMultipartUploadCommand({ Bucket: "faults", Key: "mp" }),
        );
        const one = await sdk.send(
          new UploadPartCommand({ Bucket: "faults", Key: "mp", UploadId, PartNumber: 1, Body: part1 }),
        );
        const two = await sdk.send(
          new UploadPartCommand({ Bucket: "faults", Key: "mp", UploadId, PartNumber: 2, Body: "tail" }),
        );
        await sdk.send(
          new CompleteMultipartUploadCommand({
            Bucket: "faults",
            Key: "mp",
            UploadId,
            MultipartUpload: {
              Parts: [
                { ETag: one.ETag, PartNumber: 1 },
                { ETag: two.ETag, PartNumber: 2 },
              ],
            },
          }),
        );
        // Overwrites of one key land on disk in order: the last write wins after the restart too.
        await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            sdk.send(new PutObjectCommand({ Bucket: "faults", Key: "raced", Body: `v${i}` })),
          ),
        );
      } finally {
        sdk.destroy();
        await first.close();
      }
      const lastRaced = await (async () => {
        // What the first server answered last for "raced" is what its Map held; read it back after restart.
        const second = await startS3({ buckets: ["faults"], directory: dir });
        sdk = client(second.endpoint);
        try {
          const get = async (Bucket: string, Key: string) => {
            const got = await sdk.send(new GetObjectCommand({ Bucket, Key }));
            return { got, body: Buffer.from((await got.Body?.transformToByteArray()) ?? []) };
          };
          const fault = await get("faults", "FisConfigs/fn/EXP1/lat.json");
          assert.equal(fault.body.toString(), '{"version":1}');
          assert.equal(fault.got.ContentType, "application/json");
          assert.deepEqual(fault.got.Metadata, { experiment: "EXP1" });
          assert.equal(fault.got.CacheControl, "no-store");
          assert.deepEqual((await get("faults", "streamed")).body, streamed);
          const mp = await get("faults", "mp");
          assert.equal(mp.body.length, part1.length + 4);
          assert.match(mp.got.ETag ?? "", /-2"$/);
          assert.equal((await get("created-later", "a b/ü")).body.toString(), "unicode key");
          await assert.rejects(get("faults", "deleted"), { name: "NoSuchKey" });
          await assert.rejects(sdk.send(new HeadBucketCommand({ Bucket: "dropped" })), { name: "NotFound" });
          const listed = await sdk.send(new ListObjectsV2Command({ Bucket: "faults" }));
          assert.deepEqual(
            listed.Contents?.map((o) => o.Key),
            ["FisConfigs/fn/EXP1/lat.json", "mp", "raced", "streamed"],
          );
          return (await get("faults", "raced")).body.toString();
        } finally {
          sdk.destroy();
          await second.close();
        }
      })();
      assert.match(lastRaced, /^v\d+$/);
      const leftovers = readdirSync(join(dir, "faults", "objects")).filter((f) => f.includes(".tmp-"));
      assert.deepEqual(leftovers, []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the object files are written atomically: one file per object, named by the key's hash", async () => {
    const objects = readdirSync(join(directory, "faults", "objects"));
    const hash = createHash("sha256").update("k").digest("hex");
    const sdk = client(s3.endpoint);
    try {
      await sdk.send(new PutObjectCommand({ Bucket: "faults", Key: "k", Body: "v" }));
    } finally {
      sdk.destroy();
    }
    const after = readdirSync(join(directory, "faults", "objects"));
    assert.ok(!objects.includes(hash) && after.includes(hash));
    assert.equal(after.filter((f) => f.includes(".tmp-")).length, 0);
  });
});

describe("moto_server", () => {
  if (motoServer.skip) {
    it("S3 conformance: moto_server", { skip: motoServer.skip }, () => {});
    return;
  }
  let moto: { endpoint: string; child: ChildProcess };
  before(async () => {
    moto = await startMoto();
  });
  after(async () => {
    if (moto.child.exitCode !== null) return;
    const exited = new Promise((resolve) => moto.child.once("exit", resolve));
    moto.child.kill("SIGTERM");
    // werkzeug normally stops on SIGTERM; should it not, do not leave it behind.
    const force = setTimeout(() => moto.child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(force);
  });
  s3Conformance({
    name: "moto_server",
    endpoint: () => moto.endpoint,
    // Where moto_server 5.2 differs from S3 (checked against AWS's documentation); the lab must meet all of these.
    skips: {
      "CreateBucket with an invalid name is InvalidBucketName":
        "moto_server checks only the length of a bucket name",
      "PutObject: a Content-MD5 that does not match is BadDigest; a matching one is accepted":
        "moto_server does not verify Content-MD5",
      "GetObject Range past the end is 416 InvalidRange with Content-Range: bytes */size":
        "moto_server's 416 carries no Content-Range: bytes */size",
      "GetObject conditionals follow S3's precedence: If-Match over If-Unmodified-Since, If-None-Match over If-Modified-Since":
        "moto_server evaluates each condition alone (412 / 304 where S3 answers 200)",
      "GetObject If-Match: * matches any existing object": "moto_server compares * as a literal ETag (412)",
      "Errors: NoSuchKey and NoSuchBucket are S3's Error XML with the request id":
        "moto_server sends no x-amz-request-id header with its errors",
      "GetObject response-* query parameters override the response headers":
        "moto_server ignores response-content-type and the other response-* overrides",
      "DeleteObjects in Quiet mode deletes and reports no Deleted entries":
        "moto_server lists Deleted entries in Quiet mode too",
      "CopyObject with a failing x-amz-copy-source-if-match is 412 and copies nothing":
        "moto_server ignores x-amz-copy-source-if-match",
      "ListObjects (v1) with a delimiter: common prefixes count toward MaxKeys; NextMarker resumes":
        "moto_server's v1 listing does not count common prefixes toward MaxKeys",
      "An unsupported operation is 501 NotImplemented naming it; on an unknown bucket NoSuchBucket":
        "moto_server implements bucket ACLs (the operation the lab leaves out)",
    },
  });
});

/** A free loopback port: bind 0, read it, release it. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** moto_server on loopback; resolves once it answers S3 requests. */
async function startMoto(): Promise<{ endpoint: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(motoServer.require(), ["-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  const endpoint = `http://127.0.0.1:${port}`;
  // werkzeug announces "Running on http://127.0.0.1:<port>" on stderr once it listens.
  await new Promise<void>((resolve, reject) => {
    let log = "";
    const timer = setTimeout(() => reject(new Error(`moto_server did not start in 60 s:\n${log}`)), 60_000);
    child.stderr?.on("data", (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes("Running on")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`moto_server exited (${code}):\n${log}`));
    });
  });
  child.stderr?.resume();
  return { endpoint, child };
}
