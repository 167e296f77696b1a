import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Outcome } from "../faults/index.ts";
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
 * streamed result that a fault replaces is re-pointed at a loopback sink in this process, which drains it and
 * posts the replacement. `http.request` is wrapped at preload time because aws-lambda-ric 4.x captures it when
 * its module loads (3.x looks it up per call); while no replacement is pending the wrapper only checks a size.
 */
export function interceptStreamedResults(o: {
  /** host:port of the Runtime API the runtime client talks to. */
  runtimeApi: string;
  replacements: Map<string, Outcome>;
  post(requestId: string, outcome: Outcome): void;
  log: Pick<Logger, "once">;
}): StreamedResults {
  const apiPort = o.runtimeApi.slice(o.runtimeApi.lastIndexOf(":") + 1);
  let sinkPort: number | undefined;
  let starting: Promise<void> | undefined;

  /** Created when a fault first replaces a result (ready()): nothing of it on the runtime's init path. */
  const createSink = () => {
    const sink = http.createServer((req, res) => {
      const id = decodeId(STREAMED_RESULT.exec(req.url ?? "")?.[1] ?? "");
      req.resume();
      req.on("end", () => {
        const outcome = o.replacements.get(id);
        if (outcome !== undefined) {
          o.replacements.delete(id);
          o.post(id, outcome);
        }
        res.writeHead(202, { "content-type": "application/json", connection: "close" });
        res.end('{"status":"OK"}');
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
      o.replacements.size > 0 &&
      sinkPort !== undefined &&
      typeof first === "object" &&
      first !== null &&
      !(first instanceof URL) &&
      String(first.port) === apiPort &&
      typeof first.path === "string"
    ) {
      const id = STREAMED_RESULT.exec(first.path)?.[1];
      if (id !== undefined && o.replacements.has(decodeId(id))) {
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
