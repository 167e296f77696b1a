/**
 * The web console on the API's own port (docs/console.md): its static files under /console/, and the few
 * read-only helpers it needs besides FIS's operations (live events, per-second metrics, the lab's view).
 * Route table, top to bottom; every request first passes the API's guard (server.ts).
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { extname, join } from "node:path";
import { type Engine, ResourceNotFoundException } from "@faultline/engine";
import type { MetricSource } from "@faultline/report";
import type { StreamLimits } from "./console-events.ts";
import { experimentMetrics } from "./console-metrics.ts";
import type { LabSnapshot } from "./console-types.ts";
import { HttpError } from "./errors.ts";
import { type ApiResponse, ok } from "./render.ts";

/** What `faultline up` tells the console about its lab (the API never imports the lab). */
export interface LabView {
  snapshot(): LabSnapshot;
}

export interface ConsoleOptions {
  /** The built console (index.html + assets/). Default: the api package's `console/` folder. */
  dir?: string;
  /** Where per-second metrics of an experiment's targets are read (the engine's CloudWatch). */
  metrics?: MetricSource;
  /** Present when the console runs in the lab (`faultline up`). */
  lab?: LabView;
  /** Bounds of the event stream (console-events.ts): open streams, bytes buffered for a slow reader. */
  streams?: StreamLimits;
}

export const CONSOLE_PREFIX = "/console";
export const EVENTS_PATH = "/console/api/events";
const DEFAULT_DIR = join(import.meta.dirname, "..", "console");

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
};

/**
 * The console may talk to its own origin only (the CSP enforces what the e2e test asserts); no page may frame
 * it (clickjacking a Stop or Engage button).
 */
const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

/** True for every path the console owns. */
export function isConsolePath(pathname: string): boolean {
  return pathname === CONSOLE_PREFIX || pathname.startsWith(`${CONSOLE_PREFIX}/`);
}

/** True for the console's static files: the same bytes for anyone, so browser navigations may load them. */
export function isConsoleAsset(pathname: string): boolean {
  return isConsolePath(pathname) && !pathname.startsWith(`${CONSOLE_PREFIX}/api/`);
}

export async function serveConsole(
  engine: Engine,
  options: ConsoleOptions,
  method: string,
  pathname: string,
): Promise<ApiResponse> {
  if (method !== "GET" && method !== "HEAD")
    throw new HttpError(405, "MethodNotAllowedException", `${method} is not allowed on ${pathname}`);
  if (pathname === CONSOLE_PREFIX) {
    return { status: 301, headers: { location: `${CONSOLE_PREFIX}/`, ...SECURITY_HEADERS }, body: "" };
  }
  const metrics = /^\/console\/api\/experiments\/([^/]+)\/metrics$/.exec(pathname);
  if (metrics) {
    if (!options.metrics) throw new ResourceNotFoundException("This API has no metric source.");
    const id = decodeURIComponent(metrics[1]!);
    return ok(await experimentMetrics(engine, options.metrics, id, Date.now()));
  }
  if (pathname === "/console/api/lab") {
    if (!options.lab) throw new ResourceNotFoundException("Not running in the lab (faultline up).");
    return ok(options.lab.snapshot());
  }
  if (pathname.startsWith("/console/api/"))
    throw new HttpError(404, "UnknownOperationException", `No console operation matches ${pathname}`);
  return staticFile(options.dir ?? DEFAULT_DIR, pathname.slice(CONSOLE_PREFIX.length + 1));
}

function staticFile(dir: string, name: string): ApiResponse {
  const file = name === "" ? "index.html" : name;
  // Hash routing: the only files are index.html and assets/<hashed name>; nothing else is reachable (the name
  // is taken raw: no %-decoding, no dot segments, no name starting with a dot).
  if (file !== "index.html" && file !== "favicon.svg" && !/^assets\/\w[\w.-]*$/.test(file))
    throw new HttpError(404, "NotFoundException", `No console file ${name}`);
  const path = join(dir, file);
  if (!existsSync(path) || !statSync(path).isFile()) {
    if (file === "index.html") return notBuilt(dir);
    throw new HttpError(404, "NotFoundException", `No console file ${name}`);
  }
  return {
    status: 200,
    headers: {
      "content-type": TYPES[extname(file)] ?? "application/octet-stream",
      // Asset names carry a content hash; index.html must always be fresh.
      "cache-control": file.startsWith("assets/") ? "public, max-age=31536000, immutable" : "no-cache",
      ...SECURITY_HEADERS,
    },
    body: readFileSync(path),
  };
}

function notBuilt(dir: string): ApiResponse {
  return {
    status: 503,
    headers: { "content-type": "text/plain; charset=utf-8", ...SECURITY_HEADERS },
    body: `The faultline console is not built (${dir} is missing).\nRun: npm run build -w @faultline/console\n`,
  };
}
