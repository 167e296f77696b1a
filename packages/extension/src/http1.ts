import type net from "node:net";

/**
 * The few HTTP/1.1 client pieces the extension needs, on plain sockets: node:http's client builds and keeps a
 * request, a response, header objects and listeners per call, and compiling its code paths on first use cost the
 * in-process mode most of its cold start (the first S3 poll) — measured ~15 ms CPU of a ~26 ms poll.
 */

/** An answer's head larger than this is not from a store or an API we talk to. */
const MAX_HEAD_BYTES = 64 * 1024;

export interface Answer {
  status: number;
  /** The answer's head (status line and headers), latin1. */
  head: string;
  body: string;
}

/** The value of header `name` (lower case) in an answer's head, first occurrence. */
export function headerOf(head: string, name: string): string | undefined {
  const lower = head.toLowerCase();
  const at = lower.indexOf(`\r\n${name}:`);
  if (at === -1) return undefined;
  const from = at + name.length + 3;
  const end = head.indexOf("\r\n", from);
  return head.slice(from, end === -1 ? undefined : end).trim();
}

interface Head {
  status: number;
  head: string;
  bodyStart: number;
  /** Content-Length, if the answer has one. */
  length: number | undefined;
  chunked: boolean;
  /** The server closes the connection after this answer. */
  closes: boolean;
}

/** The head at the start of `data`, or undefined while it has not all arrived. Throws on a malformed one. */
export function parseHead(data: Buffer): Head | undefined {
  const headEnd = data.indexOf("\r\n\r\n");
  if (headEnd === -1) {
    if (data.length > MAX_HEAD_BYTES) throw new Error("answer head too large");
    return undefined;
  }
  const head = data.toString("latin1", 0, headEnd);
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(head);
  if (status === null) throw new Error(`not an HTTP answer: ${JSON.stringify(head.slice(0, 40))}`);
  const code = Number(status[1]);
  const declared = headerOf(head, "content-length");
  if (declared !== undefined && !/^\d+$/.test(declared))
    throw new Error(`bad content-length ${JSON.stringify(declared)}`);
  const chunked = /chunked/i.test(headerOf(head, "transfer-encoding") ?? "");
  // 204 and 304 never have a body (RFC 9112 §6.3).
  const length = code === 204 || code === 304 ? 0 : declared === undefined ? undefined : Number(declared);
  return {
    status: code,
    head,
    bodyStart: headEnd + 4,
    length: chunked && length !== 0 ? undefined : length,
    chunked: chunked && length !== 0,
    closes: /^close$/i.test(headerOf(head, "connection") ?? "") || head.startsWith("HTTP/1.0"),
  };
}

/**
 * The body of the answer whose head is `h`, or undefined while incomplete. Delimited by Content-Length, chunked
 * encoding, or (`ended`) the end of the connection.
 */
export function bodyOf(data: Buffer, h: Head, ended: boolean): string | undefined {
  if (h.length !== undefined) {
    const end = h.bodyStart + h.length;
    return data.length >= end ? data.toString("utf8", h.bodyStart, end) : undefined;
  }
  if (h.chunked) return dechunk(data, h.bodyStart);
  return ended ? data.toString("utf8", h.bodyStart) : undefined;
}

/** One whole answer from the start of `data`: undefined while incomplete. */
export function parseAnswer(data: Buffer, ended: boolean): Answer | undefined {
  const h = parseHead(data);
  if (h === undefined) return undefined;
  const body = bodyOf(data, h, ended);
  return body === undefined ? undefined : { status: h.status, head: h.head, body };
}

/** A chunked body from `start`, or undefined while its last chunk (and trailers) has not arrived. */
function dechunk(data: Buffer, start: number): string | undefined {
  const parts: Buffer[] = [];
  let at = start;
  for (;;) {
    const lineEnd = data.indexOf("\r\n", at);
    if (lineEnd === -1) return undefined;
    const size = Number.parseInt(data.toString("latin1", at, lineEnd), 16);
    if (!Number.isFinite(size) || size < 0) throw new Error("bad chunk size");
    if (size === 0) {
      // The last chunk, then trailers if any, then an empty line.
      if (data.indexOf("\r\n\r\n", lineEnd) === -1) return undefined;
      return Buffer.concat(parts).toString("utf8");
    }
    if (data.length < lineEnd + 2 + size + 2) return undefined;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}

export interface ExchangeLimits {
  /** Whole exchange, connect to last byte: a server that stalls or trickles is given up on. */
  timeoutMs: number;
  /** Bodies over this are refused on their Content-Length, or aborted once this much has arrived. */
  maxBodyBytes: number;
  signal?: AbortSignal;
}

/** Why an exchange failed before an answer: `retryable` when a kept-alive socket died before any byte came back. */
export class ExchangeError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** A body over the limit: `declared` (Content-Length, unread) or `received` (aborted mid-body). */
export class BodyTooLargeError extends Error {
  constructor(
    readonly bytes: number,
    readonly how: "declared" | "received",
  ) {
    super(`body too large (${how} ${bytes} bytes)`);
  }
}

/**
 * Kept-alive connections to one server, one request at a time on each. Sockets are unref'd: a poll never keeps
 * its process alive (in-process, the runtime waits for an empty event loop before answering a callback handler).
 */
export class ConnectionPool {
  readonly #connect: () => net.Socket;
  readonly #maxIdle: number;
  readonly #idle: net.Socket[] = [];
  /** Each idle socket's listener that drops it from the pool. */
  readonly #drops = new Map<net.Socket, () => void>();

  constructor(connect: () => net.Socket, maxIdle = 2) {
    this.#connect = connect;
    this.#maxIdle = maxIdle;
  }

  /** Sends `request` (a whole HTTP/1.1 request) and reads one answer; a kept-alive socket that died is retried once. */
  async exchange(request: string, limits: ExchangeLimits): Promise<Answer> {
    const reused = this.#idle.pop();
    if (reused === undefined) return this.#exchangeOn(this.#open(), false, request, limits);
    this.#unwatch(reused);
    try {
      return await this.#exchangeOn(reused, true, request, limits);
    } catch (error) {
      if (!(error instanceof ExchangeError && error.retryable)) throw error;
      return this.#exchangeOn(this.#open(), false, request, limits);
    }
  }

  close(): void {
    for (const socket of this.#idle.splice(0)) {
      this.#unwatch(socket);
      socket.destroy();
    }
  }

  #open(): net.Socket {
    const socket = this.#connect();
    socket.setNoDelay(true);
    socket.unref();
    return socket;
  }

  #release(socket: net.Socket): void {
    if (this.#idle.length >= this.#maxIdle || socket.destroyed) return void socket.destroy();
    // An idle socket the server closes (or that errors) leaves the pool; it is never read from while idle.
    const drop = () => {
      this.#unwatch(socket);
      const at = this.#idle.indexOf(socket);
      if (at !== -1) this.#idle.splice(at, 1);
      socket.destroy();
    };
    socket.on("close", drop).on("error", drop).on("data", drop);
    this.#drops.set(socket, drop);
    this.#idle.push(socket);
  }

  #unwatch(socket: net.Socket): void {
    const drop = this.#drops.get(socket);
    if (drop === undefined) return;
    this.#drops.delete(socket);
    socket.removeListener("close", drop).removeListener("error", drop).removeListener("data", drop);
  }

  #exchangeOn(socket: net.Socket, reused: boolean, request: string, o: ExchangeLimits): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) => {
      let data: Buffer | undefined;
      let head: Head | undefined;
      let settled = false;
      const finish = (error: Error | undefined, answer?: Answer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        o.signal?.removeEventListener("abort", onAbort);
        socket.removeListener("data", onData).removeListener("error", onError);
        socket.removeListener("close", onClose).removeListener("end", onClose);
        if (error !== undefined || answer === undefined || head?.closes) socket.destroy();
        else this.#release(socket);
        if (error === undefined) resolve(answer as Answer);
        else reject(error);
      };
      const fail = (message: string, code?: string) =>
        finish(new ExchangeError(message, code, reused && data === undefined));
      const onData = (chunk: Buffer) => {
        data = data === undefined ? chunk : Buffer.concat([data, chunk]);
        try {
          head ??= parseHead(data);
          if (head === undefined) return;
          if (head.length !== undefined && head.length > o.maxBodyBytes)
            return finish(new BodyTooLargeError(head.length, "declared"));
          const received = data.length - head.bodyStart;
          // Chunk framing counts too: a few bytes per chunk, allowed for generously.
          if (received > o.maxBodyBytes + (head.chunked ? 64 * 1024 : 0))
            return finish(new BodyTooLargeError(received, "received"));
          const body = bodyOf(data, head, false);
          if (body !== undefined) finish(undefined, { status: head.status, head: head.head, body });
        } catch (error) {
          fail((error as Error).message);
        }
      };
      const onClose = () => {
        // An answer without a length ends with the connection.
        const body = data !== undefined && head !== undefined ? bodyOf(data, head, true) : undefined;
        if (head !== undefined && body !== undefined)
          finish(undefined, { status: head.status, head: head.head, body });
        else fail("socket hang up", "ECONNRESET");
      };
      const onError = (error: NodeJS.ErrnoException) => fail(error.code ?? error.message, error.code);
      const onAbort = () => fail("abandoned (the poll overran)");
      // Unref'd like the socket: a deadline must not keep a callback handler's event loop busy either.
      const timer = setTimeout(() => fail(`no answer within ${o.timeoutMs} ms`), o.timeoutMs).unref();
      if (o.signal?.aborted) return onAbort();
      o.signal?.addEventListener("abort", onAbort, { once: true });
      socket.on("data", onData).on("error", onError).on("close", onClose).on("end", onClose);
      socket.write(request);
    });
  }
}
