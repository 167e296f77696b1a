import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type AnswerRule, holdFor, ownAnswer, readAll, replacementFor } from "../answer.ts";
import type { Clock } from "../clock.ts";
import type { Posted } from "../faults/index.ts";
import type { Logger } from "../log.ts";
import { decodeId } from "./native-client.ts";

const STREAMED_RESULT = /^\/2018-06-01\/runtime\/invocation\/([^/?]+)\/response$/;

export interface StreamedResults {
  /** Starts the loopback sink (once); awaited before a replacement is handed to the runtime. */
  ready(): Promise<void>;
  close(): void;
}

/**
 * Streamed responses do not go through the native client: the runtime client POSTs them with node:http, so a
 * streamed result that a fault changes is re-pointed at a loopback sink in this process, which reads it whole and
 * posts the replacement through the native client (buffered), or holds it and then streams it on to Lambda as
 * sent. `http.request` is wrapped at preload time because aws-lambda-ric 4.x captures it when its module loads
 * (3.x looks it up per call); while no replacement is pending the wrapper only checks a size.
 */
export function interceptStreamedResults(o: {
  /** host:port of the Runtime API the runtime client talks to. */
  runtimeApi: string;
  rules: Map<string, AnswerRule>;
  clock: Clock;
  post(requestId: string, outcome: Posted): void;
  log: Pick<Logger, "once" | "error">;
}): StreamedResults {
  const apiHost = o.runtimeApi.slice(0, o.runtimeApi.lastIndexOf(":")).replace(/^\[|\]$/g, "");
  const apiPort = o.runtimeApi.slice(o.runtimeApi.lastIndexOf(":") + 1);
  let sinkPort: number | undefined;
  let starting: Promise<void> | undefined;

  async function settle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const id = decodeId(STREAMED_RESULT.exec(req.url ?? "")?.[1] ?? "");
    const rule = o.rules.get(id);
    if (rule !== undefined) o.rules.delete(id);
    const holdMs = rule === undefined ? 0 : holdFor(rule, o.clock.now());
    // A ref'd timer: the runtime stays busy with this invocation until the answer goes (or Lambda's timeout).
    if (holdMs > 0) await new Promise((resolve) => setTimeout(resolve, holdMs));
    if (rule?.outcome === undefined || rule.outcome.kind === "timeout") return streamOn(req, res);
    const own = ownAnswer(req, false, await readAll(req));
    o.post(id, replacementFor(rule.outcome, own) ?? own);
    res.writeHead(202, { "content-type": "application/json", connection: "close" });
    res.end('{"status":"OK"}');
  }

  /** Sends the runtime's stream on to the Runtime API as it was sent (trailers too), and the answer back. */
  function streamOn(req: IncomingMessage, res: ServerResponse): void {
    const headers = { ...req.headers, host: o.runtimeApi };
    const up = original({ host: apiHost, port: apiPort, method: req.method, path: req.url, headers });
    up.on("response", (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    up.on("error", (error) => {
      o.log.error(`a held streamed answer could not be sent: ${error.message}`);
      res.destroy();
    });
    req.on("end", () => {
      if (req.rawTrailers.length > 0) up.addTrailers(req.trailers as Record<string, string>);
      up.end();
    });
    req.pipe(up, { end: false });
  }

  /** Created when a fault first changes a result (ready()): nothing of it on the runtime's init path. */
  const createSink = () => {
    const sink = http.createServer((req, res) => {
      settle(req, res).catch((error: Error) => {
        o.log.error(`streamed answer: ${error.message}`);
        res.destroy();
      });
    });
    // Neither the sink nor its connections may keep the runtime's event loop alive (callbackWaitsForEmptyEventLoop).
    sink.on("connection", (socket) => socket.unref());
    return sink;
  };
  let sink: http.Server | undefined;

  const original = http.request;
  function request(this: unknown, ...args: unknown[]) {
    const first = args[0] as { path?: unknown; port?: unknown } | undefined;
    if (
      o.rules.size > 0 &&
      sinkPort !== undefined &&
      typeof first === "object" &&
      first !== null &&
      !(first instanceof URL) &&
      String(first.port) === apiPort &&
      typeof first.path === "string"
    ) {
      const id = STREAMED_RESULT.exec(first.path)?.[1];
      if (id !== undefined && o.rules.has(decodeId(id))) {
        args[0] = { ...first, host: undefined, hostname: "127.0.0.1", port: sinkPort };
      }
    }
    return (original as (...a: unknown[]) => http.ClientRequest).apply(this, args);
  }
  http.request = request as typeof http.request;

  return {
    ready() {
      starting ??= new Promise<void>((resolve, reject) => {
        const server = createSink();
        sink = server;
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => {
          sinkPort = (server.address() as AddressInfo).port;
          server.unref();
          resolve();
        });
      }).catch((error: Error) => {
        o.log.once("ERROR", "sink", `streamed results cannot be replaced: ${error.message}`);
      });
      return starting;
    },
    close() {
      if (http.request === request) http.request = original;
      sink?.close();
    },
  };
}
