/**
 * The console's side of the API (docs/console.md, docs/security.md): same-origin browser requests pass the
 * guard, every other page is refused; the static files carry a same-origin-only CSP; the lab view and the
 * event stream. In-process (createApi) and over HTTP; the browser itself is driven in packages/console/test.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { S3Client } from "@aws-sdk/client-s3";
import { Engine } from "@faultline/engine";
import { type ApiRequest, createApi, type LabSnapshot, startApi } from "../src/index.ts";

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
