import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { S3ObjectStore } from "../src/index.ts";
import { CREDENTIALS } from "./helpers/s3.ts";

// The S3 client's own HTTP/1.1 over plain and TLS sockets (src/http1.ts): what node:http did for it before —
// TLS with the system's trust (plus NODE_EXTRA_CA_CERTS), kept-alive connections, every answer framing.

const TLS_DIR = fileURLToPath(new URL("./fixtures/tls/", import.meta.url));
const STORE_MODULE = fileURLToPath(new URL("../src/s3.ts", import.meta.url));
const EMPTY_LISTING =
  '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>';
const ONE_KEY_LISTING =
  '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>fis/a.json</Key><ETag>"e1"</ETag><Size>2</Size><LastModified>2026-12-02T07:00:00.000Z</LastModified></Contents></ListBucketResult>';

function storeFor(endpoint: string) {
  return new S3ObjectStore("faults", { endpoint, region: "us-east-1", ...CREDENTIALS }, { timeoutMs: 3000 });
}

describe("S3 over TLS (https endpoints, as S3 itself)", () => {
  let server: https.Server;
  let endpoint: string;
  const seen: http.IncomingHttpHeaders[] = [];
  before(async () => {
    server = https.createServer(
      { key: readFileSync(`${TLS_DIR}localhost.key`), cert: readFileSync(`${TLS_DIR}localhost.crt`) },
      (req, res) => {
        seen.push(req.headers);
        res.writeHead(200, { "content-type": "application/xml" }).end(ONE_KEY_LISTING);
      },
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    endpoint = `https://localhost:${(server.address() as net.AddressInfo).port}`;
  });
  after(() => server.close());

  /** Lists in a child process: NODE_EXTRA_CA_CERTS is read only when node starts. */
  async function listInChild(extraCa: string | undefined): Promise<string> {
    // The store's sockets and timers are unref'd (a poll never keeps a runtime alive): the interval keeps this one.
    const script = `const keep = setInterval(() => {}, 1000);
    import(${JSON.stringify(STORE_MODULE)}).then(async ({ S3ObjectStore }) => {
      const store = new S3ObjectStore("faults", { endpoint: ${JSON.stringify(endpoint)}, region: "us-east-1", accessKeyId: "AK", secretAccessKey: "SK" });
      try { console.log(JSON.stringify(await store.list("fis/"))); } catch (e) { console.log("ERROR " + e.message); }
      store.close();
      clearInterval(keep);
    });`;
    const env = { ...process.env, NODE_EXTRA_CA_CERTS: extraCa };
    if (extraCa === undefined) delete env.NODE_EXTRA_CA_CERTS;
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "-e", script], {
      env,
    });
    return stdout.trim();
  }

  it("lists through a certificate the process trusts (NODE_EXTRA_CA_CERTS), signed, with the endpoint's Host", async () => {
    const out = await listInChild(`${TLS_DIR}localhost.crt`);
    assert.deepEqual(JSON.parse(out), [
      { key: "fis/a.json", etag: '"e1"', size: 2, lastModified: "2026-12-02T07:00:00.000Z" },
    ]);
    const headers = seen.at(-1);
    assert.equal(headers?.host, endpoint.slice("https://".length));
    assert.match(
      String(headers?.authorization),
      /^AWS4-HMAC-SHA256 Credential=AK\/\d{8}\/us-east-1\/s3\/aws4_request/,
    );
  });

  it("refuses a certificate it does not trust: a StoreError naming the TLS failure (fail open upstream)", async () => {
    const out = await listInChild(undefined);
    assert.match(out, /^ERROR error when calling ListObjectsV2 on S3: .*(SELF_SIGNED|self-signed|verify)/i);
  });
});

describe("S3 over kept-alive plain connections", () => {
  let server: http.Server;
  let store: S3ObjectStore;
  let connections = 0;
  before(async () => {
    server = http.createServer((req, res) => {
      if (req.url?.includes("list-type=2")) res.writeHead(200).end(EMPTY_LISTING);
      else if (req.headers["if-none-match"] === '"m1"') res.writeHead(304).end();
      else res.writeHead(200, { etag: '"m1"' }).end("{}");
    });
    server.on("connection", () => connections++);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    store = storeFor(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`);
  });
  after(() => {
    store.close();
    server.close();
  });

  it("reuses one connection for calls one after another (304s included)", async () => {
    const before = connections;
    await store.list("fis/");
    assert.deepEqual(await store.etagIfChanged("fis/m", undefined), { kind: "changed", etag: '"m1"' });
    assert.deepEqual(await store.etagIfChanged("fis/m", '"m1"'), { kind: "unchanged" });
    await store.list("fis/");
    assert.equal(connections - before, 1);
  });

  it("a kept-alive connection the server closed meanwhile (a frozen environment) costs nothing: a new one", async () => {
    await store.list("fis/");
    const before = connections;
    server.closeAllConnections();
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(await store.list("fis/"), []);
    assert.equal(connections - before, 1);
  });
});

describe("S3 answers in every HTTP/1.1 framing", () => {
  const cases: Record<string, (socket: net.Socket) => void> = {
    "Content-Length": (s) =>
      s.end(`HTTP/1.1 200 OK\r\nContent-Length: ${ONE_KEY_LISTING.length}\r\n\r\n${ONE_KEY_LISTING}`),
    chunked: (s) => {
      const [a, b] = [ONE_KEY_LISTING.slice(0, 50), ONE_KEY_LISTING.slice(50)];
      s.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
      s.write(`${a.length.toString(16)}\r\n${a}\r\n`);
      setTimeout(() => s.end(`${b.length.toString(16)}\r\n${b}\r\n0\r\n\r\n`), 20);
    },
    "the end of the connection": (s) => {
      s.write(`HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n${ONE_KEY_LISTING.slice(0, 60)}`);
      setTimeout(() => s.end(ONE_KEY_LISTING.slice(60)), 20);
    },
  };
  for (const [framing, answer] of Object.entries(cases)) {
    it(`a listing delimited by ${framing}`, async () => {
      const server = net.createServer((socket) => socket.once("data", () => answer(socket)));
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const store = storeFor(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`);
      try {
        const keys = await store.list("fis/");
        assert.deepEqual(
          keys.map((k) => k.key),
          ["fis/a.json"],
        );
      } finally {
        store.close();
        server.close();
      }
    });
  }

  it("a connection that ends mid-answer is an error, not a short listing", async () => {
    const server = net.createServer((socket) =>
      socket.once("data", () =>
        socket.end(`HTTP/1.1 200 OK\r\nContent-Length: 9999\r\n\r\n<ListBucketResult>`),
      ),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const store = storeFor(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`);
    try {
      await assert.rejects(store.list("fis/"), /error when calling ListObjectsV2 on S3: socket hang up/);
    } finally {
      store.close();
      server.close();
    }
  });
});
