import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";

/** node:crypto behind the Checksum interface SignatureV4 expects (HMAC when given a secret). */
export class Sha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash("sha256") : createHmac("sha256", toBuffer(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {}
}

function toBuffer(data: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === "string") return Buffer.from(data, "utf8");
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

const AUTH =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/;
const MAX_SKEW_MS = 15 * 60 * 1000;

export interface SignedRequest {
  method: string;
  /** Raw path and query from the request line. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/**
 * Verifies a SigV4 `Authorization` header against known secrets by re-signing the request as received.
 * Returns undefined when valid, or why not (for the error message).
 */
export async function verifySigV4(
  req: SignedRequest,
  secrets: Record<string, string>,
  now = Date.now(),
): Promise<string | undefined> {
  const header = (name: string) => {
    const v = req.headers[name];
    return Array.isArray(v) ? v.join(",") : v;
  };
  const m = AUTH.exec(header("authorization") ?? "");
  if (!m) return "missing or malformed SigV4 Authorization header";
  const [, keyId, , region, service, signedHeaders, signature] = m;
  const secret = secrets[keyId!];
  if (secret === undefined) return `unknown access key id ${keyId}`;
  const amzDate = header("x-amz-date") ?? "";
  const dm = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!dm) return "missing or malformed X-Amz-Date";
  const signingDate = new Date(Date.UTC(+dm[1]!, +dm[2]! - 1, +dm[3]!, +dm[4]!, +dm[5]!, +dm[6]!));
  if (Math.abs(now - signingDate.getTime()) > MAX_SKEW_MS) return "request time is more than 15 minutes off";
  const q = req.url.indexOf("?");
  const path = q === -1 ? req.url : req.url.slice(0, q);
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(q === -1 ? "" : req.url.slice(q + 1))) {
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  const headers: Record<string, string> = {};
  for (const name of signedHeaders!.split(";")) headers[name] = header(name) ?? "";
  const signer = new SignatureV4({
    credentials: { accessKeyId: keyId!, secretAccessKey: secret },
    region: region!,
    service: service!,
    sha256: Sha256,
    // Sign exactly the headers the client signed: x-amz-content-sha256 only if it is among them.
    applyChecksum: false,
  });
  const hostHeader = headers.host ?? "";
  const signed = await signer.sign(
    {
      method: req.method,
      protocol: "http:",
      hostname: hostHeader.replace(/:\d+$/, ""),
      path,
      query,
      headers,
      body: req.body.length > 0 ? req.body.toString("utf8") : undefined,
    },
    { signingDate },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization ?? ""))?.[1] ?? "";
  const a = Buffer.from(expected);
  const b = Buffer.from(signature!);
  return a.length === b.length && timingSafeEqual(a, b) ? undefined : "signature does not match";
}
