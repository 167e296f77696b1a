/** The lab's Lambda API: one HTTP server, one route table, one error renderer. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { UnknownOperationError } from "../errors.ts";
import type { LambdaApiContext } from "./context.ts";
import { renderError, requestIdOf } from "./http.ts";
import { compile, match, routes } from "./routes.ts";

export type { LambdaApiContext } from "./context.ts";
export { routes } from "./routes.ts";

const table = compile(routes);

export function createLambdaApiServer(ctx: LambdaApiContext): Server {
  const server = createServer((req, res) => {
    requestIdOf(res);
    const url = new URL(req.url ?? "/", "http://lambda.local");
    const found = match(table, req.method ?? "GET", url.pathname);
    if (!found) {
      req.resume();
      renderError(res, new UnknownOperationError(req.method ?? "", url.pathname));
      return;
    }
    Promise.resolve()
      .then(() => found.route.handler(req, res, found.params, url, ctx))
      .catch((error: unknown) => {
        req.resume();
        renderError(res, error);
      });
  });
  // Invocations may run up to 900 s: no request or keep-alive timeout shorter than that.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 60_000;
  return server;
}

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Listens on `host` (127.0.0.1 unless told otherwise) and `port` (0 = a free one). */
export async function startLambdaApi(
  ctx: LambdaApiContext,
  options: { host?: string; port?: number } = {},
): Promise<RunningServer> {
  const server = createLambdaApiServer(ctx);
  return listen(server, options.host ?? "127.0.0.1", options.port ?? 0);
}

export function listen(server: Server, host: string, port: number): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const address = server.address() as AddressInfo;
      const shownHost = host.includes(":") ? `[${host}]` : host;
      resolve({
        url: `http://${shownHost}:${address.port}`,
        port: address.port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
