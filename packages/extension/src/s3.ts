import http from "node:http";
import { StoreError } from "./errors.ts";
import type { S3Settings } from "./settings.ts";

export interface ObjectSummary {
  key: string;
  etag: string;
}

/** The two reads the poller needs. The S3 implementation below is the real one; tests may use fakes. */
export interface ObjectStore {
  list(prefix: string): Promise<ObjectSummary[]>;
  get(key: string): Promise<{ etag: string; body: string }>;
  /** Requests sent so far (the benchmark reports requests per poll). */
  readonly requestCount: number;
}

const REQUEST_TIMEOUT_MS = 5000;

interface Transport {
  sign: typeof import("aws4").sign;
  request: typeof http.request;
  agent: http.Agent;
}

/**
 * ListObjectsV2 and GetObject over node:http(s), signed with aws4 — not the AWS SDK, whose load time
 * would land on every cold start.
 */
export class S3ObjectStore implements ObjectStore {
  readonly #bucket: string;
  readonly #settings: S3Settings;
  readonly #base: URL;
  readonly #pathStyle: boolean;
  #transport: Promise<Transport> | undefined;
  #requests = 0;

  constructor(bucket: string, settings: S3Settings) {
    this.#bucket = bucket;
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

  async list(prefix: string): Promise<ObjectSummary[]> {
    const out: ObjectSummary[] = [];
    let token: string | undefined;
    do {
      const query = new URLSearchParams({ "list-type": "2", prefix });
      if (token !== undefined) query.set("continuation-token", token);
      const { status, body } = await this.#send("ListObjectsV2", "", query);
      if (status !== 200)
        throw new StoreError(`error when calling ListObjectsV2 on S3: ${errorCode(status, body)}`);
      for (const block of body.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
        const key = tag(block[1] ?? "", "Key");
        const etag = tag(block[1] ?? "", "ETag");
        if (key !== undefined) out.push({ key, etag: etag ?? "" });
      }
      token = tag(body, "IsTruncated") === "true" ? tag(body, "NextContinuationToken") : undefined;
    } while (token !== undefined);
    return out;
  }

  async get(key: string): Promise<{ etag: string; body: string }> {
    const { status, body, etag } = await this.#send("GetObject", key, undefined);
    if (status !== 200)
      throw new StoreError(`error when calling GetObject on S3: ${errorCode(status, body)}`);
    return { etag, body };
  }

  close(): void {
    void this.#transport?.then((t) => t.agent.destroy());
  }

  /**
   * node:https (TLS) and aws4 (crypto) are loaded on the first request, after the extension has
   * registered: they would otherwise add milliseconds to every cold start before the runtime may begin.
   */
  #load(): Promise<Transport> {
    this.#transport ??= (async () => {
      const [{ default: aws4 }, module] = await Promise.all([
        import("aws4"),
        this.#base.protocol === "https:" ? import("node:https") : Promise.resolve(http),
      ]);
      const agent = new module.Agent({ keepAlive: true, maxSockets: 4 });
      return { sign: aws4.sign, request: module.request, agent };
    })();
    return this.#transport;
  }

  async #send(
    operation: string,
    key: string,
    query: URLSearchParams | undefined,
    retried = false,
  ): Promise<{ status: number; body: string; etag: string }> {
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
        headers: {},
      },
      accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey, sessionToken } : undefined,
    );
    this.#requests++;
    try {
      return await new Promise((resolve, reject) => {
        const req = transport.request(
          {
            protocol: this.#base.protocol,
            hostname: this.#base.hostname,
            port: this.#base.port,
            path,
            method: "GET",
            headers: signed.headers,
            agent: transport.agent,
            timeout: REQUEST_TIMEOUT_MS,
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (chunk: Buffer) => chunks.push(chunk));
            res.on("error", reject);
            res.on("end", () =>
              resolve({
                status: res.statusCode ?? 0,
                body: Buffer.concat(chunks).toString("utf8"),
                etag: String(res.headers.etag ?? ""),
              }),
            );
          },
        );
        // A poll never keeps its process alive: in-process, the runtime waits for an empty event loop
        // (callbackWaitsForEmptyEventLoop) before it answers, and must not wait for S3.
        req.on("socket", (socket) => socket.unref());
        req.on("timeout", () => req.destroy(Object.assign(new Error("timed out"), { code: "ETIMEDOUT" })));
        req.on("error", (error: NodeJS.ErrnoException) => {
          // A kept-alive socket may have died while the environment was frozen: one retry, on a fresh socket.
          if (req.reusedSocket && error.code === "ECONNRESET" && !retried) {
            this.#send(operation, key, query, true).then(resolve, reject);
            return;
          }
          reject(error);
        });
        req.end();
      });
    } catch (error) {
      if (error instanceof StoreError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      throw new StoreError(
        `error when calling ${operation} on S3: ${code ?? (error as Error).message} (${this.#base.host})`,
      );
    }
  }
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
