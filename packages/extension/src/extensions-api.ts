import http from "node:http";
import { ExtensionsApiError } from "./errors.ts";
import { splitHostPort } from "./proxy.ts";

const BASE = "/2020-01-01/extension";

export type ExtensionEvent =
  | { eventType: "INVOKE"; requestId: string; invokedFunctionArn: string; deadlineMs: number }
  | { eventType: "SHUTDOWN"; shutdownReason: string; deadlineMs: number };

/** The Extensions API as an external extension uses it: register once, then long-poll events. */
export class ExtensionsApiClient {
  readonly #host: string;
  readonly #port: number;
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  #id: string | undefined;

  constructor(endpoint: string) {
    [this.#host, this.#port] = splitHostPort(endpoint);
  }

  async register(name: string, events: readonly ("INVOKE" | "SHUTDOWN")[]): Promise<void> {
    const body = JSON.stringify({ events });
    const answer = await this.#call("POST", `${BASE}/register`, { "lambda-extension-name": name }, body);
    const id = answer.headers["lambda-extension-identifier"];
    if (answer.status !== 200 || typeof id !== "string") {
      throw new ExtensionsApiError(`register answered ${answer.status}: ${answer.body}`);
    }
    this.#id = id;
  }

  async next(): Promise<ExtensionEvent> {
    if (this.#id === undefined) throw new ExtensionsApiError("next before register");
    const answer = await this.#call("GET", `${BASE}/event/next`, { "lambda-extension-identifier": this.#id });
    if (answer.status !== 200)
      throw new ExtensionsApiError(`event/next answered ${answer.status}: ${answer.body}`);
    return JSON.parse(answer.body) as ExtensionEvent;
  }

  close(): void {
    this.#agent.destroy();
  }

  #call(method: string, path: string, headers: Record<string, string>, body?: string) {
    return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>(
      (resolve, reject) => {
        const req = http.request(
          { host: this.#host, port: this.#port, method, path, headers, agent: this.#agent },
          (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (chunk: Buffer) => chunks.push(chunk));
            res.on("end", () =>
              resolve({
                status: res.statusCode ?? 0,
                headers: res.headers,
                body: Buffer.concat(chunks).toString(),
              }),
            );
            res.on("error", reject);
          },
        );
        req.on("error", (error) => reject(new ExtensionsApiError(`${method} ${path}: ${error.message}`)));
        req.end(body);
      },
    );
  }
}
