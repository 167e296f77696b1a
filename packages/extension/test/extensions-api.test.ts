import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import { after, describe, it } from "node:test";
import { ExtensionsApiError } from "../src/errors.ts";
import { ExtensionsApiClient } from "../src/extensions-api.ts";

const INVOKE = { eventType: "INVOKE", requestId: "r-1", invokedFunctionArn: "arn", deadlineMs: 1 };

/** A real node:http server playing the Extensions API; `answer` decides each call. */
async function fakeApi(answer: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void) {
  const connections: net.Socket[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => answer(req, res, body));
  });
  server.on("connection", (socket) => connections.push(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    connections,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** Answers register with an id and every event/next from `events`, in order. */
function scripted(events: ((res: http.ServerResponse) => void)[]) {
  const seen: { method?: string; url?: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
  const handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => {
    seen.push({ method: req.method, url: req.url, headers: req.headers, body });
    if (req.url === "/2020-01-01/extension/register") {
      res.writeHead(200, { "Lambda-Extension-Identifier": "ext-id", "Content-Type": "application/json" });
      res.end("{}");
      return;
    }
    const next = events.shift();
    if (next === undefined) res.destroy();
    else next(res);
  };
  return { seen, handler };
}

describe("ExtensionsApiClient (one kept-alive connection, event/next written as built once)", () => {
  const cleanup: (() => void)[] = [];
  after(() => {
    for (const fn of cleanup) fn();
  });

  it("registers, then reads events with Content-Length and chunked bodies, all on one connection", async () => {
    const { seen, handler } = scripted([
      (res) => res.end(JSON.stringify(INVOKE)), // node sets Content-Length
      (res) => {
        res.write('{"eventType":"INVOKE","requestId":"r-2",'); // no length: chunked
        res.end('"invokedFunctionArn":"arn","deadlineMs":2}');
      },
      (res) => res.end(JSON.stringify({ eventType: "SHUTDOWN", shutdownReason: "spindown", deadlineMs: 3 })),
    ]);
    const api = await fakeApi(handler);
    cleanup.push(api.close);
    const client = new ExtensionsApiClient(api.endpoint);
    await client.register("faultline", ["INVOKE", "SHUTDOWN"]);
    assert.deepEqual(await client.next(), INVOKE);
    assert.equal(((await client.next()) as { requestId: string }).requestId, "r-2");
    assert.equal((await client.next()).eventType, "SHUTDOWN");
    client.close();
    assert.deepEqual(seen[0]?.headers["lambda-extension-name"], "faultline");
    assert.deepEqual(JSON.parse(seen[0]?.body ?? ""), { events: ["INVOKE", "SHUTDOWN"] });
    assert.equal(seen[0]?.headers.host, api.endpoint);
    for (const call of seen.slice(1)) {
      assert.equal(call.method, "GET");
      assert.equal(call.url, "/2020-01-01/extension/event/next");
      assert.equal(call.headers["lambda-extension-identifier"], "ext-id");
    }
    assert.equal(api.connections.length, 1);
  });

  it("an answer arriving a byte at a time is read whole", async () => {
    const body = JSON.stringify(INVOKE);
    const answers = [
      "HTTP/1.1 200 OK\r\nLambda-Extension-Identifier: id-9\r\nContent-Length: 2\r\n\r\n{}",
      `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n${body.slice(0, 3)}\r\n${(body.length - 3).toString(16)}\r\n${body.slice(3)}\r\n0\r\n\r\n`,
    ];
    const server = net.createServer((socket) => {
      socket.on("data", async () => {
        for (const byte of Buffer.from(answers.shift() ?? "")) {
          socket.write(Buffer.of(byte));
          await new Promise((resolve) => setImmediate(resolve));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanup.push(() => server.close());
    const client = new ExtensionsApiClient(`127.0.0.1:${(server.address() as net.AddressInfo).port}`);
    await client.register("faultline", ["INVOKE"]);
    assert.deepEqual(await client.next(), INVOKE);
    client.close();
  });

  it("Connection: close is honoured: the next event/next goes on a new connection", async () => {
    const { handler } = scripted([
      (res) => {
        res.setHeader("Connection", "close");
        res.end(JSON.stringify(INVOKE));
      },
      (res) => res.end(JSON.stringify(INVOKE)),
    ]);
    const api = await fakeApi(handler);
    cleanup.push(api.close);
    const client = new ExtensionsApiClient(api.endpoint);
    await client.register("faultline", ["INVOKE"]);
    assert.deepEqual(await client.next(), INVOKE);
    assert.deepEqual(await client.next(), INVOKE);
    client.close();
    assert.equal(api.connections.length, 2);
  });

  it("errors as before: a refused register, a non-200 event/next, a dropped connection, close while parked", async () => {
    const refusing = await fakeApi((_req, res) => {
      res.writeHead(403, { "Content-Type": "application/json" });
      res.end('{"errorType":"Extension.Forbidden"}');
    });
    cleanup.push(refusing.close);
    await assert.rejects(new ExtensionsApiClient(refusing.endpoint).register("faultline", ["INVOKE"]), {
      name: "ExtensionsApiError",
      message: 'register answered 403: {"errorType":"Extension.Forbidden"}',
    });

    const { handler } = scripted([
      (res) => {
        res.writeHead(500);
        res.end("boom");
      },
      () => {}, // parked: answered never, then the connection drops (no more events)
    ]);
    const api = await fakeApi(handler);
    cleanup.push(api.close);
    const client = new ExtensionsApiClient(api.endpoint);
    await assert.rejects(client.next(), { message: "next before register" });
    await client.register("faultline", ["INVOKE"]);
    await assert.rejects(client.next(), { message: "event/next answered 500: boom" });
    const parked = client.next();
    await new Promise((resolve) => setTimeout(resolve, 20));
    for (const socket of api.connections) socket.destroy();
    await assert.rejects(parked, (error: Error) => {
      assert.ok(error instanceof ExtensionsApiError);
      assert.match(error.message, /^GET \/2020-01-01\/extension\/event\/next: /);
      return true;
    });

    const closing = client.next();
    client.close();
    await assert.rejects(closing, ExtensionsApiError);
  });
});
