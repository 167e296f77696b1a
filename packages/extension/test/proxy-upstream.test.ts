import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { Logger, type Plan, systemClock } from "../src/index.ts";
import { type RuntimeApiProxy, startProxy } from "../src/proxy.ts";

const API = "/2018-06-01/runtime";

/**
 * The proxy's upstream side against a plain node:http stand-in for the Runtime API (a fake: this is about
 * connections and bytes, not Lambda's behaviour, which the lab acceptance tests cover).
 */
describe("runtime API proxy upstream", () => {
  let upstream: http.Server;
  let proxy: RuntimeApiProxy;
  let connections = 0;
  let served = 0;
  /** Every request the upstream saw, in order: `GET next` or `POST <id> <body>`. */
  const seen: string[] = [];

  before(async () => {
    upstream = http.createServer((req, res) => {
      const body: Buffer[] = [];
      req.on("data", (chunk: Buffer) => body.push(chunk));
      req.on("end", () => {
        if (req.url === `${API}/invocation/next`) {
          const id = `req-${++served}`;
          seen.push("GET next");
          const event = Buffer.from(JSON.stringify({ n: served }));
          res.writeHead(200, {
            "lambda-runtime-aws-request-id": id,
            "lambda-runtime-deadline-ms": String(Date.now() + 60_000),
            "lambda-runtime-invoked-function-arn": "arn:aws:lambda:us-east-1:123456789012:function:fn",
            "content-length": event.length,
          });
          res.end(event);
          return;
        }
        const id = /invocation\/([^/]+)\/response$/.exec(req.url ?? "")?.[1];
        seen.push(`POST ${id} ${Buffer.concat(body).toString()}`);
        res.writeHead(202, { "content-type": "application/json" });
        res.end('{"status":"OK"}');
      });
    });
    upstream.on("connection", () => connections++);
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    const port = (upstream.address() as AddressInfo).port;
    const passThrough: Plan = {};
    proxy = await startProxy(
      {
        upstream: `127.0.0.1:${port}`,
        plan: () => passThrough,
        clock: systemClock,
        log: new Logger({
          level: "ERROR",
          format: "text",
          metrics: false,
          functionName: "fn",
          clock: systemClock,
          write: () => undefined,
        }),
      },
      { preferred: 0 },
    );
  });
  after(async () => {
    await proxy.close();
    await new Promise((resolve) => upstream.close(resolve));
  });

  // The proxy names its one upstream pool itself (UpstreamAgent, against old-space growth): the pool must still
  // keep connections alive and reuse them, and every invocation must arrive once, in order, byte for byte.
  it("reuses kept-alive upstream connections across invocations; each one arrives once, in order", async () => {
    const runtime = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const invocations = 20;
    for (let i = 1; i <= invocations; i++) {
      const next = await call(runtime, proxy.port, "GET", `${API}/invocation/next`);
      assert.equal(next.status, 200);
      assert.deepEqual(JSON.parse(next.body), { n: i });
      const id = next.headers["lambda-runtime-aws-request-id"];
      assert.equal(id, `req-${i}`);
      const done = await call(runtime, proxy.port, "POST", `${API}/invocation/${id}/response`, `answer ${i}`);
      assert.equal(done.status, 202);
    }
    runtime.destroy();
    const expected = Array.from({ length: invocations }, (_, k) => [
      "GET next",
      `POST req-${k + 1} answer ${k + 1}`,
    ]).flat();
    assert.deepEqual(seen, expected);
    // `next` and the result are never in flight together here: one connection carries them all (two at most).
    assert.ok(connections <= 2, `${connections} upstream connections for ${invocations * 2} requests`);
  });
});

function call(agent: http.Agent, port: number, method: string, path: string, body?: string) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>(
    (resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port, method, path, agent }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      });
      req.on("error", reject);
      req.end(body);
    },
  );
}
