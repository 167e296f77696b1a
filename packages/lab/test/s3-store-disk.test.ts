/**
 * The lab's S3 directory mode when the disk misbehaves (issue 9 item 8): a full disk (a tiny tmpfs, root only)
 * and a truncated object file left by a crash. S3 semantics: a PUT that failed stores nothing.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { ObjectStore } from "../src/s3/store.ts";
import { S3_CREDENTIALS, startS3 } from "../src/s3.ts";

const scratch = mkdtempSync(join(tmpdir(), "faultline-s3-disk-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

const root = process.getuid?.() === 0;

describe("S3 directory mode on a bad disk", () => {
  it("a full disk: the PUT fails with 500 and the object is not served; an older version stays", {
    skip: root ? false : "mounting a small tmpfs needs root",
  }, async () => {
    const dir = join(scratch, "full");
    mkdirSync(dir);
    const mount = spawnSync("mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", dir], { encoding: "utf8" });
    assert.equal(mount.status, 0, mount.stderr);
    const s3 = await startS3({ buckets: ["bucket"], directory: dir });
    const client = new S3Client({
      endpoint: s3.endpoint,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: S3_CREDENTIALS,
      maxAttempts: 1,
    });
    try {
      const put = (Key: string, Body: string | Buffer) =>
        client.send(new PutObjectCommand({ Bucket: "bucket", Key, Body }));
      const get = async (Key: string) =>
        (await client.send(new GetObjectCommand({ Bucket: "bucket", Key }))).Body!.transformToString();
      await put("kept", "version 1");
      const big = Buffer.alloc(1024 * 1024, 7);
      await assert.rejects(put("big", big), (e: Error & { $metadata: { httpStatusCode: number } }) => {
        assert.equal(e.$metadata.httpStatusCode, 500);
        return true;
      });
      await assert.rejects(get("big"), { name: "NoSuchKey" }, "a failed PUT is not served");
      await assert.rejects(put("kept", big));
      assert.equal(await get("kept"), "version 1", "the previous version is still what GET returns");
      const objects = readdirSync(join(dir, "bucket", "objects"));
      assert.equal(objects.filter((n) => n.includes(".tmp-")).length, 0, "no partial temporary file is left");
      await put("after", "room again");
      assert.equal(await get("after"), "room again");
    } finally {
      client.destroy();
      await s3.close();
      spawnSync("umount", [dir]);
    }
  });

  it("a truncated or garbage object file is skipped with a log line and moved aside; the lab still starts", async (t) => {
    const dir = join(scratch, "torn");
    const first = new ObjectStore(dir);
    const bucket = first.createBucket("bucket", "us-east-1");
    const object = (key: string, text: string) => ({
      key,
      body: Buffer.from(text),
      etag: `"${createHash("md5").update(text).digest("hex")}"`,
      lastModified: 0,
      contentType: "text/plain",
      metadata: {},
      headers: {},
    });
    await first.putObject(bucket, object("good", "whole"));
    await first.putObject(bucket, object("torn", "x".repeat(1000)));
    await first.flush();
    const objects = join(dir, "bucket", "objects");
    const files = readdirSync(objects);
    const tornFile = files.find((n) => readFileSync(join(objects, n)).includes("torn"))!;
    truncateSync(join(objects, tornFile), readFileSync(join(objects, tornFile)).length - 10);
    writeFileSync(join(objects, "garbage"), "FLS3\u0001\u0000\u0000\u0000\u0010{not json");
    const logged: string[] = [];
    t.mock.method(console, "error", (line: string) => logged.push(line));

    const second = new ObjectStore(dir);
    const loaded = second.buckets.get("bucket")!;
    assert.equal(loaded.get("good")?.body.toString(), "whole");
    assert.equal(loaded.get("torn"), undefined, "a truncated body is not served as the object");
    assert.equal(loaded.size, 1);
    assert.equal(logged.length, 2, logged.join("\n"));
    assert.match(
      logged[0]!,
      /faultline lab S3: skipped an unreadable object file in bucket bucket; moved to .*\.corrupt-\d+/,
    );
    const after = readdirSync(objects);
    assert.equal(after.filter((n) => n.includes(".corrupt-")).length, 2, "moved aside, kept for inspection");
    new ObjectStore(dir); // and the next start does not trip on them again
    assert.equal(logged.length, 2);
  });
});
