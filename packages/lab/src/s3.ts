/**
 * The lab's S3: the S3-protocol server in ./s3/ on 127.0.0.1 with the configured buckets. Objects live in memory;
 * with `directory` they are also written there (and loaded from there at start), so a restarted lab keeps them.
 * What it supports and what it does not: docs/lab-config.md.
 */
import { allowList } from "./http-guard.ts";
import { listen } from "./lambda-api/index.ts";
import { S3SetupError } from "./s3/errors.ts";
import { createS3Server } from "./s3/server.ts";
import { isValidBucketName, ObjectStore } from "./s3/store.ts";

/**
 * The credentials the lab injects into environments. The server accepts any; the value is kept from the days of
 * s3rver because environments, scripts and docs already carry it.
 */
export const S3_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } as const;

export interface S3Options {
  buckets: string[];
  port?: number;
  host?: string;
  /** Where objects are also kept, to survive a restart; memory only when omitted. */
  directory?: string;
  /** Host names accepted besides loopback ones and `host` (see http-guard.ts). */
  allowedHosts?: readonly string[];
}

export interface RunningS3 {
  /** e.g. http://127.0.0.1:4569 — path-style endpoint for AWS_ENDPOINT_URL_S3. */
  endpoint: string;
  port: number;
  close(): Promise<void>;
}

export async function startS3(options: S3Options): Promise<RunningS3> {
  const invalid = options.buckets.filter((name) => !isValidBucketName(name));
  if (invalid.length > 0) throw new S3SetupError(`invalid S3 bucket name(s): ${invalid.join(", ")}`);
  const host = options.host ?? "127.0.0.1";
  const store = new ObjectStore(options.directory);
  for (const name of options.buckets) if (!store.buckets.has(name)) store.createBucket(name, "us-east-1");
  const server = createS3Server(store, { allowedHosts: allowList(host, options.allowedHosts) });
  const running = await listen(server, host, options.port ?? 0);
  let closed: Promise<void> | undefined;
  return {
    endpoint: running.url,
    port: running.port,
    close() {
      closed ??= (async () => {
        await running.close();
        // Writes already answered are on disk; this waits for any whose client went away first.
        await store.flush();
      })();
      return closed;
    },
  };
}
