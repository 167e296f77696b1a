/** The lab's Lambda API: one HTTP server, one route table, one error renderer. */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { AccessDeniedError, LambdaApiError, UnknownOperationError } from "../errors.ts";
import { allowList, createGuardedServer, type GuardOptions, splitTarget } from "../http-guard.ts";
import type { LambdaApiContext } from "./context.ts";
import { renderError, requestIdOf } from "./http.ts";
import { compile, match, routes } from "./routes.ts";

export type { LambdaApiContext } from "./context.ts";
export { routes } from "./routes.ts";

const table = compile(routes);

export function createLambdaApiServer(ctx: LambdaApiContext, guard: GuardOptions = {}): Server {
  const server = createGuardedServer({
    name: "lambda",
    ...guard,
    async handle(req, res) {
      requestIdOf(res);
      const { pathname, query } = splitTarget(req.url);
      // Built from parts: `new URL("///", base)` throws on what a client can send.
      const url = new URL(`http://lambda.local${pathname.startsWith("/") ? "" : "/"}${pathname}`);
      url.search = query.toString();
      try {
        const found = match(table, req.method ?? "GET", url.pathname);
        if (!found) throw new UnknownOperationError(req.method ?? "", url.pathname);
        await found.route.handler(req, res, found.params, url, ctx);
      } catch (error) {
        req.resume();
        // A LambdaApiError is the caller's; anything else is a lab bug, rethrown to be logged and answered 500.
        if (!(error instanceof LambdaApiError)) throw error;
        renderError(res, error);
      }
    },
    refuse: (_req, res, refusal) => renderError(res, new AccessDeniedError(refusal.message)),
    fail: (_req, res, error) => renderError(res, error),
  });
  // Invocations may run up to 900 s: no request or keep-alive timeout shorter than that.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
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
  options: { host?: string; port?: number; allowedHosts?: readonly string[] } = {},
): Promise<RunningServer> {
  const host = options.host ?? "127.0.0.1";
  const server = createLambdaApiServer(ctx, { allowedHosts: allowList(host, options.allowedHosts) });
  return listen(server, host, options.port ?? 0);
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
