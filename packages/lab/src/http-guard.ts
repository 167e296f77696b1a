/**
 * What every lab server does before and around its handler, in one place:
 * - refuses requests a web page could make (DNS rebinding through a foreign `Host`, cross-origin requests marked by
 *   `Origin` / `Sec-Fetch-Site`), so a page the user visits cannot invoke functions, read their configuration or
 *   write fault objects (the FIS API applies the same rules: packages/api/src/server.ts);
 * - turns a handler's bug (a throw or a rejected promise) into a 500 for that request alone, logged once, so no
 *   request can take the process down.
 * Each server renders refusals and failures in its own service's error shape.
 */
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from "node:http";

export interface GuardOptions {
  /**
   * `Host` names accepted besides loopback ones (`localhost`, `*.localhost`, `127.x.x.x`, `[::1]`) and the address
   * the server listens on. Compared without the port, case-insensitively.
   */
  allowedHosts?: readonly string[];
  /**
   * `refuse` (default): requests carrying `Origin` or a `Sec-Fetch-Site` other than `none` are refused — SDKs and
   * the AWS CLI never send them. `allow`: for servers web apps may call (the API Gateway fronts); the Host check
   * still applies.
   */
  browsers?: "refuse" | "allow";
}

export type Refusal = { kind: "browser" | "host"; message: string };

const LOOPBACK = /^(localhost|.+\.localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])$/;

/** The host name of a `Host` header value, lowercased, without the port (IPv6 literals keep their brackets). */
export function hostName(value: string): string {
  const name = value.trim().toLowerCase();
  if (name.startsWith("[")) return name.slice(0, name.indexOf("]") + 1);
  const colon = name.lastIndexOf(":");
  // Only digits make a port: `127.0.0.1:80@evil` is a name that is not loopback, not 127.0.0.1.
  return colon < 0 || !/^\d*$/.test(name.slice(colon + 1)) ? name : name.slice(0, colon);
}

/** The guard's allow-list for a server bound to `listenHost`: loopback names, that address, and `allowedHosts`. */
export function allowList(listenHost: string, allowedHosts: readonly string[] = []): string[] {
  const bound = listenHost.includes(":") && !listenHost.startsWith("[") ? `[${listenHost}]` : listenHost;
  return [bound, ...allowedHosts].map(hostName);
}

/** Why a request must be refused, or undefined when it may go on. */
export function refusalOf(req: IncomingMessage, options: GuardOptions): Refusal | undefined {
  const header = (name: string) => {
    const v = req.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  if ((options.browsers ?? "refuse") === "refuse") {
    // Browsers send Origin on cross-origin and non-GET requests, and Sec-Fetch-Site on every request.
    if (header("origin") !== undefined || (header("sec-fetch-site") ?? "none") !== "none") {
      return { kind: "browser", message: "Requests from web pages are refused by the faultline lab" };
    }
  }
  const host = header("host");
  // HTTP/1.0 clients may send no Host: nothing a page can do produces that.
  if (host === undefined) return undefined;
  const name = hostName(host);
  if (LOOPBACK.test(name) || (options.allowedHosts ?? []).some((h) => hostName(h) === name)) return undefined;
  return {
    kind: "host",
    message: `Host ${JSON.stringify(host.slice(0, 200))} is not accepted by the faultline lab (add it to allowedHosts to serve it)`,
  };
}

/** How one server answers what the guard refuses and what its handler failed at, in its service's shape. */
export interface GuardedServerSpec extends GuardOptions {
  /** Names the server in logs, e.g. "lambda". */
  name: string;
  handle(req: IncomingMessage, res: ServerResponse): void | Promise<void>;
  refuse(req: IncomingMessage, res: ServerResponse, refusal: Refusal): void;
  /** Renders a 500 for an unexpected error; only called while no header has been sent. */
  fail(req: IncomingMessage, res: ServerResponse, error: unknown): void;
  /** Where handler bugs are reported (default: stderr). */
  log?: (message: string) => void;
}

/** The request listener every lab server uses: guard, then the handler, with its failures contained. */
export function guardedListener(spec: GuardedServerSpec): RequestListener {
  const log = spec.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const failed = (req: IncomingMessage, res: ServerResponse, error: unknown) => {
    log(
      `faultline lab ${spec.name}: ${req.method} ${String(req.url).slice(0, 200)} failed: ${describe(error)}`,
    );
    contain(req, res, () => {
      if (res.headersSent) res.destroy();
      else spec.fail(req, res, error);
    });
  };
  return (req, res) => {
    const refusal = refusalOf(req, spec);
    if (refusal) {
      // The body is not read: answer and close rather than drain whatever a page sends.
      res.setHeader("connection", "close");
      contain(req, res, () => spec.refuse(req, res, refusal));
      req.resume();
      return;
    }
    try {
      const pending = spec.handle(req, res);
      if (pending) pending.catch((error: unknown) => failed(req, res, error));
    } catch (error) {
      failed(req, res, error);
    }
  };
}

/**
 * `createServer` with `guardedListener`. Idle keep-alive connections live 60 s, not Node's 5 s: a client that sends
 * its next request just as a 5 s idle socket closes gets ECONNRESET, which one-attempt clients do not retry (AWS
 * endpoints keep idle connections far longer; the docs give no figure).
 */
export function createGuardedServer(spec: GuardedServerSpec): Server {
  const server = createServer(guardedListener(spec));
  server.keepAliveTimeout = 60_000;
  return server;
}

/**
 * Puts the guard in front of a server built elsewhere (dynalite): its request listeners run only for requests the
 * guard lets through, and their throws are contained.
 */
export function guardServer(server: Server, spec: Omit<GuardedServerSpec, "handle">): void {
  const listeners = server.listeners("request") as RequestListener[];
  server.removeAllListeners("request");
  server.on(
    "request",
    guardedListener({
      ...spec,
      handle: (req, res) => {
        for (const listener of listeners) listener.call(server, req, res);
      },
    }),
  );
}

/** Path and query of a request target, without ever throwing (`new URL("///", base)` does). */
export function splitTarget(target: string | undefined): { pathname: string; query: URLSearchParams } {
  const raw = target ?? "/";
  const q = raw.indexOf("?");
  // An absolute-form target (`GET http://host/path`) is legal HTTP: keep its path.
  let pathname = q < 0 ? raw : raw.slice(0, q);
  const absolute = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i.exec(pathname);
  if (absolute) pathname = pathname.slice(absolute[0].length) || "/";
  return { pathname, query: new URLSearchParams(q < 0 ? "" : raw.slice(q + 1)) };
}

/** `decodeURIComponent`, or undefined for a malformed escape (`%E0%A4`, `%zz`). */
export function tryDecode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function contain(req: IncomingMessage, res: ServerResponse, render: () => void): void {
  try {
    render();
  } catch {
    // The renderer itself failed: drop this connection, keep the server.
    req.destroy();
    res.destroy();
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
