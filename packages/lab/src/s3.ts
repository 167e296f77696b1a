/**
 * The lab's S3: s3rver on 127.0.0.1 with the configured buckets, data in a temporary directory removed on close.
 * Known s3rver quirks (docs/lab-config.md): clients must not send aws-chunked bodies (use
 * `requestChecksumCalculation: "WHEN_REQUIRED"` or string/Buffer bodies); IfMatch and IfNoneMatch "*" on PUT are
 * ignored. Its ListObjectsV2 continuation tokens use DES, which OpenSSL 3 lacks: see `allowDesContinuationTokens`.
 */
import crypto from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** s3rver accepts this account's signatures; the lab injects it as the environments' credentials. */
export const S3_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } as const;

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer?: import("node:http").Server;
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;

// s3rver is CommonJS without types: load it through require (on first use: it pulls in koa and winston)
// and describe the little we use.
let s3rverConstructor: S3rverConstructor | undefined;
const loadS3rver = (): S3rverConstructor => {
  s3rverConstructor ??= createRequire(import.meta.url)("s3rver") as S3rverConstructor;
  return s3rverConstructor;
};

export interface S3Options {
  buckets: string[];
  port?: number;
  host?: string;
  /** Where objects live; a fresh temporary directory (deleted on close) when omitted. */
  directory?: string;
}

export interface RunningS3 {
  /** e.g. http://127.0.0.1:4569 — path-style endpoint for AWS_ENDPOINT_URL_S3. */
  endpoint: string;
  port: number;
  close(): Promise<void>;
}

export async function startS3(options: S3Options): Promise<RunningS3> {
  allowDesContinuationTokens();
  const host = options.host ?? "127.0.0.1";
  const directory = options.directory ?? mkdtempSync(join(tmpdir(), "faultline-s3-"));
  const ownsDirectory = options.directory === undefined;
  const S3rver = loadS3rver();
  const server = new S3rver({
    address: host,
    port: options.port ?? 0,
    silent: true,
    directory,
    configureBuckets: options.buckets.map((name) => ({ name })),
  });
  let address: AddressInfo;
  try {
    address = await server.run();
  } catch (error) {
    if (ownsDirectory) rmSync(directory, { recursive: true, force: true });
    throw error;
  }
  let closed: Promise<void> | undefined;
  return {
    endpoint: `http://${host}:${address.port}`,
    port: address.port,
    close() {
      if (!closed) {
        // Keep-alive sockets of clients would otherwise hold close() open.
        const closing = server.close();
        server.httpServer?.closeAllConnections();
        closed = closing
          .catch(() => undefined)
          .finally(() => {
            if (ownsDirectory) rmSync(directory, { recursive: true, force: true });
          });
      }
      return closed;
    },
  };
}

/**
 * s3rver encrypts ListObjectsV2 continuation tokens with DES; without --openssl-legacy-provider OpenSSL 3 refuses
 * ('ERR_OSSL_EVP_UNSUPPORTED') and every truncated listing fails with 500. When — and only when — DES is unavailable,
 * give `crypto.createCipheriv/createDecipheriv("des", …)` (s3rver calls them through the CommonJS module object) an
 * identity transform: the token becomes iv + plain `region/bucket/key`, opaque enough for a local S3.
 * Every other algorithm, and DES where OpenSSL has it, goes to the real functions.
 */
let desPatched = false;
function allowDesContinuationTokens(): void {
  if (desPatched) return;
  desPatched = true;
  try {
    crypto.createCipheriv("des", Buffer.alloc(8), Buffer.alloc(8));
    return;
  } catch {
    // DES unsupported: install the fallback below.
  }
  const identity = () => {
    const transform = {
      update: (data: string | Buffer, encoding?: BufferEncoding) =>
        typeof data === "string" ? Buffer.from(data, encoding ?? "utf8") : Buffer.from(data),
      final: () => Buffer.alloc(0),
    };
    return transform;
  };
  const realCipher = crypto.createCipheriv;
  const realDecipher = crypto.createDecipheriv;
  const mutable = crypto as unknown as Record<string, unknown>;
  mutable.createCipheriv = (algorithm: string, ...rest: unknown[]) =>
    algorithm === "des" ? identity() : (realCipher as (...a: unknown[]) => unknown)(algorithm, ...rest);
  mutable.createDecipheriv = (algorithm: string, ...rest: unknown[]) =>
    algorithm === "des" ? identity() : (realDecipher as (...a: unknown[]) => unknown)(algorithm, ...rest);
}
