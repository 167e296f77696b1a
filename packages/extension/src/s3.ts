import { isIP } from "node:net";
import { ObjectTooLargeError, StoreError } from "./errors.ts";
import { BodyTooLargeError, ConnectionPool, ExchangeError, headerOf } from "./http1.ts";
import type { S3Settings } from "./settings.ts";

export interface ObjectSummary {
  key: string;
  etag: string;
  /** Bytes, from the listing's Size (NaN when the store did not say). */
  size: number;
  /** The listing's LastModified as sent (ISO 8601, so it sorts as text); "" when absent. */
  lastModified: string;
}

/** The two reads the poller needs. The S3 implementation below is the real one; tests may use fakes. */
export interface ObjectStore {
  /** `signal` abandons the call (the poll it belongs to overran): it then rejects soon, sockets released. */
  list(prefix: string, signal?: AbortSignal): Promise<ObjectSummary[]>;
  get(key: string, signal?: AbortSignal): Promise<{ etag: string; body: string }>;
  /**
   * Conditional GetObject (If-None-Match `etag`): "unchanged" on 304, "missing" on 404 NoSuchKey, else the new
   * ETag. Throws StoreError on anything else (403, 5xx, unreachable).
   */
  etagIfChanged(key: string, etag: string | undefined, signal?: AbortSignal): Promise<MarkerRead>;
  /** Requests sent so far (the benchmark reports requests per poll). */
  readonly requestCount: number;
}

export type MarkerRead = { kind: "unchanged" } | { kind: "missing" } | { kind: "changed"; etag: string };

/** Limits on one request. Fault objects are a few hundred bytes; a listing page of 1,000 keys ~ 300 KB. */
export interface RequestLimits {
  /** Whole request, connect to last byte: a store that stalls or trickles is given up on after this. */
  timeoutMs: number;
  maxObjectBytes: number;
  maxListingPageBytes: number;
}

export const DEFAULT_REQUEST_LIMITS: RequestLimits = {
  timeoutMs: 5000,
  maxObjectBytes: 64 * 1024,
  maxListingPageBytes: 8 * 1024 * 1024,
};

interface Transport {
  sign: typeof import("aws4").sign;
  pool: ConnectionPool;
}

interface Answer {
  status: number;
  body: string;
  etag: string;
  contentType: string;
}

/**
 * ListObjectsV2 and GetObject over kept-alive plain or TLS sockets (http1.ts), signed with aws4 — not the AWS SDK,
 * whose load time would land on every cold start, nor node:http's client, whose first request alone cost the
 * in-process mode's cold start ~15 ms of CPU.
 */
export class S3ObjectStore implements ObjectStore {
  readonly #bucket: string;
  readonly #settings: S3Settings;
  readonly #base: URL;
  readonly #pathStyle: boolean;
  readonly #limits: RequestLimits;
  #transport: Promise<Transport> | undefined;
  #requests = 0;

  constructor(bucket: string, settings: S3Settings, limits: Partial<RequestLimits> = {}) {
    this.#bucket = bucket;
    this.#limits = { ...DEFAULT_REQUEST_LIMITS, ...limits };
    this.#settings = settings;
    // A custom endpoint (local S3, LocalStack, s3rver) or a dotted bucket name: path style.
    this.#pathStyle = settings.endpoint !== undefined || bucket.includes(".");
    this.#base = new URL(
      settings.endpoint ??
        (this.#pathStyle
          ? `https://s3.${settings.region}.amazonaws.com`
          : `https://${bucket}.s3.${settings.region}.amazonaws.com`),
    );
  }

  get requestCount(): number {
    return this.#requests;
  }

  async list(prefix: string, signal?: AbortSignal): Promise<ObjectSummary[]> {
    const out: ObjectSummary[] = [];
    let token: string | undefined;
    do {
      const query = new URLSearchParams({ "list-type": "2", prefix });
      if (token !== undefined) query.set("continuation-token", token);
      const { status, body, contentType } = await this.#send("ListObjectsV2", "", query, signal);
      if (status !== 200)
        throw new StoreError(`error when calling ListObjectsV2 on S3: ${errorCode(status, body)}`);
      // Anything else (a captive portal's HTML, a proxy's JSON) would read as "no objects" and drop every fault.
      if (!body.includes("<ListBucketResult"))
        throw new StoreError(
          `error when calling ListObjectsV2 on S3: the answer is not an S3 XML listing (content-type ${contentType || "none"})`,
        );
      for (const block of body.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
        const entry = block[1] ?? "";
        const key = tag(entry, "Key");
        if (key === undefined) continue;
        const size = tag(entry, "Size");
        out.push({
          key,
          etag: tag(entry, "ETag") ?? "",
          size: size === undefined ? Number.NaN : Number(size),
          lastModified: tag(entry, "LastModified") ?? "",
        });
      }
      token = tag(body, "IsTruncated") === "true" ? tag(body, "NextContinuationToken") : undefined;
    } while (token !== undefined);
    return out;
  }

  async get(key: string, signal?: AbortSignal): Promise<{ etag: string; body: string }> {
    const { status, body, etag } = await this.#send("GetObject", key, undefined, signal);
    if (status !== 200)
      throw new StoreError(`error when calling GetObject on S3: ${errorCode(status, body)}`);
    return { etag, body };
  }

  async etagIfChanged(key: string, etag: string | undefined, signal?: AbortSignal): Promise<MarkerRead> {
    const headers: Record<string, string> =
      etag === undefined || etag === "" ? {} : { "If-None-Match": etag };
    const answer = await this.#send("GetObject", key, undefined, signal, headers);
    if (answer.status === 304) return { kind: "unchanged" };
    if (answer.status === 404 && errorCode(answer.status, answer.body) === "NoSuchKey")
      return { kind: "missing" };
    if (answer.status !== 200 || answer.etag === "")
      throw new StoreError(`error when calling GetObject on S3: ${errorCode(answer.status, answer.body)}`);
    return { kind: "changed", etag: answer.etag };
  }

  close(): void {
    void this.#transport?.then((t) => t.pool.close());
  }

  /**
   * aws4 (crypto) and, for https, node:tls are loaded on the first request, after the extension has registered:
   * they would otherwise add milliseconds to every cold start before the runtime may begin.
   */
  #load(): Promise<Transport> {
    this.#transport ??= (async () => {
      const { hostname, port, protocol } = this.#base;
      const tls = protocol === "https:";
      const [{ default: aws4 }, connect] = await Promise.all([
        import("aws4"),
        tls
          ? import("node:tls").then(
              (m) => () =>
                m.connect({
                  host: hostname,
                  port: Number(port || 443),
                  servername: isIP(hostname.replace(/^\[|\]$/g, "")) ? undefined : hostname,
                }),
            )
          : import("node:net").then((m) => () => m.connect(Number(port || 80), hostname)),
      ]);
      return { sign: aws4.sign, pool: new ConnectionPool(connect) };
    })();
    return this.#transport;
  }

  async #send(
    operation: string,
    key: string,
    query: URLSearchParams | undefined,
    signal: AbortSignal | undefined,
    headers: Record<string, string> = {},
  ): Promise<Answer> {
    const encodedKey = key.split("/").map(encodeRfc3986).join("/");
    const basePath = this.#base.pathname.replace(/\/$/, "");
    let path = this.#pathStyle ? `${basePath}/${this.#bucket}/${encodedKey}` : `${basePath}/${encodedKey}`;
    if (query !== undefined) path += `?${query.toString().replaceAll("+", "%20")}`;
    const transport = await this.#load();
    const { accessKeyId, secretAccessKey, sessionToken } = this.#settings;
    const signed = transport.sign(
      {
        host: this.#base.host,
        path,
        method: "GET",
        service: "s3",
        region: this.#settings.region,
        headers,
      },
      accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey, sessionToken } : undefined,
    );
    const limit = query === undefined ? this.#limits.maxObjectBytes : this.#limits.maxListingPageBytes;
    const what = query === undefined ? `object ${key}` : "listing page";
    const lines = Object.entries(signed.headers ?? {}).map(([name, value]) => `${name}: ${value}\r\n`);
    this.#requests++;
    try {
      const answer = await transport.pool.exchange(`GET ${path} HTTP/1.1\r\n${lines.join("")}\r\n`, {
        timeoutMs: this.#limits.timeoutMs,
        maxBodyBytes: limit,
        signal,
      });
      return {
        status: answer.status,
        body: answer.body,
        etag: headerOf(answer.head, "etag") ?? "",
        contentType: headerOf(answer.head, "content-type") ?? "",
      };
    } catch (error) {
      if (error instanceof BodyTooLargeError)
        throw tooLarge(`error when calling ${operation} on S3: ${what}`, error.bytes, limit, error.how);
      const reason = error instanceof ExchangeError ? error.message : (error as Error).message;
      throw new StoreError(`error when calling ${operation} on S3: ${reason} (${this.#base.host})`);
    }
  }
}

function tooLarge(what: string, bytes: number, limit: number, how: "declared" | "received") {
  const size = how === "declared" ? `is ${bytes} bytes` : `sent more than ${limit} bytes`;
  return new ObjectTooLargeError(`${what} ${size}, over the ${limit}-byte limit`, bytes, limit);
}

function encodeRfc3986(segment: string): string {
  return encodeURIComponent(segment).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function tag(xml: string, name: string): string | undefined {
  const match = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml);
  return match?.[1] === undefined ? undefined : decodeXml(match[1]);
}

function decodeXml(text: string): string {
  return text.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, entity: string) => {
    switch (entity) {
      case "lt":
        return "<";
      case "gt":
        return ">";
      case "amp":
        return "&";
      case "quot":
        return '"';
      case "apos":
        return "'";
      default:
        return String.fromCodePoint(
          entity[1] === "x" ? Number.parseInt(entity.slice(2), 16) : Number.parseInt(entity.slice(1), 10),
        );
    }
  });
}

function errorCode(status: number, body: string): string {
  return tag(body, "Code") ?? `HTTP ${status}`;
}
