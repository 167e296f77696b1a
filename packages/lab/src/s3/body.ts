/**
 * Request bodies: read with a size limit, `aws-chunked` framing removed (SigV4 streaming, signed or with
 * trailers), Content-MD5 and x-amz-checksum-* verified. The signatures in the framing are not checked: the lab's
 * S3 accepts any credentials (loopback only, like the FIS API's default).
 */
import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { crc32 } from "node:zlib";
import { S3Error } from "./errors.ts";

/** S3 allows 5 GiB per PUT; everything here lives in memory, so the lab stops far earlier. */
export const MAX_BODY_BYTES = 512 * 1024 * 1024;

export interface DecodedBody {
  payload: Buffer;
  /** Trailing headers of an aws-chunked body (x-amz-checksum-crc32, …), lower-case names. */
  trailers: Record<string, string>;
}

export const entityTooLarge = () =>
  new S3Error("EntityTooLarge", 400, "Your proposed upload exceeds the maximum allowed size", {
    MaxSizeAllowed: String(MAX_BODY_BYTES),
  });

/** The raw request body; rejects with EntityTooLarge as soon as it would pass the limit. */
export function readRaw(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > MAX_BODY_BYTES) return Promise.reject(entityTooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    req.on("data", (chunk: Buffer) => {
      length += chunk.length;
      if (length > MAX_BODY_BYTES) {
        req.removeAllListeners("data");
        reject(entityTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length)));
    req.on("error", reject);
  });
}

/** Whether the body carries aws-chunked framing (the SDK's streaming uploads and checksum trailers). */
export function isAwsChunked(req: IncomingMessage): boolean {
  const sha = req.headers["x-amz-content-sha256"];
  if (typeof sha === "string" && sha.startsWith("STREAMING-")) return true;
  return contentEncodings(req).includes("aws-chunked");
}

/** Content-Encoding values, aws-chunked included (it is framing, not a property of the object). */
export function contentEncodings(req: IncomingMessage): string[] {
  const value = req.headers["content-encoding"];
  if (!value) return [];
  return value
    .split(",")
    .map((v) => v.trim())
    .filter((v) => v !== "");
}

/** The body as the object's bytes: framing removed, length and digests verified. */
export async function readBody(req: IncomingMessage): Promise<DecodedBody> {
  const decodedLength = req.headers["x-amz-decoded-content-length"];
  if (decodedLength !== undefined && Number(decodedLength) > MAX_BODY_BYTES) throw entityTooLarge();
  const raw = await readRaw(req);
  const decoded = isAwsChunked(req) ? decodeAwsChunked(raw) : { payload: raw, trailers: {} };
  if (decodedLength !== undefined && Number(decodedLength) !== decoded.payload.length)
    throw new S3Error(
      "IncompleteBody",
      400,
      "You did not provide the number of bytes specified by the Content-Length HTTP header",
    );
  verifyContentMd5(req, decoded.payload);
  return decoded;
}

/**
 * `<hex size>[;chunk-signature=…]\r\n<bytes>\r\n` … `0[;…]\r\n` then optional trailer lines and a blank line.
 * Anything else is IncompleteBody, as S3 answers a body that does not frame.
 */
export function decodeAwsChunked(raw: Buffer): DecodedBody {
  const parts: Buffer[] = [];
  const trailers: Record<string, string> = {};
  let at = 0;
  const line = (): string => {
    const end = raw.indexOf("\r\n", at);
    if (end < 0) throw incomplete();
    const text = raw.toString("latin1", at, end);
    at = end + 2;
    return text;
  };
  for (;;) {
    const header = line();
    const size = Number.parseInt(header.split(";", 1)[0]!.trim(), 16);
    if (!Number.isFinite(size) || size < 0) throw incomplete();
    if (size === 0) break;
    if (at + size + 2 > raw.length || raw[at + size] !== 0x0d || raw[at + size + 1] !== 0x0a)
      throw incomplete();
    parts.push(raw.subarray(at, at + size));
    at += size + 2;
  }
  // Trailers (unsigned-payload-trailer and signed-trailer uploads), up to a blank line or the end of the body.
  while (at < raw.length) {
    const text = line();
    if (text === "") break;
    const colon = text.indexOf(":");
    if (colon > 0) trailers[text.slice(0, colon).trim().toLowerCase()] = text.slice(colon + 1).trim();
  }
  return { payload: parts.length === 1 ? parts[0]! : Buffer.concat(parts), trailers };
}

const incomplete = () =>
  new S3Error("IncompleteBody", 400, "The request body's aws-chunked framing is incomplete or malformed");

function verifyContentMd5(req: IncomingMessage, payload: Buffer): void {
  const sent = header(req, "content-md5");
  if (sent === undefined) return;
  if (Buffer.from(sent, "base64").length !== 16)
    throw new S3Error("InvalidDigest", 400, "The Content-MD5 you specified was invalid.", {
      "Content-MD5": sent,
    });
  if (createHash("md5").update(payload).digest("base64") !== sent)
    throw new S3Error("BadDigest", 400, "The Content-MD5 you specified did not match what we received.", {
      ExpectedDigest: sent,
      CalculatedDigest: createHash("md5").update(payload).digest("base64"),
    });
}

const CHECKSUMS = ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"] as const;

/**
 * The object's checksum: the one the client sent (header or trailer), verified where node can compute it, or —
 * when it only named an algorithm (x-amz-sdk-checksum-algorithm / x-amz-checksum-algorithm) — computed here.
 */
export function checksumOf(
  req: IncomingMessage,
  body: DecodedBody,
): { algorithm: string; value: string } | undefined {
  for (const algorithm of CHECKSUMS) {
    const name = `x-amz-checksum-${algorithm.toLowerCase()}`;
    const sent = body.trailers[name] ?? header(req, name);
    if (sent === undefined) continue;
    const computed = computeChecksum(algorithm, body.payload);
    if (computed !== undefined && computed !== sent)
      throw new S3Error(
        "BadDigest",
        400,
        `The ${algorithm} you specified did not match the calculated checksum.`,
      );
    return { algorithm, value: sent };
  }
  const named = (
    header(req, "x-amz-sdk-checksum-algorithm") ?? header(req, "x-amz-checksum-algorithm")
  )?.toUpperCase();
  const computed = named === undefined ? undefined : computeChecksum(named, body.payload);
  return computed === undefined ? undefined : { algorithm: named!, value: computed };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Base64 of the big-endian digest, as S3's x-amz-checksum-* headers carry it; undefined when unknown here. */
export function computeChecksum(algorithm: string, payload: Buffer): string | undefined {
  switch (algorithm) {
    case "CRC32":
      return uint32(crc32(payload));
    case "CRC32C":
      return uint32(crc32c(payload));
    case "SHA1":
      return createHash("sha1").update(payload).digest("base64");
    case "SHA256":
      return createHash("sha256").update(payload).digest("base64");
    default:
      return undefined;
  }
}

function uint32(value: number): string {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value >>> 0);
  return bytes.toString("base64");
}

let crc32cTable: Uint32Array | undefined;
/** CRC-32C (Castagnoli); node's zlib only has the IEEE polynomial. */
function crc32c(payload: Buffer): number {
  if (!crc32cTable) {
    crc32cTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
      crc32cTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < payload.length; i++) crc = crc32cTable[(crc ^ payload[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
