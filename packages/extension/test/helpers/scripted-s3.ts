import { createHash } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

interface StoredObject {
  body: string;
  etag: string;
  lastModified: string;
  /** What the listing says the size is (default: the real size). */
  listedSize?: number;
}

/**
 * Answers a request instead of the well-behaved S3 below; return true when it handled (or swallowed) it.
 * `kind` is "list" or "get"; `key` is the object key for a get.
 */
export type Misbehaviour = (
  kind: "list" | "get",
  key: string,
  req: IncomingMessage,
  res: ServerResponse,
) => boolean;

/**
 * A small S3-protocol server over real HTTP (ListObjectsV2 paged by 1,000 with continuation tokens, GetObject
 * with ETag and Content-Length) whose answers a test can break on purpose: stall, send a huge body, answer a
 * listing with HTML. Keys are served in lexical order, as S3 does. Requests are not signature-checked.
 */
export async function startScriptedS3(options: { getLatencyMs?: number } = {}) {
  const objects = new Map<string, StoredObject>();
  let sorted: string[] | undefined;
  let misbehave: Misbehaviour | undefined;
  const gets: string[] = [];
  /** Time (Date.now()) each ListObjectsV2 call started (first page only): one per poll. */
  const listStarts: number[] = [];
  const sockets = new Set<import("node:net").Socket>();
  let clock = Date.parse("2026-11-26T11:00:00.000Z");

  function listing(url: URL): string {
    sorted ??= [...objects.keys()].sort();
    const prefix = url.searchParams.get("prefix") ?? "";
    const token = url.searchParams.get("continuation-token");
    const keys = sorted.filter((key) => key.startsWith(prefix) && (token === null || key > token));
    const page = keys.slice(0, 1000);
    const truncated = keys.length > page.length;
    const contents = page
      .map((key) => {
        const o = objects.get(key) as StoredObject;
        const size = o.listedSize ?? Buffer.byteLength(o.body);
        return `<Contents><Key>${escapeXml(key)}</Key><LastModified>${o.lastModified}</LastModified><ETag>${escapeXml(o.etag)}</ETag><Size>${size}</Size></Contents>`;
      })
      .join("");
    const next = truncated
      ? `<NextContinuationToken>${escapeXml(page.at(-1) ?? "")}</NextContinuationToken>`
      : "";
    return `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>faults</Name><Prefix>${escapeXml(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><IsTruncated>${truncated}</IsTruncated>${next}${contents}</ListBucketResult>`;
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://s3");
    const isList = url.searchParams.get("list-type") === "2";
    const key = decodeURIComponent(url.pathname.split("/").slice(2).join("/"));
    if (isList && !url.searchParams.has("continuation-token")) listStarts.push(Date.now());
    if (!isList) gets.push(key);
    if (misbehave?.(isList ? "list" : "get", key, req, res)) return;
    const answer = () => {
      if (isList) return send(res, 200, "application/xml", listing(url));
      const object = objects.get(key);
      if (object === undefined)
        return send(res, 404, "application/xml", "<Error><Code>NoSuchKey</Code></Error>");
      res.setHeader("etag", object.etag);
      send(res, 200, "application/json", object.body);
    };
    if (!isList && options.getLatencyMs) setTimeout(answer, options.getLatencyMs);
    else answer();
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    endpoint,
    gets,
    listStarts,
    /** Stores an object; each put is one second later than the last (LastModified). */
    put(key: string, body: string, extra: { listedSize?: number } = {}) {
      clock += 1000;
      const etag = `"${createHash("md5").update(body).digest("hex")}"`;
      objects.set(key, { body, etag, lastModified: new Date(clock).toISOString(), ...extra });
      sorted = undefined;
    },
    delete(key: string) {
      objects.delete(key);
      sorted = undefined;
    },
    /** Breaks (or, with undefined, mends) the answers from now on. */
    misbehave(how: Misbehaviour | undefined) {
      misbehave = how;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(body) });
  res.end(body);
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
