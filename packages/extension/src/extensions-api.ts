import net from "node:net";
import { ExtensionsApiError } from "./errors.ts";
import { splitHostPort } from "./proxy.ts";

const BASE = "/2020-01-01/extension";
/** An answer's head larger than this is not the Extensions API's. */
const MAX_HEAD_BYTES = 64 * 1024;

export type ExtensionEvent =
  | { eventType: "INVOKE"; requestId: string; invokedFunctionArn: string; deadlineMs: number }
  | { eventType: "SHUTDOWN"; shutdownReason: string; deadlineMs: number };

interface Answer {
  status: number;
  /** The answer's head (status line and headers), latin1. */
  head: string;
  body: string;
}

/**
 * The Extensions API as an external extension uses it: register once, then long-poll events, on one kept-alive
 * connection with the `event/next` request built once and written as is. http.request's per-call objects
 * (request, response, header objects, listeners, buffers) lived from one invocation to the next, because the long
 * poll spans the gap between invocations, and grew the extension's RSS over tens of thousands of invocations.
 */
export class ExtensionsApiClient {
  readonly #host: string;
  readonly #port: number;
  #next: Buffer | undefined;
  #socket: net.Socket | undefined;
  /** Bytes of an answer not complete yet. */
  #received: Buffer | undefined;
  #waiting: { resolve(answer: Answer): void; reject(error: Error): void; what: string } | undefined;

  constructor(endpoint: string) {
    [this.#host, this.#port] = splitHostPort(endpoint);
  }

  async register(name: string, events: readonly ("INVOKE" | "SHUTDOWN")[]): Promise<void> {
    const body = JSON.stringify({ events });
    const answer = await this.#exchange(
      `POST ${BASE}/register`,
      request("POST", `${BASE}/register`, this.#hostHeader(), `Lambda-Extension-Name: ${name}`, body),
    );
    const id = headerOf(answer.head, "lambda-extension-identifier");
    if (answer.status !== 200 || id === undefined) {
      throw new ExtensionsApiError(`register answered ${answer.status}: ${answer.body}`);
    }
    this.#next = request(
      "GET",
      `${BASE}/event/next`,
      this.#hostHeader(),
      `Lambda-Extension-Identifier: ${id}`,
    );
  }

  async next(): Promise<ExtensionEvent> {
    if (this.#next === undefined) throw new ExtensionsApiError("next before register");
    const answer = await this.#exchange(`GET ${BASE}/event/next`, this.#next);
    if (answer.status !== 200)
      throw new ExtensionsApiError(`event/next answered ${answer.status}: ${answer.body}`);
    return JSON.parse(answer.body) as ExtensionEvent;
  }

  close(): void {
    this.#socket?.destroy();
    this.#socket = undefined;
    this.#fail(new Error("closed"));
  }

  #hostHeader(): string {
    return this.#host.includes(":") ? `[${this.#host}]:${this.#port}` : `${this.#host}:${this.#port}`;
  }

  /** One request, one answer: the API is only ever asked one thing at a time. */
  #exchange(what: string, bytes: Buffer): Promise<Answer> {
    if (this.#waiting !== undefined)
      return Promise.reject(new ExtensionsApiError(`${what}: a call is in flight`));
    const socket = this.#socket ?? this.#connect();
    return new Promise<Answer>((resolve, reject) => {
      this.#waiting = { resolve, reject, what };
      socket.write(bytes);
    });
  }

  #connect(): net.Socket {
    const socket = net.connect(this.#port, this.#host);
    socket.setNoDelay(true);
    this.#socket = socket;
    this.#received = undefined;
    const gone = (error: Error) => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      // An answer without a length ends with the connection.
      const rest = this.#received;
      this.#received = undefined;
      let answer: Answer | undefined;
      try {
        answer = rest === undefined ? undefined : parseAnswer(rest, true);
      } catch {
        answer = undefined;
      }
      if (answer !== undefined) this.#settle(answer);
      else this.#fail(error);
    };
    socket.on("data", (chunk: Buffer) => this.#onData(socket, chunk));
    socket.on("error", (error) => gone(error));
    socket.on("close", () => gone(new Error("socket hang up")));
    return socket;
  }

  #onData(socket: net.Socket, chunk: Buffer): void {
    const data = this.#received === undefined ? chunk : Buffer.concat([this.#received, chunk]);
    let answer: Answer | undefined;
    try {
      answer = parseAnswer(data, false);
    } catch (error) {
      socket.destroy(error as Error);
      return;
    }
    if (answer === undefined) {
      this.#received = data;
      return;
    }
    this.#received = undefined;
    if (/\r\nconnection:[ \t]*close/i.test(answer.head)) {
      this.#socket = undefined;
      socket.destroy();
    }
    this.#settle(answer);
  }

  #settle(answer: Answer): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.resolve(answer);
  }

  #fail(error: Error): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.reject(new ExtensionsApiError(`${waiting.what}: ${error.message}`));
  }
}

function request(method: string, path: string, host: string, header: string, body?: string): Buffer {
  const length =
    body === undefined
      ? ""
      : `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`;
  return Buffer.from(
    `${method} ${path} HTTP/1.1\r\nHost: ${host}\r\n${header}\r\n${length}\r\n${body ?? ""}`,
  );
}

/**
 * One HTTP/1.1 answer from the start of `data`: undefined while incomplete. The body is delimited by
 * Content-Length, chunked encoding, or (`ended`) the end of the connection.
 */
export function parseAnswer(data: Buffer, ended: boolean): Answer | undefined {
  const headEnd = data.indexOf("\r\n\r\n");
  if (headEnd === -1) {
    if (data.length > MAX_HEAD_BYTES) throw new Error("answer head too large");
    return undefined;
  }
  const head = data.toString("latin1", 0, headEnd);
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(head);
  if (status === null) throw new Error(`not an HTTP answer: ${JSON.stringify(head.slice(0, 40))}`);
  const start = headEnd + 4;
  let body: string | undefined;
  const length = headerOf(head, "content-length");
  if (length !== undefined) {
    if (!/^\d+$/.test(length)) throw new Error(`bad content-length ${JSON.stringify(length)}`);
    const end = start + Number(length);
    if (data.length >= end) body = data.toString("utf8", start, end);
  } else if (/chunked/i.test(headerOf(head, "transfer-encoding") ?? "")) {
    body = dechunk(data, start);
  } else if (ended || status[1] === "204" || status[1] === "304") {
    body = data.toString("utf8", start);
  }
  return body === undefined ? undefined : { status: Number(status[1]), head, body };
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

/** The value of header `name` (lower case) in an answer's head, first occurrence. */
function headerOf(head: string, name: string): string | undefined {
  const lower = head.toLowerCase();
  const at = lower.indexOf(`\r\n${name}:`);
  if (at === -1) return undefined;
  const from = at + name.length + 3;
  const end = head.indexOf("\r\n", from);
  return head.slice(from, end === -1 ? undefined : end).trim();
}
