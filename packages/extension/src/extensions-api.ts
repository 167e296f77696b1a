import net from "node:net";
import { ExtensionsApiError } from "./errors.ts";
import { type Answer, headerOf, parseAnswer } from "./http1.ts";
import { splitHostPort } from "./proxy.ts";

const BASE = "/2020-01-01/extension";

export type ExtensionEvent =
  | { eventType: "INVOKE"; requestId: string; invokedFunctionArn: string; deadlineMs: number }
  | { eventType: "SHUTDOWN"; shutdownReason: string; deadlineMs: number };

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
