import { EventEmitter, once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Moto, readyEnv } from "./moto.ts";

/**
 * What the proxy does with one request: pass it on, answer it never (`hang`: the request is swallowed),
 * pass it on and then never answer (`forward-then-hang`: S3 acted — the object exists — but the client
 * never hears back, the nastiest case for a stop), or `refuse` it at once with S3's 503 SlowDown.
 */
export type StallMode = "pass" | "hang" | "forward-then-hang" | "refuse";

export interface StalledRequest {
  method: string;
  path: string;
}

/**
 * A real HTTP server in front of a real S3 (moto_server) that stalls chosen requests: the "S3 upload that
 * never returns" of issue 9. `rule` is consulted per request and may be changed at any time.
 */
export class StallingS3 {
  readonly events = new EventEmitter<{ stalled: [StalledRequest] }>();
  rule: (r: StalledRequest) => StallMode = () => "pass";
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    private readonly upstream: URL,
  ) {
    server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
    });
    server.on("request", (req, res) => this.handle(req, res));
  }

  static async start(upstream: string): Promise<StallingS3> {
    const server = createServer();
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    return new StallingS3(server, new URL(upstream));
  }

  get endpoint(): string {
    const { port } = this.server.address() as { port: number };
    return `http://127.0.0.1:${port}`;
  }

  /** Resolves with the next request that stalls and matches `match`. */
  nextStall(match: (r: StalledRequest) => boolean = () => true): Promise<StalledRequest> {
    return new Promise((resolve) => {
      const on = (r: StalledRequest) => {
        if (!match(r)) return;
        this.events.off("stalled", on);
        resolve(r);
      };
      this.events.on("stalled", on);
    });
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const info = { method: req.method ?? "GET", path: req.url ?? "/" };
    const mode = this.rule(info);
    if (mode === "refuse") {
      req.resume();
      res.writeHead(503, { "content-type": "application/xml" });
      res.end(
        '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>',
      );
      this.events.emit("stalled", info);
      return;
    }
    if (mode === "hang") {
      req.resume();
      req.once("end", () => this.events.emit("stalled", info));
      return;
    }
    const up = request(
      {
        host: this.upstream.hostname,
        port: this.upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (upRes) => {
        if (mode === "forward-then-hang") {
          upRes.resume();
          upRes.once("end", () => this.events.emit("stalled", info));
          return;
        }
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on("error", () => res.destroy());
    req.pipe(up);
  }
}

/** The S3 operation of a path-style request: `PUT /bucket/key` with a body is PutObject, and so on. */
export const isPut = (r: StalledRequest) => r.method === "PUT" && r.path.split("/").length > 2;
export const isDelete = (r: StalledRequest) => r.method === "DELETE";

/** moto with a bucket and FIS-ready functions on the layer, StallingS3 in front of its S3, a scratch folder. */
export interface StallingMoto {
  moto: Moto;
  proxy: StallingS3;
  dir: string;
  close(): Promise<void>;
}

export async function stallingMoto(
  dirPrefix: string,
  bucket: string,
  functions: string[],
): Promise<StallingMoto> {
  const moto = await Moto.start();
  const dir = mkdtempSync(join(tmpdir(), dirPrefix));
  let proxy: StallingS3 | undefined;
  const close = async () => {
    await proxy?.close();
    await moto.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    proxy = await StallingS3.start(moto.endpoint);
    await moto.bucket(bucket);
    const layer = await moto.layer();
    for (const name of functions) {
      await moto.fn(name, { tags: { FISExperimentReady: "Yes" }, layer, env: readyEnv(bucket) });
    }
    return { moto, proxy, dir, close };
  } catch (error) {
    await close(); // a failed setup leaves no moto process behind
    throw error;
  }
}
