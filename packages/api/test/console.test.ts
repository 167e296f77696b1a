/**
 * The console's side of the API (docs/console.md, docs/security.md): same-origin browser requests pass the
 * guard, every other page is refused; the static files carry a same-origin-only CSP; the lab view and the
 * event stream; hostile requests (traversal, rebinding, too many streams, a client that never reads). In-process
 * (createApi) and over HTTP; the browser itself is driven in packages/console/test.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { S3Client } from "@aws-sdk/client-s3";
import { Engine } from "@faultline/engine";
import { MAX_STREAMS } from "../src/console-events.ts";
import { type ApiRequest, createApi, type LabSnapshot, type RunningApi, startApi } from "../src/index.ts";

let dir: string;
let built: string;
let engine: Engine;
const offline = {
  region: "us-east-1",
  endpoint: "http://127.0.0.1:9",
  credentials: { accessKeyId: "a", secretAccessKey: "b" },
};

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "faultline-api-console-"));
  built = join(dir, "console");
  mkdirSync(join(built, "assets"), { recursive: true });
  writeFileSync(join(built, "index.html"), "<!doctype html><title>faultline console</title>");
  writeFileSync(join(built, "assets", "index-abc.js"), "console.log(1)");
  writeFileSync(join(dir, "secret.txt"), "not for the browser");
  // No AWS call is made here: list operations read the engine's own store.
  engine = await Engine.open({
    dataDir: ":memory:",
    lambda: new LambdaClient(offline),
    s3: new S3Client(offline),
    log: () => {},
  });
});
after(async () => {
  await engine?.close();
  rmSync(dir, { recursive: true, force: true });
});

const HOST = "127.0.0.1:4000";
const req = (method: string, url: string, headers: Record<string, string> = {}, body = ""): ApiRequest => ({
  method,
  url,
  headers: { host: HOST, ...headers },
  body: Buffer.from(body),
});
const json = { "content-type": "application/json" };

describe("browser requests: the console's own origin only", () => {
  test("same-origin fetches pass: GET (no Origin) and POST (Origin = this host)", async () => {
    const h = createApi(engine, { console: { dir: built } });
    const get = await h(req("GET", "/experimentTemplates", { "sec-fetch-site": "same-origin" }));
    assert.equal(get.status, 200);
    const post = await h(
      req(
        "POST",
        "/experimentTemplates",
        { ...json, "sec-fetch-site": "same-origin", origin: `http://${HOST}` },
        "{}",
      ),
    );
    // Reached the engine: its validation answers, not the guard.
    assert.equal(post.status, 400);
    assert.equal(post.headers["x-amzn-errortype"], "ValidationException");
  });

  test("every other page is refused: cross-site, same-site (another port), a foreign or null Origin", async () => {
    const h = createApi(engine, { console: { dir: built } });
    const cases: Record<string, string>[] = [
      { "sec-fetch-site": "cross-site" },
      { "sec-fetch-site": "same-site", origin: "http://127.0.0.1:5173" },
      { "sec-fetch-site": "same-origin", origin: "http://127.0.0.1:5173" },
      { origin: "http://evil.example" },
      { origin: "null" },
    ];
    for (const headers of cases) {
      const r = await h(req("DELETE", "/experiments/EXP1", headers));
      assert.equal(r.status, 403, JSON.stringify(headers));
      assert.equal(r.headers["x-amzn-errortype"], "AccessDeniedException");
    }
    const events = await h(req("GET", "/console/api/lab", { "sec-fetch-site": "cross-site" }));
    assert.equal(events.status, 403, "the console's data is not for other pages");
  });

  test("console: false keeps the API closed to every browser request", async () => {
    const h = createApi(engine, { console: false });
    const r = await h(req("GET", "/experimentTemplates", { "sec-fetch-site": "same-origin" }));
    assert.equal(r.status, 403);
    assert.equal((await h(req("GET", "/console/"))).status, 404);
  });
});

describe("the console's files and helpers", () => {
  test("index.html and hashed assets with a same-origin CSP; /console redirects; nothing else is served", async () => {
    const h = createApi(engine, { console: { dir: built } });
    const redirect = await h(req("GET", "/console"));
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.location, "/console/");
    // A navigation from elsewhere (a link) may load the page: it carries no data, and no page may frame it.
    const page = await h(
      req("GET", "/console/", { "sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate" }),
    );
    assert.equal(page.status, 200);
    assert.match(page.headers["content-type"]!, /^text\/html/);
    const csp = page.headers["content-security-policy"]!;
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /connect-src/, "connect-src falls back to 'self'");
    assert.equal(page.headers["cache-control"], "no-cache");
    const asset = await h(req("GET", "/console/assets/index-abc.js"));
    assert.equal(asset.status, 200);
    assert.match(asset.headers["content-type"]!, /^text\/javascript/);
    assert.match(asset.headers["cache-control"]!, /immutable/);
    for (const path of [
      "/console/../secret.txt",
      "/console/assets/../../secret.txt",
      "/console/secret.txt",
    ]) {
      assert.equal((await h(req("GET", path))).status, 404, path);
    }
    assert.equal((await h(req("POST", "/console/", json, "{}"))).status, 405);
  });

  test("not built yet: 503 saying how to build it", async () => {
    const h = createApi(engine, { console: { dir: join(dir, "missing") } });
    const r = await h(req("GET", "/console/"));
    assert.equal(r.status, 503);
    assert.match(String(r.body), /npm run build -w @faultline\/console/);
  });

  test("the lab view: 404 outside the lab, the snapshot in it", async () => {
    const none = createApi(engine, { console: { dir: built } });
    assert.equal((await none(req("GET", "/console/api/lab"))).status, 404);
    const snapshot: LabSnapshot = {
      functions: [
        {
          name: "hello",
          arn: "arn:aws:lambda:us-east-1:1:function:hello",
          runtime: "nodejs20.x",
          tags: {},
          environments: 1,
          busy: 0,
          idle: 1,
          created: 1,
        },
      ],
      invocations: [],
    };
    const lab = createApi(engine, { console: { dir: built, lab: { snapshot: () => snapshot } } });
    const r = await lab(req("GET", "/console/api/lab", { "sec-fetch-site": "same-origin" }));
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(String(r.body)), snapshot);
  });

  test("the event stream over HTTP: same-origin gets text/event-stream; a foreign page 403; unknown id 404", async () => {
    const api = await startApi(engine, { console: { dir: built } });
    try {
      const host = new URL(api.url).host;
      const ok = new AbortController();
      const stream = await fetch(`${api.url}/console/api/events`, {
        headers: { "sec-fetch-site": "same-origin" },
        signal: ok.signal,
      });
      assert.equal(stream.status, 200);
      assert.match(stream.headers.get("content-type")!, /^text\/event-stream/);
      const first = await stream.body!.getReader().read();
      assert.match(new TextDecoder().decode(first.value), /^: connected/);
      ok.abort();
      const foreign = await fetch(`${api.url}/console/api/events`, {
        headers: { "sec-fetch-site": "same-site", origin: `http://${host.replace(/:\d+$/, ":1")}` },
      });
      assert.equal(foreign.status, 403);
      const unknown = await fetch(`${api.url}/console/api/events?experimentId=EXPnope`);
      assert.equal(unknown.status, 404);
      assert.equal(unknown.headers.get("x-amzn-errortype"), "ResourceNotFoundException");
    } finally {
      await api.close();
    }
  });
});

// Hostile requests, over real HTTP on raw sockets (no client normalises the path): path traversal in any
// spelling, rebinding Host headers, more event streams than the cap, a stream client that never reads. Every
// answer is a clean 4xx (never the file, never a 500), and the server keeps serving.

const SECRET = "not for the browser";
let api: RunningApi;
/** Bytes a stream may owe one client before it is dropped, small here so the test fills it quickly. */
const MAX_BUFFERED = 64 * 1024;

/** Sends `target` exactly as written (no URL parsing on the way) and returns the socket. */
function rawGet(target: string, headers: Record<string, string> = {}): Socket {
  const socket = connect(api.port, "127.0.0.1");
  const lines = Object.entries({ host: `127.0.0.1:${api.port}`, ...headers }).map(([k, v]) => `${k}: ${v}`);
  socket.write(`GET ${target} HTTP/1.1\r\n${lines.join("\r\n")}\r\n\r\n`);
  return socket;
}

/** The whole answer of a request that is not a stream (the server closes or the body is complete). */
async function answer(target: string, headers: Record<string, string> = {}) {
  const socket = rawGet(target, { connection: "close", ...headers });
  let text = "";
  socket.setEncoding("utf8").on("data", (c: string) => {
    text += c;
  });
  await once(socket, "close");
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]), text };
}

/** The status line of a stream's answer (the stream itself stays open). */
async function streamStatus(socket: Socket): Promise<number> {
  const [chunk] = (await once(socket, "data")) as [Buffer];
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(chunk.toString())?.[1]);
}

/** Resolves once the server has seen every stream close (each open stream listens on the engine's bus). */
async function streamsClosed(): Promise<void> {
  while (engine.events.listenerCount("report") > 0) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe("hostile requests against the console", () => {
  before(async () => {
    writeFileSync(join(built, ".env"), SECRET);
    api = await startApi(engine, { console: { dir: built, streams: { maxBufferedBytes: MAX_BUFFERED } } });
  });
  after(() => api?.close());

  describe("the console's static files: no path leaves its folder", () => {
    test("dot segments, encoded dots and slashes, absolute and odd spellings: 4xx, never the file", async () => {
      const targets = [
        "/console/../secret.txt",
        "/console/assets/../../secret.txt",
        "/console/%2e%2e/secret.txt",
        "/console/%2E%2E%2Fsecret.txt",
        "/console/assets/%2e%2e%2f%2e%2e%2fsecret.txt",
        "/console/assets/..%2f..%2fsecret.txt",
        "/console/assets/..",
        "/console/assets/.",
        "/console/assets/.env",
        "/console/.env",
        "/console/assets",
        "/console/assets/",
        "/console//secret.txt",
        `/console/${dir}/secret.txt`,
        "/console/assets/..\\..\\secret.txt",
        "/console/assets/index-abc.js%00.html",
        "/console/index.html/",
        `http://127.0.0.1:${api.port}/console/../secret.txt`,
        "//console/../../secret.txt",
      ];
      for (const target of targets) {
        const r = await answer(target);
        assert.ok(r.status >= 400 && r.status < 500, `${target}: ${r.status}`);
        assert.ok(!r.text.includes(SECRET), `${target} served the secret`);
      }
      // And the real files still are.
      assert.equal((await answer("/console/assets/index-abc.js")).status, 200);
    });
  });

  describe("Host and Origin: rebinding and other pages", () => {
    test("a rebinding Host is refused on the page, its assets and the event stream; loopback names pass", async () => {
      for (const host of ["evil.example", "127.0.0.1.nip.io", "localhost.evil.example:80", "127.0.0.2"]) {
        for (const target of ["/console/", "/console/assets/index-abc.js", "/console/api/events"]) {
          const r = await answer(target, { host });
          assert.equal(r.status, 403, `${host} ${target}`);
        }
      }
      for (const host of ["localhost", `LOCALHOST:${api.port}`, `[::1]:${api.port}`]) {
        assert.equal((await answer("/console/", { host })).status, 200, host);
      }
    });

    test("the event stream refuses any other page's origin (null, another port, another site)", async () => {
      const origins = ["null", "http://127.0.0.1:1", "http://evil.example", `https://127.0.0.1:${api.port}`];
      for (const origin of origins) {
        assert.equal((await answer("/console/api/events", { origin })).status, 403, origin);
      }
      const crossSite = await answer("/console/api/events", { "sec-fetch-site": "cross-site" });
      assert.equal(crossSite.status, 403);
    });
  });

  describe("the event stream's bounds", () => {
    test(`at most ${MAX_STREAMS} streams at once: beyond, 429 with Retry-After; a closed one frees its place`, async () => {
      const open: Socket[] = [];
      try {
        for (let i = 0; i < MAX_STREAMS; i++) {
          const s = rawGet("/console/api/events");
          open.push(s);
          assert.equal(await streamStatus(s), 200, `stream ${i + 1}`);
        }
        const refused = await answer("/console/api/events");
        assert.equal(refused.status, 429);
        assert.match(refused.text, /retry-after: 5/i);
        assert.match(refused.text, /ThrottlingException/);
        // Other requests are not held up by the open streams.
        assert.equal((await answer("/experimentTemplates")).status, 200);
        const closed = open.pop()!;
        closed.destroy();
        // The server learns of the close asynchronously: the next streams are refused until it has.
        const deadline = Date.now() + 5000;
        let status = 429;
        while (status === 429 && Date.now() < deadline) {
          const s = rawGet("/console/api/events");
          status = await streamStatus(s);
          if (status === 200) open.push(s);
          else s.destroy();
        }
        assert.equal(status, 200);
      } finally {
        for (const s of open) s.destroy();
        await streamsClosed();
      }
    });

    test("a client that never reads is dropped once its backlog passes the bound; its listeners go with it", async () => {
      const template = await engine.createExperimentTemplate({
        clientToken: "slow-reader",
        description: "slow reader",
        roleArn: "arn:aws:iam::123456789012:role/faultline",
        stopConditions: [{ source: "none" }],
        targets: {
          F: {
            resourceType: "aws:lambda:function",
            resourceArns: ["arn:aws:lambda:us-east-1:123456789012:function:f"],
            selectionMode: "ALL",
          },
        },
        actions: {
          a: {
            actionId: "aws:lambda:invocation-add-delay",
            parameters: { duration: "PT1S" },
            targets: { Functions: "F" },
          },
        },
      } as never);
      const experiment = await engine.startExperiment({
        clientToken: "slow",
        experimentTemplateId: template.id,
      } as never);
      const listeners = engine.events.listenerCount("report");
      const socket = rawGet("/console/api/events");
      try {
        assert.equal(await streamStatus(socket), 200);
        socket.pause(); // from here on, nothing is read: the kernel's buffers fill, then the server's
        assert.equal(engine.events.listenerCount("report"), listeners + 1);
        // Every report event re-sends the experiment (~1 KB) to every stream: a busy engine, compressed.
        let sent = 0;
        while (engine.events.listenerCount("report") > listeners && sent < 200_000) {
          for (let i = 0; i < 200; i++, sent++) {
            engine.events.emit("report", {
              experimentId: experiment.id,
              experimentReport: { state: { status: "running", reason: "" }, s3Reports: [] },
            } as never);
          }
          await new Promise((resolve) => setImmediate(resolve)); // let the socket flush, or fail to
        }
        assert.equal(
          engine.events.listenerCount("report"),
          listeners,
          `still listening after ${sent} events`,
        );
      } finally {
        socket.destroy();
      }
      // The API serves on.
      assert.equal((await answer("/console/")).status, 200);
    });
  });
});
