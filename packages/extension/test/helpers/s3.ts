import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeleteObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";

export const BUCKET = "faults";
export const CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

/** A real S3-protocol server (s3rver) on an ephemeral port, and a real AWS SDK client to write with. */
export async function startS3(port = 0) {
  const directory = mkdtempSync(join(tmpdir(), "faultline-s3-"));
  const server = new S3rver({
    port,
    address: "127.0.0.1",
    silent: true,
    directory,
    configureBuckets: [{ name: BUCKET }],
  });
  const address = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  const client = new S3Client({
    region: "us-east-1",
    endpoint,
    forcePathStyle: true,
    credentials: CREDENTIALS,
    requestChecksumCalculation: "WHEN_REQUIRED",
  });
  let running = true;
  return {
    endpoint,
    port: address.port,
    client,
    put: (key: string, body: string) =>
      client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body })),
    delete: (key: string) => client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key })),
    /** Stops the server (S3 "down"); the data directory stays for close(). */
    async stop() {
      if (!running) return;
      running = false;
      await server.close();
    },
    async close() {
      await this.stop();
      client.destroy();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
